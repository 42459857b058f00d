"""What nanlint knows of the torch API: activations, kind-preserving ops, modules and losses.

Every spelling of one operation maps to one entry: `torch.sigmoid`, `torch.nn.functional.sigmoid`,
`torch.special.expit`, the `Tensor.sigmoid` method and the `nn.Sigmoid` module all produce
`prob.sigmoid`. Qualified names are canonical (see `canonical`); parameters are listed in
positional order so that calls can be bound to them.
"""

from __future__ import annotations

from dataclasses import dataclass

from nanlint.analysis.kinds import Kind
from nanlint.analysis.values import StepRole


def canonical(qualname: str) -> str:
    """`torch.nn.modules.loss.BCELoss` -> `torch.nn.BCELoss`,
    `torch.distributions.categorical.Categorical` -> `torch.distributions.Categorical`,
    `pyro.distributions.Bernoulli` -> `torch.distributions.Bernoulli` (Pyro's distributions
    subclass torch's with the same parameters)."""
    parts = qualname.split(".")
    if parts[:2] == ["pyro", "distributions"] and len(parts) > 2:
        return canonical(
            "torch.distributions." + ".".join(parts[3:] if parts[2] == "torch" else parts[2:])
        )
    if parts[:3] == ["torch", "nn", "modules"] and len(parts) > 4:
        return "torch.nn." + ".".join(parts[4:])
    if parts[:3] == ["torch", "nn", "parallel"] and len(parts) > 4:
        return "torch.nn.parallel." + ".".join(parts[4:])
    if parts[:2] == ["torch", "distributions"] and len(parts) == 4:
        return "torch.distributions." + parts[3]
    return qualname


@dataclass(frozen=True)
class Producer:
    """An operation whose output lives in a known space."""

    kind: Kind
    name: str  # the operation, as messages name it: "sigmoid", "softmax"
    params: tuple[str, ...]  # after the input tensor (methods) or including it (functions)
    options: tuple[str, ...] = ()  # parameters a rewrite carries over: dim, dtype
    exact: bool = True  # False: a different function (hardsigmoid), so removing it is unsafe
    input: str = "input"  # the parameter holding the tensor (functions)
    removable: bool = True  # False: no edit can take it out (a random sample: gumbel_softmax)


_SIGMOID = Producer(Kind.PROB_SIGMOID, "sigmoid", ("input",))
_HARDSIGMOID = Producer(Kind.PROB_SIGMOID, "hardsigmoid", ("input", "inplace"), exact=False)
_SOFTMAX = Producer(
    Kind.PROB_SOFTMAX, "softmax", ("input", "dim", "_stacklevel", "dtype"), ("dim", "dtype")
)
_TORCH_SOFTMAX = Producer(Kind.PROB_SOFTMAX, "softmax", ("input", "dim", "dtype"), ("dim", "dtype"))
_LOG_SOFTMAX = Producer(
    Kind.LOGPROB, "log_softmax", ("input", "dim", "_stacklevel", "dtype"), ("dim", "dtype")
)
_TORCH_LOG_SOFTMAX = Producer(
    Kind.LOGPROB, "log_softmax", ("input", "dim", "dtype"), ("dim", "dtype")
)
# Soft samples (and straight-through one-hot samples, `hard=True`) of a relaxed categorical:
# probabilities, but removing the noise changes more than the numerics.
_GUMBEL_SOFTMAX = Producer(
    Kind.PROB_SOFTMAX,
    "gumbel_softmax",
    ("logits", "tau", "hard", "eps", "dim"),
    ("dim",),
    exact=False,
    input="logits",
    removable=False,
)
_LOGSIGMOID = Producer(Kind.LOGPROB, "logsigmoid", ("input",))
_RELU = Producer(Kind.NONNEG, "relu", ("input", "inplace"))
_RELU6 = Producer(Kind.NONNEG, "relu6", ("input", "inplace"))
_SOFTPLUS = Producer(Kind.NONNEG, "softplus", ("input", "beta", "threshold"))
_EXP = Producer(Kind.EXP, "exp", ("input",))
_SQUARE = Producer(Kind.SQUARE, "square", ("input",))

