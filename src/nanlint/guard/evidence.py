"""What the instability did on this batch, measured on the values at the sink.

Every measurement runs without gradient on detached tensors, inside the mode's dispatch
(so it is not itself watched), and returns plain JSON data for `RuntimeFinding.observed`.
"""

from __future__ import annotations

import torch

from nanlint.analysis.kinds import LINEAR_PROBABILITIES, Kind
from nanlint.guard.tags import Tag

# The largest input whose |logit| maximum the producer records (a loss head, not an
# attention map: the reduction must stay cheap next to the operation itself).
LOGIT_MAGNITUDE_NUMEL = 1 << 16
_BCE_LOG_FLOOR = -100.0  # binary_cross_entropy clamps each log at -100


def _measurable(value: object) -> bool:
    """A floating tensor with data (not on the meta device)."""
    return isinstance(value, torch.Tensor) and value.is_floating_point() and not value.is_meta


def logit_magnitude(tensor: object) -> torch.Tensor | None:
    """max |x| of a producer's input, as a 0-d tensor (no device sync), when cheap."""
    if (
        not _measurable(tensor) or not 0 < tensor.numel() <= LOGIT_MAGNITUDE_NUMEL  # type: ignore[union-attr]
    ):
        return None
    with torch.no_grad():
        return tensor.detach().abs().amax()


def values(tensor: torch.Tensor, tag: Tag | None) -> dict:
    """dtype, numel, whether a gradient flows, and how many values are saturated."""
    observed: dict = {
        "dtype": str(tensor.dtype).removeprefix("torch."),
        "numel": tensor.numel(),
        "grad": torch.is_grad_enabled() and tensor.requires_grad,
    }
    if tag is None or not _measurable(tensor):
        return observed
    with torch.no_grad():
        data = tensor.detach()
        if tag.kind in LINEAR_PROBABILITIES:
            observed["saturated"] = int(((data == 0) | (data == 1)).sum())
        elif tag.kind is Kind.NONNEG:
            observed["zeros"] = int((data == 0).sum())
    if tag.logit_magnitude is not None:
        observed["max_abs_logit"] = round(float(tag.logit_magnitude), 4)
    if tag.guard:
        observed["guard"] = tag.guard
    return observed


def bce_clamped(probabilities: torch.Tensor, target: object) -> dict:
    """How many terms binary_cross_entropy clamped at -100 (its log of 0, or nearly)."""
    if not _measurable(probabilities) or not _measurable(target):
        return {}
    with torch.no_grad():
        p, y = probabilities.detach(), target.detach()
        try:
            clamped = ((torch.log(p) < _BCE_LOG_FLOOR) & (y != 0)) | (
                (torch.log1p(-p) < _BCE_LOG_FLOOR) & (y != 1)
            )
        except RuntimeError:  # shapes that do not broadcast: the loss raises on its own
            return {}
        count = int(clamped.sum())
    return {"bce_clamped": count, "hit_bce_clamp": count > 0}


def log_infs(output: object) -> dict:
    if not _measurable(output):
        return {}
    with torch.no_grad():
        return {"log_infs": int(torch.isinf(output.detach()).sum())}


def outside_eps(probabilities: torch.Tensor) -> dict:
    """How many probabilities torch.distributions clamps to [eps, 1 - eps] for its logs."""
    if not _measurable(probabilities):
        return {}
    eps = torch.finfo(probabilities.dtype).eps
    with torch.no_grad():
        p = probabilities.detach()
        return {"clamped_to_eps": int(((p < eps) | (p > 1 - eps)).sum())}


def severity(observed: dict) -> tuple:
    """Orders batches: the worst one is kept in a finding's `observed`."""
    return tuple(
        observed.get(name, 0)
        for name in (
            "log_infs",
            "bce_clamped",
            "clamped_to_eps",
            "saturated",
            "zeros",
            "max_abs_logit",
        )
    )
