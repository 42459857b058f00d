"""`nanlint repro --plot`: what each picture shows, and that it is drawn the same every time."""

from __future__ import annotations

import pytest

from nanlint.repro.plot import draw, plotted_dtypes, write
from nanlint.rules import get_rule

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def nan101(reproduced):
    figure = draw(reproduced["NAN101"])
    figure.draw_without_rendering()
    return figure


def labels(ax) -> list[str]:
    return [text.get_text() for text in ax.texts]


def claim_lines(ax) -> list[float]:
    return [line.get_xdata()[0] for line in ax.lines if line.get_linestyle() == ":"]


def test_one_column_per_plotted_dtype():
    assert plotted_dtypes(get_rule("NAN101").reproduction) == ("float32", "bfloat16")
    assert plotted_dtypes(get_rule("NAN201").reproduction) == ("float32", "float16")
    assert plotted_dtypes(get_rule("NAN102").reproduction) == ("float32",)


def test_panels_are_titled_and_labelled(nan101):
    value32, _, grad32, grad16 = nan101.axes
    assert [ax.get_title() for ax in nan101.axes] == ["float32", "bfloat16", "", ""]
    assert value32.get_ylabel() == "value" and grad32.get_ylabel() == "gradient"
    assert grad32.get_xlabel() == grad16.get_xlabel() == "input magnitude m"
    assert nan101.get_suptitle() == (
        "NAN101 sigmoid-into-bce-loss\nconfidently wrong: logit z = +m, target y = 0"
    )
    (legend,) = nan101.legends
    assert [text.get_text() for text in legend.get_texts()] == [
        "unstable: BCELoss(sigmoid(z), y)",
        "stable: BCEWithLogitsLoss(z, y)",
        "float64 reference (the stable form)",
        "where the unstable form is wrong (NaN, inf, zero or off)",
    ]


def test_claims_label_their_measured_breaking_points(nan101):
    value32, value16, grad32, grad16 = nan101.axes
    assert labels(value32) == [
        "value off by more than 0.1% from 12.40",
        "loss pinned at 100 from 16.64",
    ]
    assert claim_lines(value32) == pytest.approx([12.40, 16.64])
    assert labels(grad32) == ["gradient exactly 0 from 16.64"]
    assert claim_lines(grad32) == pytest.approx([16.64])
    assert labels(grad16) == ["bfloat16: gradient exactly 0 from 6.24"]
    assert claim_lines(grad16) == pytest.approx([6.24])
    assert labels(value16) == []  # the float16 claim has no column here


def test_the_curves_are_the_sampled_evidence(reproduced, nan101):
    evidence = next(e for e in reproduced["NAN101"].evidence if e.dtype == "float32")
    reference, stable, unstable = nan101.axes[2].lines[:3]
    m = list(unstable.get_xdata())
    assert m[0] == 0.0 and m[-1] == 120.0 and 500 <= len(m) <= 700
    pinned = [y for x, y in zip(m, unstable.get_ydata()) if x > 16.7]
    assert set(pinned) == {0.0}  # the gradient is exactly zero from 16.64
    assert list(reference.get_ydata()) == [evidence.at(x, "reference_grad") for x in m]
    assert stable.get_linestyle() == "--"


def test_labels_sit_above_the_curves_inside_the_panel(reproduced):
    for code in ("NAN101", "NAN601", "NAN205"):
        figure = draw(reproduced[code])
        figure.draw_without_rendering()
        renderer = figure.canvas.get_renderer()
        for ax in figure.axes:
            box = ax.get_window_extent(renderer)
            top_of_curves = max(
                ax.transData.transform((x, y))[1]
                for line in ax.lines
                if line.get_linestyle() != ":"
                for x, y in line.get_xydata()
                if y == y  # not NaN
            )
            for text in ax.texts:
                extent = text.get_window_extent(renderer)
                assert box.x0 <= extent.x0 and extent.x1 <= box.x1, (code, text.get_text())
                assert extent.y0 > top_of_curves, (code, text.get_text())


def test_nonfinite_stretches_are_named(reproduced):
    figure = draw(reproduced["NAN204"])
    value32, _, grad32, _ = figure.axes
    assert labels(value32) == ["inf from 88.73", "inf"]
    assert labels(grad32) == ["gradient NaN from 88.73", "NaN"]
    (word,) = (text for text in grad32.texts if text.get_text() == "NaN")
    assert word.xy[0] == pytest.approx(88.73)
    assert word.get_color() == "#d62728"


def test_near_zero_sweeps_use_log_axes(reproduced):
    value, grad = draw(reproduced["NAN205"]).axes
    assert value.get_xscale() == "log" and value.get_yscale() == "log"
    assert grad.get_yscale() == "linear"
    assert grad.get_xlabel() == "input magnitude m (log scale)"


def test_measured_claims_are_dotted_on_the_curve(reproduced):
    value, grad = draw(reproduced["NAN102"]).axes
    (dot,) = (line for line in value.lines if line.get_marker() == "o")
    assert list(dot.get_xydata()[0]) == pytest.approx([100.0, 0.6931], rel=1e-3)
    ratio = [line.get_xydata()[0] for line in grad.lines if line.get_marker() == "o"]
    assert [x for x, _ in ratio] == [5.0, 5.0, 10.0, 10.0]


def test_files_are_written_the_same_every_time(reproduced, tmp_path):
    from PIL import Image

    first = write(reproduced["NAN101"], tmp_path / "a")
    second = write(reproduced["NAN101"], tmp_path / "b")
    assert [path.name for path in first] == ["NAN101.png", "NAN101.svg"]
    assert [path.read_bytes() for path in first] == [path.read_bytes() for path in second]
    with Image.open(first[0]) as image:
        assert image.size == (1260, 800) and image.info == {}
    svg = first[1].read_text()
    assert svg.startswith("<?xml") and "<dc:date>" not in svg and "Matplotlib v" not in svg