PRODUCER_FUNCTIONS: dict[str, Producer] = {
    "torch.sigmoid": _SIGMOID,
    "torch.sigmoid_": _SIGMOID,
    "torch.nn.functional.sigmoid": _SIGMOID,
    "torch.special.expit": _SIGMOID,
    "torch.nn.functional.hardsigmoid": _HARDSIGMOID,
    "torch.softmax": _TORCH_SOFTMAX,
    "torch.special.softmax": _TORCH_SOFTMAX,
    "torch.nn.functional.softmax": _SOFTMAX,
    "torch.log_softmax": _TORCH_LOG_SOFTMAX,
    "torch.special.log_softmax": _TORCH_LOG_SOFTMAX,
    "torch.nn.functional.log_softmax": _LOG_SOFTMAX,
    "torch.nn.functional.gumbel_softmax": _GUMBEL_SOFTMAX,
    "torch.nn.functional.logsigmoid": _LOGSIGMOID,
    "torch.relu": _RELU,
    "torch.relu_": _RELU,
    "torch.nn.functional.relu": _RELU,
    "torch.nn.functional.relu_": _RELU,
    "torch.nn.functional.relu6": _RELU6,
    "torch.nn.functional.softplus": _SOFTPLUS,
    "torch.exp": _EXP,
    "torch.exp_": _EXP,
    "torch.square": _SQUARE,
}

# Producers of random samples: no logits stand behind them.
SAMPLERS = frozenset(
    name for name, producer in PRODUCER_FUNCTIONS.items() if not producer.removable
)

# Tensor methods: the receiver is the input, so `params` starts after it.
PRODUCER_METHODS: dict[str, Producer] = {
    "sigmoid": Producer(Kind.PROB_SIGMOID, "sigmoid", ()),
    "sigmoid_": Producer(Kind.PROB_SIGMOID, "sigmoid", ()),
    "softmax": Producer(Kind.PROB_SOFTMAX, "softmax", ("dim", "dtype"), ("dim", "dtype")),
    "log_softmax": Producer(Kind.LOGPROB, "log_softmax", ("dim", "dtype"), ("dim", "dtype")),
    "relu": Producer(Kind.NONNEG, "relu", ()),
    "relu_": Producer(Kind.NONNEG, "relu", ()),
    "exp": Producer(Kind.EXP, "exp", ()),
    "exp_": Producer(Kind.EXP, "exp", ()),
    "square": Producer(Kind.SQUARE, "square", ()),
}


@dataclass(frozen=True)
class Operation:
    """An elementwise or reducing operation rules inspect, in all its spellings."""

    functions: tuple[str, ...]  # canonical qualified names, taking the tensor first
    methods: tuple[str, ...]  # tensor-method names
    params: tuple[str, ...]  # of the function form; the method form drops the first


