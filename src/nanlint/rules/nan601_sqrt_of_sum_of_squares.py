"""NAN601 sqrt-of-sum-of-squares."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from nanlint.analysis.arithmetic import sum_arguments
from nanlint.analysis.facts import ArgFact, Env, FileAnalysis
from nanlint.analysis.floors import floored
from nanlint.analysis.gradients import carries_no_gradient, used_only_without_gradient
from nanlint.analysis.kinds import Kind
from nanlint.analysis.names import writable_at
from nanlint.analysis.operations import operation_calls
from nanlint.analysis.rewrite import EditPlan, Part
from nanlint.analysis.spelling import spell
from nanlint.analysis.values import Constant, Tensor
from nanlint.fixes import Applicability, FixAvailability
from nanlint.repro.harness import FirstBreak, FixCheck, Reproduction, Scenario
from nanlint.rules.base import Finding, Invalid, Rule, RuleDoc, Valid

VECTOR_NORM = "torch.linalg.vector_norm"


@dataclass(frozen=True)
class _Root:
    """`torch.sqrt(s)`, `s.sqrt()`, `s ** 0.5` or `torch.pow(s, 0.5)` of a sum of squares."""

    node: cst.BaseExpression
    radicand: ArgFact
    env: Env
    scope: object
    in_place: bool = False


def _half(arg: ArgFact | None) -> bool:
    return arg is not None and isinstance(arg.value, Constant) and arg.value.value == 0.5


def _roots(analysis: FileAnalysis) -> Iterator[_Root]:
    for fact, operation in operation_calls(analysis, "sqrt", "pow"):
        if operation.name == "pow" and not _half(operation.bound.get("exponent")):
            continue
        if operation.input is not None and not operation.input.star:
            func = fact.node.func
            name = func.attr.value if isinstance(func, cst.Attribute) else ""
            yield _Root(fact.node, operation.input, fact.env, fact.scope, name.endswith("_"))
    for fact in analysis.operations.values():
        if fact.operator == "**" and _half(fact.right):
            yield _Root(fact.node, fact.left, fact.env, fact.scope)


def _endpoints(t, x):
    """A second point at the origin: the distance is |x|."""
    return t.zeros_like(x)


def _pair(t, m):
    """The vector [m, m]."""
    return t.stack([m, m], dim=1)


class SqrtOfSumOfSquares(Rule):
    code = "NAN601"
    fix_availability = FixAvailability.SOMETIMES

    def check(self, analysis: FileAnalysis) -> Iterator[Finding]:
        for root in _roots(analysis):
            value = root.radicand.value
            if not isinstance(value, Tensor) or value.kind is not Kind.SUM_SQUARE:
                continue
            if carries_no_gradient(analysis, root.node) or used_only_without_gradient(
                analysis, root.node
            ):
                continue  # the NaN is in the gradient: without one there is nothing to break
            if all(floored(analysis, source) for source in value.sources):
                continue  # clamped away from zero before the root
            message = (
                "Square root of a sum of squares: its gradient x / sqrt(sum(x ** 2)) is 0 / 0 = NaN"
                " when x is all zeros, and in float16 x ** 2 overflows to inf once the norm"
                " passes 255.9 (|x| >= 180.94 for a pair [x, x]); torch.linalg.vector_norm is"
                " exact and has a zero gradient at zero"
            )
            yield Finding(root.node, message, [], self._fix(analysis, root, value))

    def _fix(self, analysis: FileAnalysis, root: _Root, value: Tensor) -> EditPlan | None:
        if root.in_place or len(value.sources) != 1:
            return None
        source = value.sources[0]
        origin = source.origin
        if source.hops or origin.file is not analysis.source or origin.operand is None:
            return None
        if [step.op for step in source.steps] != ["sum"]:
            return None
        plan = EditPlan("Use `torch.linalg.vector_norm`")
        parts: list[Part] = [spell(plan, analysis, VECTOR_NORM, root.scope), "(", origin.operand]
        for name, node in sum_arguments(source.steps[0]).items():
            parts += [f", {name}=", node]
        parts.append(")")
        if not writable_at(analysis, parts, root.node, root.env):
            return None
        plan.replace(analysis.source, root.node, *parts)
        if plan.removes_comments():
            plan.downgrade(Applicability.UNSAFE, "the edit deletes a comment")
        return plan

    doc = RuleDoc(
        what=(
            "Finds the square root of a sum of squares, the Euclidean norm written out by hand:"
            " `torch.sqrt((x ** 2).sum(d))`, `x.pow(2).sum(d).sqrt()`, `torch.sum(x * x) ** 0.5`,"
            " `torch.pow(torch.square(x).sum(d), 0.5)`, with the sum inline or in a variable. A"
            " sum guarded by an eps (`torch.sqrt((x ** 2).sum(d) + 1e-8)`) is not flagged."
        ),
        why=(
            "The derivative of sqrt(s) is 1 / (2 sqrt(s)), infinite at s = 0. When x is all"
            " zeros (a padded row, two identical embeddings in a distance, a zero residual),"
            " autograd multiplies that infinity by the zero derivative of x ** 2 and the"
            " gradient is NaN, which then spreads to every parameter. In float16, x ** 2 also"
            " overflows: the sum is inf once the norm passes 255.9 (for the pair [x, x] from"
            " |x| = 180.94), long before the norm itself is out of range."
            " `torch.linalg.vector_norm` computes the same value, defines the gradient at zero"
            " as 0, and does not overflow in half precision. The rule is silent where no"
            " gradient can flow (no_grad code, constants built from arange or randn, counts,"
            " an autograd.Function's own steps, a value only compared) and where the sum is"
            " clamped to a positive floor. It is off by default: read by hand on 20 real"
            " libraries, the remaining findings were distances and norms that are never"
            " exactly zero in practice (debatable), none a clear bug."
        ),
        fix_safety=(
            "The fix replaces the expression with `torch.linalg.vector_norm(x, dim=d)`, carrying"
            " `dim`, `keepdim` and `dtype` from the sum. The value is the same and only the"
            " gradient at zero changes (NaN becomes 0), so it is safe. It is offered when `x`"
            " can be written at the square root (inline, or every name it reads still holds the"
            " same value there) and not for an in-place `sqrt_()`."
        ),
        references=(
            "https://pytorch.org/docs/stable/generated/torch.linalg.vector_norm.html",
            "https://pytorch.org/docs/stable/generated/torch.sqrt.html",
        ),
    )

    invalid = (
        Invalid(
            """
            import torch


            def embedding_distance(a, b):
                return torch.sqrt(((a - b) ** 2).sum(dim=-1))
            """,
            expect=("5:12",),
            fixed="""
            import torch


            def embedding_distance(a, b):
                return torch.linalg.vector_norm(a - b, dim=-1)
            """,
        ),
        Invalid(
            """
            import torch


            def norms(x, w):
                s = x.pow(2).sum(1, keepdim=True)
                a = s.sqrt()
                b = torch.sum(w * w) ** 0.5
                c = torch.pow(torch.square(x).sum(-1), 0.5)
                return a, b, c
            """,
            expect=("6:9", "7:9", "8:9"),
            fixed="""
            import torch


            def norms(x, w):
                a = torch.linalg.vector_norm(x, dim=1, keepdim=True)
                b = torch.linalg.vector_norm(w)
                c = torch.linalg.vector_norm(x, dim=-1)
                return a, b, c
            """,
        ),
        Invalid(
            """
            import torch


            def norm(x):
                s = (x ** 2).sum(-1)
                x = x / 2  # x changed: the norm of the old x cannot be written below
                return s.sqrt()
            """,
            expect=("7:12",),
        ),
        Invalid(
            """
            import torch


            def norm(x):
                s = (x ** 2).sum(-1)
                return s.sqrt_()  # in place: s itself changes
            """,
            expect=("6:12",),
        ),
        Invalid(
            """
            import torch


            def capped(x, n):
                a = torch.sqrt((x ** 2).sum(-1).clamp(max=1e4))  # a ceiling keeps 0 in reach
                b = torch.sqrt((torch.arange(n) * x).pow(2).sum())  # x upstream: gradients
                return a, b
            """,
            expect=("5:9", "6:9"),
            fixed="""
            import torch


            def capped(x, n):
                a = torch.sqrt((x ** 2).sum(-1).clamp(max=1e4))  # a ceiling keeps 0 in reach
                b = torch.linalg.vector_norm(torch.arange(n) * x)  # x upstream: gradients
                return a, b
            """,
        ),
    )

    valid = (
        Valid(
            """
            import torch


            def distances(a, b, x):
                d = torch.sqrt(((a - b) ** 2).sum(dim=-1) + 1e-8)  # guarded
                n = torch.linalg.vector_norm(x, dim=-1)
                return d, n
            """
        ),
        Valid(
            """
            import torch


            def not_norms(x):
                a = torch.sqrt(x.sum(-1))
                b = (x ** 2).sum(-1) ** 2
                c = torch.sqrt(x ** 2)
                return a, b, c
            """
        ),
        Valid(
            """
            import torch


            def floored(x, eps=1e-6):
                a = torch.sqrt(torch.clamp((x ** 2).sum(-1), min=1e-12))
                b = (x * x).sum(-1).clamp_min(1e-12).sqrt()
                return a, b
            """
        ),
        Valid(
            """
            import torch
            from torch import nn


            class Spectrum(nn.Module):
                # no gradient reaches these roots: nothing to turn NaN

                def __init__(self, n_fft: int):
                    super().__init__()
                    self.freqs = torch.arange(n_fft // 2 + 1) / n_fft
                    self.norm = torch.sqrt((self.freqs ** 2).sum())  # a constant of the module

                def forward(self, x):
                    with torch.no_grad():
                        scale = (x ** 2).sum(-1).sqrt()  # computed without autograd
                    noise = torch.randn(x.shape[0], 8)
                    unit = noise / noise.pow(2).sum(-1, keepdim=True) ** 0.5  # sampling noise
                    codes = torch.bucketize(x, self.freqs).float()
                    spread = torch.sqrt((codes ** 2).mean(-1))  # integer codes
                    return x / scale, unit, spread


            class ClippedNorm(torch.autograd.Function):
                @staticmethod
                def forward(ctx, x):
                    return torch.sqrt((x ** 2).sum())  # autograd does not record this

                @staticmethod
                def backward(ctx, grad):
                    return grad / torch.sqrt((grad ** 2).sum())


            def converge(x, centres, tol=1e-4):
                for _ in range(100):
                    moved = centres - x.mean(0)
                    shift = moved.pow(2).sum().sqrt()  # only compared: nothing differentiates it
                    centres = centres - moved
                    if shift < tol:
                        break
                return centres
            """
        ),
    )

    reproduction = Reproduction(
        unstable_label="sqrt(((x - 0) ** 2).sum(-1))",
        stable_label="linalg.vector_norm(x - 0, dim=-1)",
        dtypes=("float32", "float16"),
        sweep=(0.0, 300.0, 0.01),
        scenarios=(
            Scenario(
                name="the pair x = [m, m]",
                inputs=_pair,
                target=_endpoints,
                unstable=lambda t, x, y: t.sqrt(((x - y) ** 2).sum(dim=-1)),
                stable=lambda t, x, y: t.linalg.vector_norm(x - y, dim=-1),
                rows=(0.0, 0.01, 1.0, 100.0, 180.94, 255.0),
                claims=(
                    FirstBreak("gradient NaN at x = 0", "float32", "grad", "nonfinite", 0.0),
                    FirstBreak(
                        "float16: the sum of squares overflows from |x| = 180.94",
                        "float16",
                        "value",
                        "nonfinite",
                        180.94,
                    ),
                ),
            ),
        ),
        fix_check=FixCheck(entry="embedding_distance", extreme=(0.0,)),
    )
