"""What the runtime guard reports: a rule seen on real tensors, with the source of both ends."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Location:
    """A place in user code: absolute path, 1-based line and column (from the frame's
    instruction positions), and the enclosing function's name."""

    path: str
    line: int
    column: int
    function: str = ""


@dataclass
class RuntimeFinding:
    """One rule seen at run time, deduplicated by (code, sink, producer) and counted.

    `observed` holds what the guard measured on the values at the sink (plain JSON data:
    numbers, booleans, strings), e.g. {"dtype": "float32", "saturated": 12, "numel": 64,
    "max_abs_logit": 23.1, "hit_bce_clamp": True}. `ranks` lists the distributed ranks that
    saw it (empty outside torch.distributed); `test` is the pytest node id that first
    triggered it, when run under the pytest plugin.
    """

    code: str
    message: str
    sink: Location
    producer: Location | None
    observed: dict = field(default_factory=dict)
    count: int = 1
    ranks: tuple[int, ...] = ()
    test: str | None = None

    @property
    def key(self) -> tuple:
        return (self.code, self.sink, self.producer)