# Operations whose result depends on the input's kind (analysis/arithmetic.py) and that the
# rules look for (log of a softmax, sqrt of a sum of squares, where with a log branch, ...).
OPERATIONS: dict[str, Operation] = {
    "sum": Operation(("torch.sum",), ("sum",), ("input", "dim", "keepdim", "dtype")),
    "mean": Operation(("torch.mean",), ("mean",), ("input", "dim", "keepdim", "dtype")),
    "add": Operation(("torch.add",), ("add", "add_"), ("input", "other", "alpha")),
    "sub": Operation(
        ("torch.sub", "torch.subtract"),
        ("sub", "sub_", "subtract", "subtract_"),
        ("input", "other", "alpha"),
    ),
    "pow": Operation(
        ("torch.pow", "torch.float_power"), ("pow", "pow_", "float_power"), ("input", "exponent")
    ),
    "log": Operation(("torch.log", "torch.log_"), ("log", "log_"), ("input",)),
    "log1p": Operation(
        ("torch.log1p", "torch.log1p_", "torch.special.log1p"), ("log1p", "log1p_"), ("input",)
    ),
    "sqrt": Operation(("torch.sqrt", "torch.sqrt_"), ("sqrt", "sqrt_"), ("input",)),
    "rsqrt": Operation(("torch.rsqrt", "torch.rsqrt_"), ("rsqrt", "rsqrt_"), ("input",)),
    "reciprocal": Operation(
        ("torch.reciprocal", "torch.reciprocal_"), ("reciprocal", "reciprocal_"), ("input",)
    ),
    "where": Operation(("torch.where",), (), ("condition", "input", "other")),
    "abs": Operation(
        ("torch.abs", "torch.abs_", "torch.absolute", "builtins.abs"),
        ("abs", "abs_", "absolute", "absolute_"),
        ("input",),
    ),
}
OPERATION_BY_FUNCTION = {name: key for key, op in OPERATIONS.items() for name in op.functions}
OPERATION_BY_METHOD = {name: key for key, op in OPERATIONS.items() for name in op.methods}

# nn modules: `params` are the constructor's; Softmax2d always works over the channels.
ACTIVATION_MODULES: dict[str, Producer] = {
    "torch.nn.Sigmoid": _SIGMOID,
    "torch.nn.Hardsigmoid": Producer(Kind.PROB_SIGMOID, "hardsigmoid", ("inplace",), exact=False),
    "torch.nn.Softmax": Producer(Kind.PROB_SOFTMAX, "softmax", ("dim",), ("dim",)),
    "torch.nn.Softmax2d": Producer(Kind.PROB_SOFTMAX, "softmax", ()),
    "torch.nn.LogSoftmax": Producer(Kind.LOGPROB, "log_softmax", ("dim",), ("dim",)),
    "torch.nn.LogSigmoid": Producer(Kind.LOGPROB, "logsigmoid", ()),
    "torch.nn.ReLU": Producer(Kind.NONNEG, "relu", ("inplace",)),
    "torch.nn.ReLU6": Producer(Kind.NONNEG, "relu6", ("inplace",)),
    "torch.nn.Softplus": Producer(Kind.NONNEG, "softplus", ("beta", "threshold")),
}

# Methods that change only dtype, device or storage: every dimension stays where it was.
SAME_LAYOUT_METHODS = (
    "contiguous",
    "float",
    "double",
    "half",
    "bfloat16",
    "to",
    "type",
    "type_as",
    "cpu",
    "cuda",
    "detach",
    "detach_",
    "clone",
)

# Operations that keep the kind of their first tensor, by tensor-method name.
PRESERVING_METHODS: dict[str, StepRole] = {
    **dict.fromkeys(
        [
            "view",
            "view_as",
            "reshape",
            "reshape_as",
            "squeeze",
            "squeeze_",
            "unsqueeze",
            "unsqueeze_",
            "flatten",
            "unflatten",
            "permute",
            "transpose",
            "transpose_",
            "t",
            "t_",
            *SAME_LAYOUT_METHODS,
            "expand",
            "expand_as",
            "narrow",
            "select",
            "movedim",
            "moveaxis",
            "swapaxes",
            "swapdims",
            "flip",
            "roll",
            "repeat",
            "tile",
            "index_select",
            "gather",
            "take",
            "masked_select",
            "diag",
            "diagonal",
        ],
        StepRole.COMMUTES,
    ),
    **dict.fromkeys(["clamp", "clamp_", "clip", "clip_", "clamp_min", "clamp_max"], StepRole.GUARD),
}

