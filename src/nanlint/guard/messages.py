"""A runtime finding's message: the rule's own wording, plus what the values showed.

The into-loss and log rules explain their consequence from the kind that reached the sink
alone, so the guard asks the rule (`consequence`) rather than rephrasing it; NAN501 keeps
its explanation inside its static check, so its runtime message is built from the catalog.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from nanlint.analysis.kinds import Kind
from nanlint.catalog import INFO_BY_CODE
from nanlint.guard.findings import Location
from nanlint.rules import RULES_BY_CODE
from nanlint.rules.log_of import LogOfRule


@dataclass(frozen=True)
class _Reached:
    """What a rule's `consequence` reads of its static sink: the kind of the value there."""

    kind: Kind

    @property
    def value(self) -> _Reached:  # a LogCall's `.value.kind`
        return self


def consequence(code: str, kind: Kind) -> str:
    rule = RULES_BY_CODE[code]
    if isinstance(rule, LogOfRule):
        return rule.consequence(_Reached(kind))  # type: ignore[arg-type]
    return rule.consequence(None, kind)  # type: ignore[attr-defined]


def evidence(observed: dict) -> str:
    """`seen on 64 float32 values: 12 exactly 0 or 1, largest |logit| upstream 23.1`."""
    facts = []
    if "saturated" in observed:
        facts.append(f"{observed['saturated']} exactly 0 or 1")
    if "zeros" in observed:
        facts.append(f"{observed['zeros']} exactly 0")
    if "clamped_to_eps" in observed:
        facts.append(f"{observed['clamped_to_eps']} outside [eps, 1 - eps]")
    if "bce_clamped" in observed:
        facts.append(f"{observed['bce_clamped']} terms at BCE's -100 clamp")
    if "log_infs" in observed:
        facts.append(f"{observed['log_infs']} infinite logs")
    if "max_abs_logit" in observed:
        facts.append(f"largest |logit| upstream {observed['max_abs_logit']:g}")
    if "guard" in observed:
        facts.append(f"behind a `{observed['guard']}` guard")
    text = f"seen on {observed['numel']} {observed['dtype']} values"
    if facts:
        text += ": " + ", ".join(facts)
    if not observed["grad"]:
        text += " (no gradient flows here: only the value is wrong)"
    return text


def _where(producer: Location, sink: Location) -> str:
    if producer.path == sink.path:
        return f"line {producer.line}"
    return f"{os.path.relpath(producer.path)}:{producer.line}"


def message(
    code: str,
    kind: Kind | None,
    producer_label: str,
    producer: Location | None,
    sink_label: str,
    sink: Location,
    observed: dict,
    autocast: str | None = None,
) -> str:
    seen = evidence(observed)
    if code == "NAN501":
        origin = ""
        if kind is not None and producer is not None:
            origin = f" on {kind.noun} from `{producer_label}` ({_where(producer, sink)})"
        return (
            f"`{sink_label}` ran under {autocast} autocast{origin}, {seen}:"
            f" {INFO_BY_CODE[code].summary}; BCEWithLogitsLoss on the logits is safe under"
            " autocast"
        )
    assert kind is not None and producer is not None
    described = f"{kind.noun} from `{producer_label}` ({_where(producer, sink)})"
    if isinstance(RULES_BY_CODE[code], LogOfRule):
        return f"`{sink_label}` of {described}, {seen}: {consequence(code, kind)}"
    return (
        f"{described[:1].upper()}{described[1:]} reach `{sink_label}`, {seen}:"
        f" {consequence(code, kind)}"
    )
