"""What a fix does to the activation that produced a value: remove it, or move it to log space.

`Remove` takes `torch.sigmoid(z)` back to `z` (a loss that wants logits); `ToLogSpace` turns
`F.softmax(x, dim=1)` into `F.log_softmax(x, dim=1)` and `nn.Sigmoid()` into `nn.LogSigmoid()`
(a loss that wants log-probabilities). Each can edit the activation where it is, or write
the rewritten value in place of a variable that holds the activation's output.
"""

from __future__ import annotations

import libcst as cst

from nanlint.analysis.facts import Env, FileAnalysis
from nanlint.analysis.kinds import Kind
from nanlint.analysis.names import stable_at
from nanlint.analysis.rewrite import EditPlan, Part, is_literal
from nanlint.analysis.spelling import spell
from nanlint.analysis.values import Origin, Removal, Source, StepRole
from nanlint.fixes import Applicability


class ProducerRewrite:
    """How a fix changes the producer of a value (see Remove and ToLogSpace)."""

    def at_origin(self, plan: EditPlan, analysis: FileAnalysis, origin: Origin) -> bool:
        """Edit the producer where it is; False when it cannot be done."""
        raise NotImplementedError

    def in_place_of(
        self,
        plan: EditPlan,
        analysis: FileAnalysis,
        origin: Origin,
        read: cst.CSTNode,
        env: Env,
        scope,
    ) -> bool:
        """Write the rewritten value where `read` reads the producer's output."""
        raise NotImplementedError

    def remote_note(self, origin: Origin) -> str:
        """What changes for the model when the producer is edited in another function."""
        raise NotImplementedError

    #: what the producer's other uses receive after the edit
    receives: str = "the changed value"


class Remove(ProducerRewrite):
    """Take the activation out: its operand (the logits) takes its place."""

    receives = "logits"

    def at_origin(self, plan: EditPlan, analysis: FileAnalysis, origin: Origin) -> bool:
        file = origin.file
        if origin.removal is Removal.LAYER:
            if origin.container is None or origin.element is None:
                return False
            start, end = element_range(file, origin.container, origin.element)
            plan.delete(file, start, end)
            return True
        if origin.removal is not Removal.CALL or origin.operand is None:
            return False
        plan.replace_with_operand(file, origin.node, origin.operand)
        return True

    def in_place_of(self, plan, analysis, origin, read, env, scope) -> bool:
        operand = origin.operand
        if not isinstance(operand, cst.Name) or not stable_at(analysis, operand, env):
            return False
        plan.replace(analysis.source, read, operand.value)
        return True

    def remote_note(self, origin: Origin) -> str:
        return (
            f"removes {origin.label}: what the model returns changes from probabilities to logits"
        )


# The log-space twin of each probability producer, by kind and spelling.
_LOG_FUNCTION = {
    Kind.PROB_SOFTMAX: "torch.nn.functional.log_softmax",
    Kind.PROB_SIGMOID: "torch.nn.functional.logsigmoid",
}
_LOG_MODULE = {Kind.PROB_SOFTMAX: "torch.nn.LogSoftmax", Kind.PROB_SIGMOID: "torch.nn.LogSigmoid"}
# Function spellings whose twin takes the same arguments in the same order.
_SAME_SIGNATURE = {
    "torch.softmax": "torch.log_softmax",
    "torch.special.softmax": "torch.special.log_softmax",
    "torch.nn.functional.softmax": "torch.nn.functional.log_softmax",
    "torch.sigmoid": "torch.nn.functional.logsigmoid",
    "torch.nn.functional.sigmoid": "torch.nn.functional.logsigmoid",
    "torch.special.expit": "torch.nn.functional.logsigmoid",
}
_SAME_METHOD = {"Tensor.softmax": "log_softmax"}