# The same, as torch functions taking the tensor first.
PRESERVING_FUNCTIONS: dict[str, StepRole] = {
    **{
        f"torch.{name}": StepRole.COMMUTES
        for name in [
            "flatten",
            "squeeze",
            "unsqueeze",
            "reshape",
            "transpose",
            "permute",
            "movedim",
            "moveaxis",
            "swapaxes",
            "swapdims",
            "narrow",
            "select",
            "index_select",
            "gather",
            "take",
            "flip",
            "roll",
            "tile",
            "masked_select",
            "diag",
            "diagonal",
        ]
    },
    **dict.fromkeys(
        ("torch.clamp", "torch.clip", "torch.clamp_min", "torch.clamp_max"), StepRole.GUARD
    ),
}

# torch.cat([p, q]) of one kind keeps it, but no rewrite can see through it.
JOINING_FUNCTIONS = frozenset(
    f"torch.{name}"
    for name in ["cat", "concat", "concatenate", "stack", "hstack", "vstack", "dstack"]
)

# One-hot masks: `F.one_hot(y, C)` and the rows of `torch.eye(C)` (one along the last
# dimension); zeros a `scatter_(dim, y, 1)` turns into one (along `dim`).
ONE_HOT_FUNCTIONS = frozenset(("torch.nn.functional.one_hot", "torch.eye"))
ZEROS_FUNCTIONS = frozenset(("torch.zeros", "torch.zeros_like"))
ZEROS_METHODS = frozenset(("new_zeros", "zero_"))
SCATTER_METHODS = frozenset(("scatter", "scatter_"))
SCATTER_PARAMS = ("dim", "index", "value")
# Matrix products: `torch.bmm(p.unsqueeze(1), one_hot.unsqueeze(-1))` selects too.
MATMUL_FUNCTIONS = frozenset(("torch.matmul", "torch.bmm"))
MATMUL_METHODS = frozenset(("matmul", "bmm"))
# What moves a one-hot mask's dimension: the last two swap, a new last one pushes it to -2.
SWAPPING = frozenset(("t", "T", "mT"))

PRESERVING_ATTRIBUTES = frozenset(("T", "mT", "H", "mH", "data"))

# Modules that pass their input through with its kind.
PASS_THROUGH_MODULES = frozenset(("torch.nn.Identity", "torch.nn.Flatten", "torch.nn.Unflatten"))

CONTAINER_MODULES = frozenset(("torch.nn.Sequential", "torch.nn.ModuleList", "torch.nn.ModuleDict"))

# Wrappers whose call runs the wrapped model unchanged (first argument).
MODEL_WRAPPERS = frozenset(
    (
        "torch.nn.DataParallel",
        "torch.nn.parallel.DataParallel",
        "torch.nn.parallel.DistributedDataParallel",
        "torch.compile",
        "torch.jit.script",
    )
)

# nn.Module methods that return the module itself.
SELF_RETURNING_METHODS = frozenset(
    [
        "to",
        "cuda",
        "cpu",
        "float",
        "double",
        "half",
        "bfloat16",
        "train",
        "eval",
        "requires_grad_",
        "type",
        "share_memory",
        "apply",
    ]
)

# Of those, the ones that also give a tensor back with its kind (a cast or a move): after
# `self.x = self.x.to(device)` the attribute holds what it held, module or tensor.
VALUE_KEEPING_METHODS = SELF_RETURNING_METHODS - {"apply"}

# Modules passed as a namespace parameter (`def f(x, F=torch)`, `xp=torch`).
NAMESPACES = frozenset(("torch", "torch.nn.functional", "torch.special", "torch.linalg"))

# Functions that run a model (or function) on inputs and return what it returns:
# `data_parallel(model, inputs)` calls `model(*inputs)`, `checkpoint(fn, *args)` `fn(*args)`.
MODEL_RUNNERS: dict[str, str] = {
    "torch.nn.parallel.data_parallel": "inputs",  # a tuple of inputs, or one input
    "torch.utils.checkpoint.checkpoint": "*args",
}

# Methods that change what a container module holds.
MUTATING_METHODS = frozenset(("append", "extend", "insert", "add_module", "register_module", "pop"))

