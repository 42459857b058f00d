"""A reproduction as a picture: both forms' value and gradient against the float64 reference.

One figure per rule, drawn from its main (first) scenario: a row for the value and a row for
the gradient, a column for float32 and one for a half-precision dtype. The stretches where
the unstable form is wrong are shaded, and each of the rule's measured claims marks the
magnitude it speaks of. matplotlib is imported only here (`pip install 'nanlint[plot]'`).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

from nanlint.repro.harness import Evidence, Measured, Ratio, Reproduction, Result

INSTALL = "pip install 'nanlint[plot]'"
HALF_PRECISION = ("bfloat16", "float16")
POINTS = 600  # samples per line: enough for a smooth curve, small enough for a tidy SVG
LABEL_HEIGHT = 0.075  # of a panel, per label in the band above its curves

UNSTABLE, STABLE, BROKEN = "#d62728", "#1f77b4", "#fbe3e3"
LINES = {
    "reference": {"color": "#7f7f7f", "linewidth": 5.0, "alpha": 0.5},
    "stable": {"color": STABLE, "linewidth": 1.8, "linestyle": "--"},
    "unstable": {"color": UNSTABLE, "linewidth": 1.8},
}

# Fixed size, resolution, fonts and ids, and no dates: regenerating does not churn the repo.
STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.titlesize": 11,
    "svg.hashsalt": "nanlint",
    "svg.fonttype": "path",
    "path.simplify": True,
}


class MatplotlibMissing(RuntimeError):
    """matplotlib is not installed; plots need `pip install 'nanlint[plot]'`."""


def import_matplotlib():
    """The matplotlib module (MatplotlibMissing when it is not installed)."""
    try:
        import matplotlib
    except ImportError as error:
        raise MatplotlibMissing("matplotlib is not installed") from error
    return matplotlib


def write(result: Result, directory: Path) -> list[Path]:
    """Draw `result` into directory/<CODE>.png and .svg; returns the paths written."""
    matplotlib = import_matplotlib()
    directory.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context(STYLE):
        figure = draw(result)
        png, svg = directory / f"{result.code}.png", directory / f"{result.code}.svg"
        _save_png(figure, png)
        figure.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    return [png, svg]


def _save_png(figure, path: Path) -> None:
    """A 256-colour PNG without metadata: a third of the size, no visible difference."""
    from PIL import Image  # a dependency of matplotlib

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    image = Image.open(buffer).convert("RGB")
    palette = image.quantize(256, method=0, dither=0)  # median cut, no dithering (any Pillow)
    palette.save(path, format="png", optimize=True)


def plotted_dtypes(reproduction: Reproduction) -> tuple[str, ...]:
    """float32, and the half-precision dtype the main scenario's claims name most (if any)."""
    halves = [dtype for dtype in reproduction.dtypes if dtype in HALF_PRECISION]
    claims = reproduction.scenarios[0].claims
    chosen = max(halves, key=lambda dtype: sum(c.dtype == dtype for c in claims), default=None)
    return ("float32",) if chosen is None else ("float32", chosen)


def draw(result: Result):
    """The figure of `result`'s main scenario (a matplotlib Figure)."""
    import_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    reproduction = result.reproduction
    scenario = reproduction.scenarios[0]
    dtypes = plotted_dtypes(reproduction)
    figure = Figure(figsize=(12.6 if len(dtypes) == 2 else 8.0, 8.0), layout="constrained")
    FigureCanvasAgg(figure)  # a renderer to measure labels with
    axes = figure.subplots(2, len(dtypes), squeeze=False, sharex=True, sharey="row")
    log_x = _log_x(reproduction.sweep)
    marked = []
    for row, quantity in enumerate(("value", "grad")):
        panels = []
        for column, dtype in enumerate(dtypes):
            evidence = next(
                e for e in result.evidence if e.scenario is scenario and e.dtype == dtype
            )
            _curves(axes[row][column], evidence, quantity, log_x)
            panels.append((axes[row][column], _marks(evidence, quantity)))
        # The axes of a row share y: make room for the panel with the most labels.
        _headroom(axes[row][0], 0.04 + LABEL_HEIGHT * max(len(marks) for _, marks in panels))
        marked.extend(panels)
    for column, dtype in enumerate(dtypes):
        axes[0][column].set_title(dtype, fontweight="bold")
        axes[1][column].set_xlabel("input magnitude m" + (" (log scale)" if log_x else ""))
    axes[0][0].set_ylabel("value")
    axes[1][0].set_ylabel("gradient")
    figure.suptitle(f"{result.code} {_rule_name(result.code)}\n{scenario.name}", fontsize=12)
    figure.legend(
        handles=_legend(reproduction), loc="outside lower center", ncols=len(dtypes), frameon=False
    )
    figure.draw_without_rendering()  # lay the axes out, so labels can be fitted into them
    for ax, marks in marked:
        _annotate(ax, marks)
    return figure


def _rule_name(code: str) -> str:
    from nanlint.rules import ALL_RULES

    return next(rule.name for rule in ALL_RULES if rule.code == code)


def _legend(reproduction: Reproduction) -> list:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    return [
        Line2D([], [], label=f"unstable: {reproduction.unstable_label}", **LINES["unstable"]),
        Line2D([], [], label=f"stable: {reproduction.stable_label}", **LINES["stable"]),
        Line2D([], [], label="float64 reference (the stable form)", **LINES["reference"]),
        Patch(color=BROKEN, label="where the unstable form is wrong (NaN, inf, zero or off)"),
    ]


def _log_x(sweep: tuple[float, float, float]) -> bool:
    """A sweep of tiny magnitudes (near-zero precision) reads best on a log scale."""
    return sweep[1] < 1e-2


