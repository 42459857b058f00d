"""What the analysis models of the torch API, as a Markdown page written from torch_api's tables
(docs/torch-api.md; `python scripts/generate_api_page.py`, checked by tests/test_docs.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from nanlint.analysis import torch_api as api
from nanlint.analysis.values import StepRole

HEADER = """\
# What nanlint models of the torch API

Generated from `src/nanlint/analysis/torch_api.py` by `python scripts/generate_api_page.py`
(a test fails when it is stale). Anything not listed here is unknown to the analysis, which
then stays silent: an unknown value is assumed to be logits and never flagged.
"""


def _names(names: Iterable[str]) -> str:
    return ", ".join(f"`{name}`" for name in sorted(set(names)))


def _producers() -> list[str]:
    by_kind: dict[str, list[str]] = defaultdict(list)
    for name, producer in api.PRODUCER_FUNCTIONS.items():
        by_kind[producer.kind.value].append(name)
    for name, producer in api.PRODUCER_METHODS.items():
        by_kind[producer.kind.value].append(f"Tensor.{name}")
    for name, producer in api.ACTIVATION_MODULES.items():
        by_kind[producer.kind.value].append(name)
    rows = [f"| `{kind}` | {_names(names)} |" for kind, names in sorted(by_kind.items())]
    inexact = [
        name
        for table in (api.PRODUCER_FUNCTIONS, api.ACTIVATION_MODULES)
        for name, producer in table.items()
        if not producer.exact
    ]
    fixed = [name for name, producer in api.PRODUCER_FUNCTIONS.items() if not producer.removable]
    return [
        "## Producers: operations whose output has a known kind",
        "",
        "| kind | spellings |",
        "|---|---|",
        *rows,
        "",
        f"Not the function a fix assumes (a fix through them is unsafe): {_names(inexact)}.",
        f"Never removed by a fix (a random sample): {_names(fixed)}.",
        "",
    ]


def _preserving() -> list[str]:
    def by_role(table: dict[str, StepRole], role: StepRole, prefix: str = "") -> str:
        return _names(prefix + name for name, r in table.items() if r is role)

    return [
        "## Kind-preserving operations",
        "",
        "| what | spellings |",
        "|---|---|",
        f"| layout, dtype, device, indexing (a fix sees through them) | "
        f"{by_role(api.PRESERVING_FUNCTIONS, StepRole.COMMUTES)}, "
        f"{by_role(api.PRESERVING_METHODS, StepRole.COMMUTES, 'Tensor.')}, "
        f"{_names('Tensor.' + name for name in api.PRESERVING_ATTRIBUTES)}, `x[...]` |",
        f"| guards (a fix drops them: unsafe) | "
        f"{by_role(api.PRESERVING_FUNCTIONS, StepRole.GUARD)}, "
        f"{by_role(api.PRESERVING_METHODS, StepRole.GUARD, 'Tensor.')}, `p + eps` |",
        f"| joins of one kind, or of sigmoid(z) and 1 - sigmoid(z) (no fix sees through) | "
        f"{_names(api.JOINING_FUNCTIONS)} |",
        "| powers `p ** t`, `p.pow(t)`, t > 0 or not a constant (no fix sees through) | "
        f"{_names(api.OPERATIONS['pow'].functions)}, `**` |",
        "",
    ]


def _selections() -> list[str]:
    return [
        "## Selections of one probability per row",
        "",
        "`p.gather(d, y)`, `torch.gather`, `p[range(n), y]`, `p.take(...)` keep the kind (above).",
        "`(mask * p).sum(d)` selects when `mask` is one-hot along `d`, and so do the matrix"
        f" products `p @ mask`, {_names([*api.MATMUL_FUNCTIONS, *('Tensor.' + m for m in api.MATMUL_METHODS)])}"
        " when the mask is one-hot along the contracted dimension (`F.one_hot(y, C).T`,"
        " `.unsqueeze(-1)`; no fix sees through any of them). One-hot masks:",
        "",
        f"- one-hot along the last dimension: {_names(api.ONE_HOT_FUNCTIONS)} (rows of "
        "`torch.eye(C)[y]`), through casts and moves",
        f"- zeros {_names(api.ZEROS_FUNCTIONS)}, {_names('Tensor.' + m for m in api.ZEROS_METHODS)}"
        f" made one-hot along `dim` by {_names('Tensor.' + m for m in api.SCATTER_METHODS)}"
        " with `(dim, index, 1)`",
        "",
        "`y[mask] = torch.sigmoid(y[mask])`, `y[..., :4] = y[..., :4].sigmoid()`: the same"
        " `y[mask]` / `y[..., :4]` reads the written value back while `y` and the index names"
        " keep their bindings (any other write into `y` forgets it); `y` itself stays unknown.",
        "",
        "Reductions take NumPy's keyword names too: "
        + ", ".join(f"`{alias}=` for `{name}=`" for alias, name in _numpy_keywords())
        + ".",
        "",
    ]


def _numpy_keywords() -> list[tuple[str, str]]:
    from nanlint.analysis.signatures import NUMPY_KEYWORDS

    return sorted(NUMPY_KEYWORDS.items())


def _sinks() -> list[str]:
    losses = [
        f"| {loss.label} | {_names(loss.functions)}"
        + (f", `{loss.module}`" if loss.module else "")
        + f" | `{loss.input_param}` |"
        for loss in api.LOSSES
    ]
    return [
        "## Sinks: losses, distributions and operations the rules check",
        "",
        "| loss | spellings | checked argument |",
        "|---|---|---|",
        *losses,
        "",
        "Distributions (`probs=` is checked), under `torch.distributions` and its submodules,"
        " and `pyro.distributions` (also `pyro.distributions.torch`):",
        "",
        f"- over classes: {_names(d.label for d in api.CATEGORICAL_DISTRIBUTIONS)}",
        f"- one probability per element: {_names(d.label for d in api.BINARY_DISTRIBUTIONS)}",
        "",
        "Operations: "
        + ", ".join(
            f"{key} ({_names([*op.functions, *('Tensor.' + m for m in op.methods)])})"
            for key, op in api.OPERATIONS.items()
        ),
        "",
    ]


def _modules() -> list[str]:
    return [
        "## Modules, containers and calls that run a model",
        "",
        f"- containers: {_names(api.CONTAINER_MODULES)}; an `nn.Sequential` folds its layers"
        " (nested ones too), `for layer in self.layers: x = layer(x)` over a known ModuleList or"
        " list gives the last layer's output, `self.layers[-1]` and slices pick layers,"
        " `self.heads[name]` of a ModuleDict (or a ModuleList at an unknown index) is every"
        " entry at once: a kind only when all agree",
        f"- changed in place and followed: {_names(api.MUTATING_METHODS - {'insert', 'pop'})}"
        " on a container held in a local variable or an attribute the same method assigned;"
        " otherwise (and for `insert`, `pop`) the container's findings are withheld",
        "- lists: literals, comprehensions, `append`/`extend`/`insert`, `+`, `+=`; after a loop"
        " of appends, the items appended after it stay known; dicts: literals with constant"
        " keys, `d[key] = v`, `d.update(...)`",
        f"- pass-through modules: {_names(api.PASS_THROUGH_MODULES)}",
        f"- wrappers that run the wrapped model: {_names(api.MODEL_WRAPPERS)}",
        f"- calls that run a model on inputs: {_names(api.MODEL_RUNNERS)}",
        f"- namespace parameters: `def f(x, F=torch)` with a default among {_names(api.NAMESPACES)}"
        " is that module when no call site passes another (nothing it produces is rewritten)",
        "",
    ]


def markdown() -> str:
    """The page, from the tables as they are."""
    lines = [HEADER, *_producers(), *_preserving(), *_selections(), *_sinks(), *_modules()]
    return "\n".join(lines).rstrip("\n") + "\n"