# Autocast context managers (and decorators), with their constructor's parameters.
_AUTOCAST_PARAMS = ("device_type", "dtype", "enabled", "cache_enabled")
_DEVICE_AUTOCAST_PARAMS = ("enabled", "dtype", "cache_enabled")
AUTOCAST: dict[str, tuple[str, ...]] = {
    "torch.autocast": _AUTOCAST_PARAMS,
    "torch.amp.autocast": _AUTOCAST_PARAMS,
    "torch.amp.autocast_mode.autocast": _AUTOCAST_PARAMS,
    "torch.cuda.amp.autocast": _DEVICE_AUTOCAST_PARAMS,
    "torch.cuda.amp.autocast_mode.autocast": _DEVICE_AUTOCAST_PARAMS,
    "torch.cpu.amp.autocast": _DEVICE_AUTOCAST_PARAMS,
    "torch.cpu.amp.autocast_mode.autocast": _DEVICE_AUTOCAST_PARAMS,
}

# Context managers (and decorators) under which nothing is differentiated.
NO_GRAD = frozenset(("torch.no_grad", "torch.inference_mode"))

# Decorators that keep what a function returns.
TRANSPARENT_DECORATORS = frozenset(
    (
        "staticmethod",
        "classmethod",
        "torch.no_grad",
        "torch.inference_mode",
        "torch.enable_grad",
        "torch.autocast",
        "torch.amp.autocast",
        "torch.cuda.amp.autocast",
        "torch.cpu.amp.autocast",
        "torch.compile",
        "torch.jit.script",
        "torch.jit.export",
        "torch.jit.ignore",
        "functools.cache",
        "functools.lru_cache",
        "abc.abstractmethod",
        "typing.override",
        "typing_extensions.override",
    )
)


@dataclass(frozen=True)
class Loss:
    """A loss function in its functional and module forms.

    A torch.distributions constructor is described the same way: a function whose `probs`
    argument is the input it consumes (see DISTRIBUTIONS).
    """

    key: str
    label: str  # the module's name, as messages say it: "BCELoss"
    functions: tuple[str, ...]
    function_params: tuple[str, ...]
    module: str | None
    module_params: tuple[str, ...]
    input_param: str = "input"
    target_param: str = "target"

    @property
    def call_params(self) -> tuple[str, ...]:
        """Parameters of a module instance's call."""
        return (self.input_param, self.target_param)


_REDUCTION = ("size_average", "reduce", "reduction")

BCE = Loss(
    "bce",
    "BCELoss",
    ("torch.nn.functional.binary_cross_entropy",),
    ("input", "target", "weight", *_REDUCTION),
    "torch.nn.BCELoss",
    ("weight", *_REDUCTION),
)
BCE_WITH_LOGITS = Loss(
    "bce_with_logits",
    "BCEWithLogitsLoss",
    (
        "torch.nn.functional.binary_cross_entropy_with_logits",
        "torch.binary_cross_entropy_with_logits",
    ),
    ("input", "target", "weight", *_REDUCTION, "pos_weight"),
    "torch.nn.BCEWithLogitsLoss",
    ("weight", *_REDUCTION, "pos_weight"),
)
SIGMOID_FOCAL = Loss(
    "sigmoid_focal_loss",
    "sigmoid_focal_loss",
    ("torchvision.ops.sigmoid_focal_loss", "torchvision.ops.focal_loss.sigmoid_focal_loss"),
    ("inputs", "targets", "alpha", "gamma", "reduction"),
    None,
    (),
    input_param="inputs",
    target_param="targets",
)
MULTILABEL_SOFT_MARGIN = Loss(
    "multilabel_soft_margin",
    "MultiLabelSoftMarginLoss",
    ("torch.nn.functional.multilabel_soft_margin_loss",),
    ("input", "target", "weight", *_REDUCTION),
    "torch.nn.MultiLabelSoftMarginLoss",
    ("weight", *_REDUCTION),
)
NLL = Loss(
    "nll",
    "NLLLoss",
    ("torch.nn.functional.nll_loss",),
    ("input", "target", "weight", "size_average", "ignore_index", "reduce", "reduction"),
    "torch.nn.NLLLoss",
    ("weight", "size_average", "ignore_index", "reduce", "reduction"),
)
KL_DIV = Loss(
    "kl_div",
    "KLDivLoss",
    ("torch.nn.functional.kl_div",),
    ("input", "target", *_REDUCTION, "log_target"),
    "torch.nn.KLDivLoss",
    (*_REDUCTION, "log_target"),
)
CROSS_ENTROPY = Loss(
    "cross_entropy",
    "CrossEntropyLoss",
    ("torch.nn.functional.cross_entropy",),
    (
        "input",
        "target",
        "weight",
        "size_average",
        "ignore_index",
        "reduce",
        "reduction",
        "label_smoothing",
    ),
    "torch.nn.CrossEntropyLoss",
    ("weight", "size_average", "ignore_index", "reduce", "reduction", "label_smoothing"),
)