def _curves(ax, evidence: Evidence, quantity: str, log_x: bool) -> None:
    """The three forms' curves, the shaded stretches where the unstable one is wrong."""
    indices = _samples(evidence.m, log_x)
    m = [evidence.m[i] for i in indices]
    for form in ("reference", "stable", "unstable"):
        series = evidence.series[f"{form}_{quantity}"]
        ax.plot(m, [_finite_or_nan(series[i]) for i in indices], **LINES[form])
    if log_x:
        ax.set_xscale("log")
    if log_x and quantity == "value":
        ax.set_yscale("log")  # a value that grows like m: its lost digits show as steps
    else:
        ax.ticklabel_format(axis="y", useOffset=False)
    _shade_broken(ax, evidence, quantity, log_x)
    ax.grid(True, color="#e5e5e5", linewidth=0.8)
    ax.set_axisbelow(True)


def _samples(m: list[float], log_x: bool) -> list[int]:
    """About POINTS indices spread evenly over the axis (log-spaced on a log axis)."""
    count = len(m)
    if count <= POINTS:
        return list(range(count))
    if not log_x:
        step = math.ceil(count / POINTS)
        return sorted({*range(0, count, step), count - 1})
    low, high, step = m[1], m[-1], m[1] - m[0]
    chosen = {
        round((low * (high / low) ** (k / (POINTS - 1)) - m[0]) / step) for k in range(POINTS)
    }
    return sorted(i for i in chosen if 0 < i < count)


def _runs(flags: list[bool]) -> list[tuple[int, int]]:
    """(first, last) index of each run of True."""
    runs = []
    start = None
    for i, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            runs.append((start, i - 1))
            start = None
    return runs


def _shade_broken(ax, evidence: Evidence, quantity: str, log_x: bool) -> None:
    """Shade where the unstable form is wrong; gaps under 1% of the axis are closed."""
    m = evidence.m
    position = (lambda v: math.log10(max(v, m[1]))) if log_x else float
    span = position(m[-1]) - position(m[0])
    merged: list[list[float]] = []
    for first, last in _runs(evidence.wrong[f"unstable_{quantity}"]):
        if merged and position(m[first]) - position(merged[-1][1]) < 0.01 * span:
            merged[-1][1] = m[last]
        else:
            merged.append([m[first], m[last]])
    for low, high in merged:
        ax.axvspan(low, high, color=BROKEN, linewidth=0)


@dataclass(frozen=True)
class Mark:
    """A label above the curves at magnitude `at`: a claim, or where NaN / inf begins."""

    at: float
    text: str
    claim: bool
    dots: tuple[float, ...] = ()  # the values a claim reads at `at`, dotted on the curves


def _marks(evidence: Evidence, quantity: str) -> list[Mark]:
    marks = []
    for claim in evidence.scenario.claims:
        at = claim.position(evidence)
        if claim.dtype == evidence.dtype and claim.measures == quantity and at is not None:
            dots = tuple(evidence.at(at, series) for series in _read_at_one_point(claim))
            marks.append(Mark(at, claim.text, True, dots))
    series = evidence.series[f"unstable_{quantity}"]
    for first, last in _runs([not math.isfinite(v) for v in series]):
        words = dict.fromkeys(_word(value) for value in series[first : last + 1])
        marks.append(Mark(evidence.m[first], ", ".join(words), False))
    return marks


def _read_at_one_point(claim) -> tuple[str, ...]:
    """The series a Measured or Ratio claim reads at its magnitude."""
    if isinstance(claim, Measured):
        return (claim.quantity,)
    if isinstance(claim, Ratio):
        return (claim.numerator, claim.denominator)
    return ()


def _word(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return "inf" if value > 0 else "-inf"


def _annotate(ax, marks: list[Mark]) -> None:
    """One label per row of the band above the curves; claims get a dotted line."""
    for k, mark in enumerate(marks):
        if mark.claim:
            ax.axvline(mark.at, color="black", linestyle=":", linewidth=1.2)
        for value in mark.dots:
            ax.plot([mark.at], [value], "o", color="black", markersize=5)
        label = ax.annotate(
            mark.text,
            xy=(mark.at, 0.97 - LABEL_HEIGHT * (k + 0.5)),
            xycoords=("data", "axes fraction"),
            xytext=(5, 0),
            textcoords="offset points",
            va="center",
            fontsize=9.5,
            bbox={"boxstyle": "square,pad=0.15", "facecolor": "white", "alpha": 0.75, "lw": 0},
            **({} if mark.claim else {"color": UNSTABLE, "fontweight": "bold"}),
        )
        label.set_in_layout(False)
        _keep_inside(ax, label)


def _keep_inside(ax, label) -> None:
    """Right of its line if it fits in the panel, else left of it, else flush left."""
    renderer = ax.figure.canvas.get_renderer()
    box, width = ax.get_window_extent(renderer), label.get_window_extent(renderer).width
    anchor = ax.transData.transform((label.xy[0], 1.0))[0]
    points = 72 / ax.figure.dpi  # pixels to points
    if anchor + 5 / points + width <= box.x1:
        return
    if anchor - 5 / points - width >= box.x0:
        label.set_horizontalalignment("right")
        label.xyann = (-5, 0)
    else:
        label.xyann = ((box.x0 - anchor) * points + 5, 0)


def _headroom(ax, fraction: float) -> None:
    """Raise the top of the y axis so the curves stay below `fraction` of the panel's top."""
    forward = ax.transScale.transform
    inverse = ax.transScale.inverted().transform
    bottom, top = (forward((1.0, v))[1] for v in ax.get_ylim())
    raised = bottom + (top - bottom) / (1 - fraction)
    ax.set_ylim(top=inverse((1.0, raised))[1])


def _finite_or_nan(value: float) -> float:
    return value if math.isfinite(value) else float("nan")