class ToLogSpace(ProducerRewrite):
    """Turn the activation into its log-space twin (softmax -> log_softmax, ...)."""

    receives = "log-probabilities"

    def at_origin(self, plan: EditPlan, analysis: FileAnalysis, origin: Origin) -> bool:
        if not origin.exact or origin.kind not in _LOG_FUNCTION:
            return False
        file = origin.file
        node = origin.node
        if origin.removal is Removal.LAYER:
            if not isinstance(node, cst.Call):
                return False
            plan.replace(file, node.func, spell(plan, analysis, _LOG_MODULE[origin.kind]))
            return True
        if origin.removal is not Removal.CALL or origin.operand is None:
            return False
        if origin.api in _SAME_SIGNATURE and isinstance(node, cst.Call):
            name = spell(plan, analysis, _SAME_SIGNATURE[origin.api], origin.scope)
            plan.replace(file, node.func, name)
            return True
        if (
            origin.api in _SAME_METHOD
            and isinstance(node, cst.Call)
            and isinstance(node.func, cst.Attribute)
        ):
            plan.replace(file, node.func.attr, _SAME_METHOD[origin.api])
            return True
        if not all(is_literal(option) for _, option in origin.options):
            return False
        plan.replace(file, node, *self._call(plan, analysis, origin, origin.scope))
        return True

    def in_place_of(self, plan, analysis, origin, read, env, scope) -> bool:
        if not origin.exact or origin.kind not in _LOG_FUNCTION or origin.operand is None:
            return False
        nodes = [origin.operand, *(option for _, option in origin.options)]
        if not all(stable_at(analysis, node, env) for node in nodes):
            return False
        plan.replace(analysis.source, read, *self._call(plan, analysis, origin, scope))
        return True

    def remote_note(self, origin: Origin) -> str:
        return (
            f"turns {origin.label} into its log-space form: what the model returns changes"
            " from probabilities to log-probabilities"
        )

    def _call(self, plan: EditPlan, analysis: FileAnalysis, origin: Origin, scope) -> list[Part]:
        """`F.log_softmax(<operand>, dim=<dim>)` built from the producer's operand and options."""
        assert origin.operand is not None
        parts: list[Part] = [
            spell(plan, analysis, _LOG_FUNCTION[origin.kind], scope),
            "(",
            origin.operand,
        ]
        options = dict(origin.options)
        if origin.api == "torch.nn.Softmax2d":
            parts.append(", dim=-3")
        for name in ("dim", "dtype"):
            if name in options:
                parts += [f", {name}=", options[name]]
        parts.append(")")
        return parts


def remove_guards(plan: EditPlan, file, source: Source) -> None:
    """Take out the clamps and +eps between a producer and its consumer (unsafe)."""
    for step in source.steps:
        if step.role is StepRole.GUARD and step.operand is not None:
            plan.replace_with_operand(file, step.node, step.operand)
            plan.downgrade(
                Applicability.UNSAFE,
                f"drops the `{step.op}` guard, which changed the value where it was active",
            )


def element_range(file, container: cst.Call, element: cst.CSTNode) -> tuple[int, int]:
    """The text to delete to take one argument (or list element) out of its sequence."""
    siblings = _siblings(container, element)
    index = next(i for i, sibling in enumerate(siblings) if sibling is element)
    start, end = file.node_offsets(element)
    if len(siblings) == 1:
        return start, _after_comma(file.text, end)
    if index == len(siblings) - 1:
        return file.node_offsets(siblings[index - 1])[1], end
    return start, file.node_offsets(siblings[index + 1])[0]


def _siblings(container: cst.Call, element: cst.CSTNode) -> list[cst.CSTNode]:
    if any(arg is element for arg in container.args):
        return list(container.args)
    for arg in container.args:
        if isinstance(arg.value, (cst.List, cst.Tuple)) and any(
            e is element for e in arg.value.elements
        ):
            return list(arg.value.elements)
    raise ValueError("element not in its container")


def _after_comma(text: str, offset: int) -> int:
    probe = offset
    while probe < len(text) and text[probe] in " \t":
        probe += 1
    return probe + 1 if probe < len(text) and text[probe] == "," else offset