LOSSES: tuple[Loss, ...] = (
    BCE,
    BCE_WITH_LOGITS,
    SIGMOID_FOCAL,
    MULTILABEL_SOFT_MARGIN,
    CROSS_ENTROPY,
    NLL,
    KL_DIV,
)

LOSS_BY_FUNCTION: dict[str, Loss] = {name: loss for loss in LOSSES for name in loss.functions}


def _distribution(name: str, before: tuple[str, ...] = (), after: tuple[str, ...] = ()) -> Loss:
    """`torch.distributions.<name>(*before, probs, logits, *after, validate_args)`."""
    params = (*before, "probs", "logits", *after, "validate_args")
    return Loss(name, name, (f"torch.distributions.{name}",), params, None, (), "probs")


# Distributions over classes: `probs` is normalised over the last dimension.
CATEGORICAL_DISTRIBUTIONS: tuple[Loss, ...] = (
    _distribution("Categorical"),
    _distribution("OneHotCategorical"),
    _distribution("OneHotCategoricalStraightThrough"),
    _distribution("Multinomial", ("total_count",)),
    _distribution("RelaxedOneHotCategorical", ("temperature",)),
    _distribution("ExpRelaxedCategorical", ("temperature",)),
)
# Distributions of one probability per element: `probs` is sigmoid(logits).
BINARY_DISTRIBUTIONS: tuple[Loss, ...] = (
    _distribution("Bernoulli"),
    _distribution("Binomial", ("total_count",)),
    _distribution("Geometric"),
    _distribution("ContinuousBernoulli", after=("lims",)),
    _distribution("RelaxedBernoulli", ("temperature",)),
    _distribution("LogitRelaxedBernoulli", ("temperature",)),
    _distribution("NegativeBinomial", ("total_count",)),
)
DISTRIBUTION_BY_FUNCTION: dict[str, Loss] = {
    name: distribution
    for distribution in (*CATEGORICAL_DISTRIBUTIONS, *BINARY_DISTRIBUTIONS)
    for name in distribution.functions
}
LOSS_BY_MODULE: dict[str, Loss] = {loss.module: loss for loss in LOSSES if loss.module}


def is_torch_module_class(qualname: str) -> bool:
    """Whether a qualified name is a torch.nn module class nanlint models."""
    return (
        qualname in ACTIVATION_MODULES
        or qualname in PASS_THROUGH_MODULES
        or qualname in CONTAINER_MODULES
        or qualname in LOSS_BY_MODULE
        or (qualname.startswith("torch.nn.") and qualname.rsplit(".", 1)[-1][:1].isupper())
    )


def is_kind_related(qualname: str) -> bool:
    """A torch loss, activation or producer: something a value's kind depends on."""
    name = canonical(qualname)
    return (
        name in LOSS_BY_FUNCTION
        or name in LOSS_BY_MODULE
        or name in PRODUCER_FUNCTIONS
        or name in ACTIVATION_MODULES
    )
