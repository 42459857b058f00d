"""Can an expression be negative, zero or positive? Its sign, as far as the code shows.

Rules ask it of an exponent (`exp(-x.abs())`, `exp(s - s.max(1, keepdim=True)[0])` cannot
overflow: their exponent is never positive), of a guard (`p + self.eps` with eps a positive
number is never zero) and of a divisor. The sign is the mathematical one (exp is positive,
although it rounds to 0 below -103.97 in float32); when unsure, every sign is possible.

What is known:
- numbers by value (`constants.numbers`: literals, module constants, class attributes,
  parameter defaults, `self.eps = eps`);
- the kinds the interpreter gave (exp, sigmoid and softmax probabilities are positive,
  squares and relu non-negative, log-probabilities never positive);
- functions of a known sign (exp, softplus, sigmoid, abs, relu, square, norms, counts,
  `len`, comparisons), clamps (`clamp(min=c)` with c > 0 is positive, `clamp(max=c)` with
  c <= 0 never positive), `torch.where` (either branch), and operations that keep the sign
  of their input (sum, mean, views, casts, `detach`, reductions by max and min);
- arithmetic by the signs of its operands (`-(x ** 2) / s`, a positive term added to a
  non-negative one), `x * x` and even powers;
- a shift by an upper bound: `a - a.max(...)`, `a - m` with `m = torch.max(a, dim)[0]`,
  `lo - hi` with `hi = torch.max(lo, other)`, `a - a.logsumexp(...)`, and the in-place
  `s -= s.max(1, keepdim=True)[0]`, are never positive.
Names are followed through plain assignments (every definition reaching the read).
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from nanlint.analysis import torch_api as api
from nanlint.analysis.constants import numbers
from nanlint.analysis.facts import FileAnalysis
from nanlint.analysis.kinds import Kind
from nanlint.analysis.values import UNKNOWN, BoundMethod, External, Tensor


@dataclass(frozen=True)
class Sign:
    """The signs (-1, 0, 1) a value can have."""

    signs: frozenset[int]

    @property
    def can_be_positive(self) -> bool:
        return 1 in self.signs

    @property
    def can_be_zero(self) -> bool:
        return 0 in self.signs

    @property
    def can_be_negative(self) -> bool:
        return -1 in self.signs

    def __or__(self, other: Sign) -> Sign:
        return Sign(self.signs | other.signs)

    def negated(self) -> Sign:
        return Sign(frozenset(-s for s in self.signs))


def _sign(*signs: int) -> Sign:
    return Sign(frozenset(signs))


ANY = _sign(-1, 0, 1)
POSITIVE = _sign(1)
NONNEGATIVE = _sign(0, 1)
NONPOSITIVE = _sign(-1, 0)
ZERO = _sign(0)

_DEPTH = 6  # names followed through assignments

_KIND_SIGNS = {
    Kind.EXP: POSITIVE,
    Kind.SUM_EXP: POSITIVE,
    Kind.EXP_RATIO: POSITIVE,
    Kind.ONE_PLUS_EXP: POSITIVE,
    Kind.PROB_SIGMOID: POSITIVE,
    Kind.PROB_SOFTMAX: POSITIVE,
    Kind.SIGMOID_COMPLEMENT: POSITIVE,
    Kind.NONNEG: NONNEGATIVE,
    Kind.SQUARE: NONNEGATIVE,
    Kind.SUM_SQUARE: NONNEGATIVE,
    Kind.LOGPROB: NONPOSITIVE,
}

# Operations of a known sign whatever their input, by function and by tensor-method name.
_FIXED_FUNCTIONS = {
    **dict.fromkeys(
        [
            "torch.exp",
            "torch.exp2",
            "torch.cosh",
            "math.exp",
            "numpy.exp",
            "torch.sigmoid",
            "torch.nn.functional.sigmoid",
            "torch.special.expit",
            "torch.softmax",
            "torch.nn.functional.softmax",
            "torch.nn.functional.softplus",
            "torch.ones",
            "torch.ones_like",
        ],
        POSITIVE,
    ),
    **dict.fromkeys(
        [
            "torch.abs",
            "torch.absolute",
            "builtins.abs",
            "numpy.abs",
            "torch.relu",
            "torch.nn.functional.relu",
            "torch.nn.functional.relu6",
            "torch.square",
            "numpy.square",
            "torch.sqrt",
            "math.sqrt",
            "numpy.sqrt",
            "torch.norm",
            "torch.linalg.norm",
            "torch.linalg.vector_norm",
            "torch.cdist",
            "torch.nn.functional.pairwise_distance",
            "builtins.len",
            "torch.numel",
            "torch.count_nonzero",
            "torch.bincount",
            "torch.rand",
            "torch.rand_like",
        ],
        NONNEGATIVE,
    ),
    **dict.fromkeys(
        [
            "torch.log_softmax",
            "torch.nn.functional.log_softmax",
            "torch.nn.functional.logsigmoid",
        ],
        NONPOSITIVE,
    ),
    **dict.fromkeys(["torch.zeros", "torch.zeros_like"], ZERO),
}
_FIXED_METHODS = {
    **dict.fromkeys(["exp", "exp_", "exp2", "cosh", "sigmoid", "sigmoid_", "softmax"], POSITIVE),
    **dict.fromkeys(
        [
            *("abs", "abs_", "absolute", "relu", "relu_", "square", "sqrt", "norm"),
            *("numel", "count_nonzero", "size", "dim", "nelement", "bincount"),
        ],
        NONNEGATIVE,
    ),
    "log_softmax": NONPOSITIVE,
}
# Operations whose result has the sign of their (first) input.
_KEEPING_FUNCTIONS = frozenset(
    {"torch.sum", "torch.mean", "torch.flatten", "torch.diag", "torch.diagonal", "torch.amax"}
    | {"torch.amin", "torch.squeeze", "torch.unsqueeze", "torch.reshape", "torch.nansum"}
)
_KEEPING_METHODS = frozenset(
    {"sum", "mean", "nansum", "float", "double", "half", "bfloat16", "to", "type", "type_as"}
    | {"detach", "clone", "contiguous", "view", "view_as", "reshape", "squeeze", "unsqueeze"}
    | {"flatten", "expand", "expand_as", "t", "transpose", "permute", "diag", "diagonal"}
    | {"max", "min", "amax", "amin", "cpu", "cuda", "repeat", "masked_select", "item"}
)
_NEGATING = (frozenset({"torch.neg", "torch.negative"}), frozenset({"neg", "negative"}))
_CLAMPS = (
    frozenset({"torch.clamp", "torch.clip", "torch.clamp_min", "torch.clamp_max"}),
    frozenset({"clamp", "clamp_", "clip", "clip_", "clamp_min", "clamp_min_"})
    | frozenset({"clamp_max", "clamp_max_"}),
)
# Upper bounds of their input: reductions by max, and the elementwise maximum of two.
_MAXIMA = (
    frozenset({"torch.max", "torch.amax", "torch.logsumexp", "torch.maximum", "torch.fmax"})
    | frozenset({"builtins.max"}),
    frozenset({"max", "amax", "logsumexp", "maximum", "fmax"}),
)
# What a bound passes through unchanged: `m.detach()`, `m.unsqueeze(1)`, `m[:, None]`.
_TRANSPARENT = frozenset(
    {"detach", "unsqueeze", "view", "view_as", "reshape", "expand", "expand_as", "squeeze"}
    | {"float", "double", "half", "to", "clone", "contiguous", "type_as"}
)


def sign_of(analysis: FileAnalysis, node: cst.CSTNode | None, scales: bool = False) -> Sign:
    """The signs the value of `node` can have (ANY when nothing is known).

    `scales`: in a product or quotient of a factor of known sign and a name of unknown sign
    (`-(d ** 2) / sigma`, `-gamma * d ** 2`, `(x - m) / tau`), take the name for a positive
    scale (a temperature, a bandwidth). A guess, for questions where a wrong guess only
    silences a finding; `-target * margin` (two unknowns) stays unknown.
    """
    if node is None:
        return ANY
    return _Signs(analysis, scales).of(node, _DEPTH)


def never_positive(analysis: FileAnalysis, node: cst.CSTNode | None, scales: bool = False) -> bool:
    return not sign_of(analysis, node, scales).can_be_positive


def positive(analysis: FileAnalysis, node: cst.CSTNode | None) -> bool:
    return sign_of(analysis, node).signs == POSITIVE.signs


class _Signs:
    def __init__(self, analysis: FileAnalysis, scales: bool):
        self.analysis = analysis
        self.scales = scales
        self.active: set[int] = set()  # names being followed (a loop-carried name is ANY)

    def of(self, node: cst.CSTNode, depth: int) -> Sign:
        if id(node) in self.active or depth < 0:
            return ANY
        self.active.add(id(node))
        try:
            return self._of(node, depth)
        finally:
            self.active.discard(id(node))

    def _of(self, node: cst.CSTNode, depth: int) -> Sign:
        held = numbers(self.analysis, node)
        if held:
            return Sign(frozenset((value > 0) - (value < 0) for value in held))
        sign = self._structural(node, depth)
        value = self.analysis.value_of(node)
        if isinstance(value, Tensor) and value.kind in _KIND_SIGNS:
            known = sign.signs & _KIND_SIGNS[value.kind].signs  # both are facts
            return Sign(known) if known else sign
        return sign

    def _structural(self, node: cst.CSTNode, depth: int) -> Sign:
        if isinstance(node, cst.UnaryOperation):
            inner = self.of(node.expression, depth)
            if isinstance(node.operator, cst.Minus):
                return inner.negated()
            return inner if isinstance(node.operator, cst.Plus) else ANY
        if isinstance(node, cst.BinaryOperation):
            return self._binary(node, depth)
        if isinstance(node, cst.Comparison):
            return NONNEGATIVE  # booleans: 0 or 1
        if isinstance(node, cst.Call):
            return self._call(node, depth)
        if isinstance(node, cst.Subscript):
            return self._subscript(node, depth)
        if isinstance(node, cst.Attribute):
            return self._attribute(node, depth)
        if isinstance(node, cst.Name):
            return self._name(node, depth)
        if isinstance(node, cst.IfExp):
            return self.of(node.body, depth) | self.of(node.orelse, depth)
        return ANY

    def _binary(self, node: cst.BinaryOperation, depth: int) -> Sign:
        operator = node.operator
        left, right = node.left, node.right
        if isinstance(operator, cst.Subtract) and self.bounds(right, left, depth):
            return NONPOSITIVE
        if isinstance(operator, cst.Multiply) and same_value(self.analysis, left, right):
            return NONNEGATIVE
        if isinstance(operator, cst.Power):
            return self._power(left, right, depth)
        a, b = self.of(left, depth), self.of(right, depth)
        if self.scales and isinstance(operator, (cst.Multiply, cst.Divide)):
            # the scale is the unknown factor next to a tensor of known sign (a divisor)
            if b == ANY and a != ANY and not numbers(self.analysis, left):
                b = _scale(right)
            elif a == ANY and b != ANY and isinstance(operator, cst.Multiply):
                a = _scale(left) if not numbers(self.analysis, right) else a
        if isinstance(operator, cst.Add):
            return _combine(a, b, _add)
        if isinstance(operator, cst.Subtract):
            return _combine(a, b.negated(), _add)
        if isinstance(operator, cst.Multiply):
            return _combine(a, b, lambda x, y: {x * y})
        if isinstance(operator, cst.Divide):
            divisors = Sign(b.signs - {0})
            return _combine(a, divisors, lambda x, y: {x * y}) if divisors.signs else ANY
        return ANY

    def _power(self, base: cst.CSTNode, exponent: cst.CSTNode, depth: int) -> Sign:
        powers = numbers(self.analysis, exponent)
        if powers and all(p == int(p) and int(p) % 2 == 0 and p > 0 for p in powers):
            return NONNEGATIVE
        inner = self.of(base, depth)
        if inner.signs <= NONNEGATIVE.signs and powers and all(p > 0 for p in powers):
            return inner
        return POSITIVE if inner.signs == POSITIVE.signs else ANY

    def _call(self, node: cst.Call, depth: int) -> Sign:
        callee = _callee(self.analysis, node)
        if callee is None:
            return ANY
        name, receiver = callee
        functions = receiver is None
        args = [arg for arg in node.args if not arg.star]
        if len(args) != len(node.args):
            return ANY
        table = _FIXED_FUNCTIONS if functions else _FIXED_METHODS
        if name in table:
            return table[name]
        inputs = [arg.value for arg in args if arg.keyword is None]
        subject = receiver if receiver is not None else (inputs[0] if inputs else None)
        if subject is None:
            return ANY
        keeping = _KEEPING_FUNCTIONS if functions else _KEEPING_METHODS
        if name in keeping and (functions or not _elementwise_pair(name, args)):
            return self.of(subject, depth)
        if name in _NEGATING[0 if functions else 1]:
            return self.of(subject, depth).negated()
        if name in _CLAMPS[0 if functions else 1]:
            return self._clamp(node, name, subject, args, functions, depth)
        if name == "torch.where" and len(inputs) == 3:
            return self.of(inputs[1], depth) | self.of(inputs[2], depth)
        return ANY

    def _clamp(
        self,
        node: cst.Call,
        name: str,
        subject: cst.CSTNode,
        args: list[cst.Arg],
        functions: bool,
        depth: int,
    ) -> Sign:
        """`x.clamp(min=a, max=b)`: the bounds narrow the sign of x."""
        positional = [arg.value for arg in args if arg.keyword is None][1 if functions else 0 :]
        keywords = {arg.keyword.value: arg.value for arg in args if arg.keyword is not None}
        if name.endswith(("clamp_min", "clamp_min_")):
            order = ("min",)
        elif name.endswith(("clamp_max", "clamp_max_")):
            order = ("max",)
        else:
            order = ("min", "max")
        bounds = {**dict(zip(order, positional)), **keywords}
        signs = set(self.of(subject, depth).signs)
        low = numbers(self.analysis, bounds["min"]) if "min" in bounds else ()
        high = numbers(self.analysis, bounds["max"]) if "max" in bounds else ()
        if low:
            least = min(low)
            signs |= {(least > 0) - (least < 0)}
            if least >= 0:
                signs.discard(-1)
            if least > 0:
                signs.discard(0)
        if high:
            most = max(high)
            signs |= {(most > 0) - (most < 0)}
            if most <= 0:
                signs.discard(1)
            if most < 0:
                signs.discard(0)
        return Sign(frozenset(signs)) if signs else ANY

    def _subscript(self, node: cst.Subscript, depth: int) -> Sign:
        """`x[i]` has the sign of x; the indices of a max (`torch.max(x, 1)[1]`) do not."""
        if _index(node) not in (None, 0):
            return ANY
        return self.of(node.value, depth)

    def _attribute(self, node: cst.Attribute, depth: int) -> Sign:
        name = node.attr.value
        if name in ("values", "data", "T", "mT"):
            return self.of(node.value, depth)
        if name in ("indices", "shape"):
            return NONNEGATIVE
        return ANY

    def _name(self, node: cst.Name, depth: int) -> Sign:
        definitions = self.analysis.reads.get(node)
        if not definitions:
            return ANY
        parents = self.analysis.source.parents
        result: Sign | None = None
        for definition in definitions:
            parent = parents.get(definition)
            if isinstance(parent, cst.AssignTarget):
                statement = parents.get(parent)
                value = statement.value if isinstance(statement, cst.Assign) else None
            elif isinstance(parent, cst.AnnAssign):
                value = parent.value
            else:
                value = None
            if isinstance(parent, cst.AugAssign) and parent.target is definition:
                sign = self._augmented(parent, depth - 1)
            elif value is not None and parent is not None:
                sign = self.of(value, depth - 1)
            else:
                return ANY
            result = sign if result is None else result | sign
        return result or ANY

    def _augmented(self, statement: cst.AugAssign, depth: int) -> Sign:
        """`s -= s.max(1, keepdim=True)[0]` (a shift), `den += torch.exp(x)`."""
        operator = statement.operator
        target, value = statement.target, statement.value
        if isinstance(operator, cst.SubtractAssign) and self.bounds(value, target, depth):
            return NONPOSITIVE
        a, b = self.of(target, depth), self.of(value, depth)
        if isinstance(operator, cst.AddAssign):
            return _combine(a, b, _add)
        if isinstance(operator, cst.SubtractAssign):
            return _combine(a, b.negated(), _add)
        if isinstance(operator, cst.MultiplyAssign):
            return _combine(a, b, lambda x, y: {x * y})
        return ANY

    def bounds(self, bound: cst.CSTNode, value: cst.CSTNode, depth: int) -> bool:
        """Whether `bound` is at least `value` everywhere: a maximum taken over it."""
        value = _strip(self.analysis, value)
        return any(
            same_value(self.analysis, bounded, value) for bounded in self._bounded(bound, depth)
        )

    def _bounded(self, node: cst.CSTNode, depth: int) -> list[cst.CSTNode]:
        """The expressions `node` is a maximum of (followed through names and views)."""
        node = _strip(self.analysis, node)
        if isinstance(node, cst.Name) and depth > 0:
            found: list[cst.CSTNode] = []
            for maximum in _maximum_definitions(self.analysis, node):
                found += self._bounded(maximum, depth - 1)
            return found
        if not isinstance(node, cst.Call):
            return []
        callee = _callee(self.analysis, node)
        if callee is None:
            return []
        name, receiver = callee
        if name not in _MAXIMA[0 if receiver is None else 1]:
            return []
        positional = [arg.value for arg in node.args if arg.keyword is None and not arg.star]
        keywords = {arg.keyword.value: arg.value for arg in node.args if arg.keyword}
        subjects = [receiver] if receiver is not None else positional[:1]
        subjects += [keywords[k] for k in ("input",) if k in keywords]
        # the elementwise maximum of two tensors bounds both
        if name in ("torch.maximum", "torch.fmax", "builtins.max", "maximum", "fmax") or (
            "other" in keywords
        ):
            subjects += positional[1:] if receiver is None else positional[:1]
            subjects += [keywords["other"]] if "other" in keywords else []
        elif name == "torch.max" and len(positional) == 2 and not _dimension(positional[1]):
            subjects.append(positional[1])
        return [_strip(self.analysis, subject) for subject in subjects]


def _scale(node: cst.CSTNode) -> Sign:
    """A name or attribute taken for a positive scale, under its unary minuses."""
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        return _scale(node.expression).negated()
    return POSITIVE if isinstance(node, (cst.Name, cst.Attribute)) else ANY


def _maximum_definitions(analysis: FileAnalysis, node: cst.Name) -> list[cst.CSTNode]:
    """What a name was assigned: the value, or the first item of a max (`m, _ = x.max(1)`)."""
    definitions = analysis.reads.get(node)
    if not definitions or len(definitions) != 1:
        return []
    (definition,) = definitions
    parents = analysis.source.parents
    parent = parents.get(definition)
    if isinstance(parent, cst.AnnAssign) and parent.value is not None:
        return [parent.value]
    if isinstance(parent, cst.AssignTarget):
        statement = parents.get(parent)
        return [statement.value] if isinstance(statement, cst.Assign) else []
    element = parent
    unpacking = parents.get(element) if isinstance(element, cst.Element) else None
    if isinstance(unpacking, (cst.Tuple, cst.List)) and unpacking.elements[0] is element:
        target = parents.get(unpacking)
        statement = parents.get(target) if isinstance(target, cst.AssignTarget) else None
        if isinstance(statement, cst.Assign):
            return [statement.value]  # the values of `torch.max(x, dim)`, not its indices
    return []


def _strip(analysis: FileAnalysis, node: cst.CSTNode) -> cst.CSTNode:
    """`m.detach()`, `m.unsqueeze(1)`, `m.values`, `m[0]`, `m[:, None]` -> m."""
    for _ in range(8):
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            if node.func.attr.value not in _TRANSPARENT:
                return node
            node = node.func.value
        elif (isinstance(node, cst.Attribute) and node.attr.value == "values") or (
            isinstance(node, cst.Subscript)
            and (_index(node) == 0 or (_index(node) is None and _only_slices(node)))
        ):
            node = node.value
        else:
            return node
    return node


def _index(node: cst.Subscript) -> int | None:
    """The integer index of `x[i]`, None when it is not one integer."""
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return None
    value = node.slice[0].slice.value
    if isinstance(value, cst.Integer):
        return int(value.value)
    return None


def _only_slices(node: cst.Subscript) -> bool:
    """`x[:, None]`, `x[..., None]`: the same values, another shape."""
    for element in node.slice:
        part = element.slice
        if isinstance(part, cst.Slice):
            if part.lower or part.upper or part.step:
                return False
        elif not (
            isinstance(part, cst.Index)
            and (
                isinstance(part.value, cst.Ellipsis)
                or (isinstance(part.value, cst.Name) and part.value.value == "None")
            )
        ):
            return False
    return True


def _dimension(node: cst.CSTNode) -> bool:
    """An integer (or a negative one): the `dim` of a reduction, not a second tensor."""
    if isinstance(node, cst.UnaryOperation):
        node = node.expression
    return isinstance(node, cst.Integer)


def _elementwise_pair(name: str, args: list[cst.Arg]) -> bool:
    """`a.max(b)`: the maximum of two tensors, not a reduction of a."""
    if name not in ("max", "min"):
        return False
    positional = [arg.value for arg in args if arg.keyword is None]
    keywords = {arg.keyword.value for arg in args if arg.keyword is not None}
    return "other" in keywords or (bool(positional) and not _dimension(positional[0]))


def same_value(analysis: FileAnalysis, a: cst.CSTNode, b: cst.CSTNode) -> bool:
    """Same text, and every name in it reads the same definitions."""
    if a is b:
        return True
    module = analysis.source.module
    if " ".join(module.code_for_node(a).split()) != " ".join(module.code_for_node(b).split()):
        return False
    names_a, names_b = _names(a), _names(b)
    return len(names_a) == len(names_b) and all(
        analysis.reads.get(x) == analysis.reads.get(y) for x, y in zip(names_a, names_b)
    )


def _names(node: cst.CSTNode) -> list[cst.Name]:
    found: list[cst.Name] = []

    class Collector(cst.CSTVisitor):
        def visit_Name(self, name: cst.Name) -> None:
            found.append(name)

        def visit_Attribute(self, attribute: cst.Attribute) -> bool:
            attribute.value.visit(self)
            return False  # the attribute's own name is not a variable

    node.visit(Collector())
    return found


def _callee(analysis: FileAnalysis, node: cst.Call) -> tuple[str, cst.BaseExpression | None] | None:
    """(canonical function name, None) or (method name, receiver node)."""
    fact = analysis.calls.get(node)
    if fact is None:
        return None
    callee = fact.callee
    if isinstance(callee, External):
        return api.canonical(callee.qualname), None
    if isinstance(callee, BoundMethod) and (
        callee.receiver is UNKNOWN or isinstance(callee.receiver, Tensor)
    ):
        return callee.name, callee.receiver_node
    return None


def _add(x: int, y: int) -> set[int]:
    if x == 0 or x == y:
        return {y}
    if y == 0:
        return {x}
    return {-1, 0, 1}


def _combine(a: Sign, b: Sign, operation) -> Sign:
    result: set[int] = set()
    for x in a.signs:
        for y in b.signs:
            result |= operation(x, y)
    return Sign(frozenset(result)) if result else ANY
