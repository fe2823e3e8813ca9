"""The bridge to PyTorch: :func:`to_torch` and :func:`from_torch` carry a model's weights
across, so the same network can be trained in either framework, compared number for
number, and brought back to be drawn and explored.

A chainrule Layer's neuron i computes  y_i = act(w_i . x + b_i);  all of them at once,

    y = act(W x + b),      W[i, j] = layer.neurons[i].w[j],   b[i] = layer.neurons[i].b,

is exactly what PyTorch's ``Linear`` followed by an activation module computes: its
``weight`` has shape (out, in) -- row i is neuron i's w -- and it computes x W^T + b for
a batch of row vectors x. So, layer by layer:

    chainrule                                 PyTorch
    Layer(nin, nout) with weights W, b        Linear(nin, nout): weight = W, bias = b
    activation "relu", "tanh", "sigmoid"      ReLU(), Tanh(), Sigmoid() after the Linear
    activation "linear"                       nothing after the Linear
    Standardize: (x - mean) / scale           StandardizeModule (mean, scale as buffers)
    MLP                                       Sequential of the above
    Classifier(MLP, classes, Standardize)     Sequential(StandardizeModule, ...), .classes

The numbers are copied, never shared: training one model leaves the other as it was.
PyTorch is optional: it is imported when one of these functions is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .layers import MLP
from .module import Module
from .preprocessing import Classifier, Standardize

if TYPE_CHECKING:
    import torch

# (and StandardizeModule, made on first use: a star import must not need torch)
__all__ = ["TORCH_ACTIVATIONS", "from_torch", "to_torch"]

#: the names of ``nn.layers.ACTIVATIONS`` with an exact PyTorch counterpart: the ``torch.nn``
#: module that follows the Linear, or None for none ("linear" is the identity). The
#: others (``step``: PyTorch has no Heaviside module whose gradient is 0) are refused.
TORCH_ACTIVATIONS: dict[str, str | None] = {
    "relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "linear": None,
}

_SUPPORTED = ", ".join(TORCH_ACTIVATIONS)
_CONVERTS_FROM = ("a torch.nn.Sequential of Linear layers, each optionally followed by ReLU, "
                  "Tanh or Sigmoid (Identity is skipped), with an optional leading "
                  "StandardizeModule (as to_torch makes)")
_INSTALL = ("pip install torch (the CPU-only wheel is much smaller: pip install torch "
            "--index-url https://download.pytorch.org/whl/cpu)")


def _import_torch(caller: str) -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError(f"{caller} needs PyTorch, which is not installed here; install it "
                          f"with {_INSTALL}") from None
    return torch


def __getattr__(name: str) -> Any:
    # StandardizeModule subclasses torch.nn.Module, so it is made on first use: importing
    # nn never imports torch. Made here, it pickles by name (torch.save(module) works).
    if name == "StandardizeModule":
        return _standardize_module_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _standardize_module_class() -> type:
    cls = globals().get("StandardizeModule")
    if cls is not None:
        return cls
    torch = _import_torch("StandardizeModule")

    class StandardizeModule(torch.nn.Module):
        """x -> (x - mean) / scale, feature by feature: chainrule's Standardize in
        PyTorch. ``mean`` and ``scale`` are buffers: saved in ``state_dict()``, moved by
        ``.to()``, never trained."""

        mean: torch.Tensor
        scale: torch.Tensor

        def __init__(self, mean: torch.Tensor, scale: torch.Tensor) -> None:
            super().__init__()
            self.register_buffer("mean", torch.as_tensor(mean))
            self.register_buffer("scale", torch.as_tensor(scale))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return (x - self.mean) / self.scale

        def extra_repr(self) -> str:
            return f"features={self.mean.numel()}"

    StandardizeModule.__qualname__ = "StandardizeModule"
    globals()["StandardizeModule"] = StandardizeModule
    return StandardizeModule


def to_torch(model: Module, dtype: torch.dtype | None = None) -> torch.nn.Module:
    """The same model as a ``torch.nn.Module`` holding a copy of its weights.

    - An :class:`MLP` becomes ``torch.nn.Sequential`` of ``Linear`` layers, each followed
      by its activation's module (none for ``"linear"``). Linear ``i`` holds layer i's
      weights: ``weight[j, k] = layers[i].neurons[j].w[k]`` (shape (out, in): row j is
      neuron j's w) and ``bias[j] = layers[i].neurons[j].b``, so it computes
      y = W x + b for each sample x.
    - A :class:`Classifier` (an MLP with a :class:`Standardize` or no preprocessing)
      becomes ``Sequential(StandardizeModule, *the MLP's layers)`` with its class names
      as the attribute ``classes`` (and ``features``, ``target`` when it has them).
    - A :class:`Standardize` becomes a ``StandardizeModule``: (x - mean) / scale, with
      ``mean`` and ``scale`` as buffers.

    ``dtype`` is the parameters' type, ``torch.float64`` by default: chainrule computes
    in float64, so the two models then agree to rounding. A layer whose activation has
    no exact PyTorch counterpart (``step``), or whose neurons use different activations,
    raises ValueError naming the layer and the activation.
    """
    torch = _import_torch("to_torch")
    dtype = torch.float64 if dtype is None else dtype
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(f"to_torch: dtype must be a floating-point torch.dtype such as "
                         f"torch.float64, got {dtype!r}")
    if isinstance(model, Standardize):
        return _to_standardize_module(torch, model, dtype)
    if isinstance(model, MLP):
        return torch.nn.Sequential(*_to_torch_layers(torch, model, dtype, "the MLP"))
    if isinstance(model, Classifier):
        network, preprocess = model.network, model.preprocess
        if not isinstance(network, MLP):
            raise TypeError(f"to_torch: the Classifier's network is a "
                            f"{type(network).__name__}; to_torch converts an MLP")
        if preprocess is not None and not isinstance(preprocess, Standardize):
            raise TypeError(f"to_torch: the Classifier's preprocessing is a "
                            f"{type(preprocess).__name__}; to_torch converts a Standardize")
        modules = _to_torch_layers(torch, network, dtype, "the Classifier's network")
        if preprocess is not None:
            modules.insert(0, _to_standardize_module(torch, preprocess, dtype))
        converted = torch.nn.Sequential(*modules)
        converted.classes = model.classes
        for name in ("features", "target"):  # (kept, so that from_torch gives them back)
            if getattr(model, name, None) is not None:
                setattr(converted, name, getattr(model, name))
        return converted
    raise TypeError(f"to_torch converts an MLP, a Classifier of an MLP (with a Standardize "
                    f"or no preprocessing) or a Standardize; got {type(model).__name__} "
                    f"{model!r:.60}")


def _to_standardize_module(torch: Any, standardize: Standardize, dtype: Any) -> Any:
    return _standardize_module_class()(torch.tensor(standardize.mean, dtype=dtype),
                                       torch.tensor(standardize.scale, dtype=dtype))


def _to_torch_layers(torch: Any, mlp: MLP, dtype: Any, where: str) -> list[Any]:
    """Linear (and its activation's module) for each of the MLP's layers."""
    modules = []
    for i, layer in enumerate(mlp.layers):
        activation = layer.activation
        if not isinstance(activation, str):
            raise ValueError(
                f"to_torch: layers[{i}] of {where} mixes activations across its neurons "
                f"({', '.join(sorted(set(activation)))}); a PyTorch layer applies one "
                f"activation to all its outputs. Give each layer one of {_SUPPORTED}")
        if activation not in TORCH_ACTIVATIONS:
            raise ValueError(
                f"to_torch: layers[{i}] of {where} uses activation {activation!r}, which "
                f"has no exact PyTorch counterpart; supported: {_SUPPORTED}")
        # made on the meta device and filled from the weights: torch's random number
        # generator is not touched by drawing an initialisation that is thrown away
        linear = torch.nn.Linear(layer.nin, layer.nout, dtype=dtype, device="meta")
        linear = linear.to_empty(device="cpu")
        with torch.no_grad():
            linear.weight.copy_(torch.tensor([[w.data for w in neuron.w]
                                              for neuron in layer.neurons], dtype=dtype))
            linear.bias.copy_(torch.tensor([neuron.b.data for neuron in layer.neurons],
                                           dtype=dtype))
        modules.append(linear)
        if TORCH_ACTIVATIONS[activation] is not None:
            modules.append(getattr(torch.nn, TORCH_ACTIVATIONS[activation])())
    return modules


def from_torch(module: torch.nn.Module, classes: list[str] | None = None) -> Module:
    """The chainrule model a PyTorch module computes, with a copy of its weights: the
    reverse of :func:`to_torch`.

    ``module`` is a ``torch.nn.Sequential`` of ``Linear`` layers, each optionally
    followed by ``ReLU``, ``Tanh`` or ``Sigmoid`` (``Identity`` is skipped), optionally
    led by a ``StandardizeModule``; or a single ``Linear`` or ``StandardizeModule``.
    Linear i's ``weight`` (shape (out, in)) gives layer i's neurons their w, one row
    each, and its ``bias`` their b; the numbers become float64 Values.

    The result is an :class:`MLP`, or a :class:`Classifier` when ``classes`` is given or
    the module carries ``classes`` (as to_torch's do) -- with a :class:`Standardize` when
    it is led by a StandardizeModule, which needs the class names. A StandardizeModule
    alone gives a Standardize. (An MLP without hidden layers comes back with the default
    hidden ``activation``, "relu": it computes nothing there, and PyTorch keeps no trace.)
    Any other submodule raises ValueError naming it and its type (a Conv2d, BatchNorm
    or Dropout has no chainrule counterpart).
    """
    torch = _import_torch("from_torch")
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"from_torch converts a torch.nn.Module, got {type(module).__name__}")
    standardize_module = _standardize_module_class()
    if isinstance(module, standardize_module):
        if classes is not None:
            raise ValueError("from_torch: classes given for a StandardizeModule alone; a "
                             "Classifier needs Linear layers after it")
        return _from_standardize_module(module)
    if isinstance(module, torch.nn.Sequential):
        children = list(module.named_children())
    elif isinstance(module, torch.nn.Linear):
        children = [("(the module itself)", module)]
    else:
        raise ValueError(f"from_torch: got a {type(module).__name__}; from_torch converts "
                         f"{_CONVERTS_FROM}")

    preprocess = None
    linears: list[Any] = []
    activations: list[str] = []
    follows_linear = False  # whether the previous submodule (Identity aside) was a Linear
    activation_of = {getattr(torch.nn, name): activation
                     for activation, name in TORCH_ACTIVATIONS.items() if name}
    for position, (name, child) in enumerate(children):
        kind = type(child).__name__
        if isinstance(child, standardize_module) and position == 0:
            preprocess = _from_standardize_module(child)
        elif type(child) is torch.nn.Identity:
            continue
        elif type(child) is torch.nn.Linear:
            before = (linears[-1].out_features if linears
                      else None if preprocess is None else preprocess.nin)
            _check_linear(torch, name, child, before)
            linears.append(child)
            activations.append("linear")
            follows_linear = True
            continue
        elif type(child) in activation_of:
            if not follows_linear:
                raise ValueError(f"from_torch: submodule {name!r} ({kind}) does not follow a "
                                 "Linear; chainrule applies one activation after each Linear")
            activations[-1] = activation_of[type(child)]
        else:
            if isinstance(child, standardize_module):
                problem = "not first"
            elif isinstance(child, torch.nn.Dropout):
                problem = ("which from_torch cannot convert (in eval mode Dropout is the "
                           "identity: leave it out, torch.nn.Sequential(*[m for m in module "
                           "if not isinstance(m, torch.nn.Dropout)]))")
            else:
                problem = "which from_torch cannot convert"
            shown = " ".join(repr(child).split())  # (on one line)
            raise ValueError(f"from_torch: submodule {name!r} is a {kind} ({shown:.80}), "
                             f"{problem}; it converts {_CONVERTS_FROM}")
        follows_linear = False
    if not linears:
        raise ValueError(f"from_torch: the module has no Linear layer; from_torch converts "
                         f"{_CONVERTS_FROM}")

    network = _mlp_of(linears, activations)
    if classes is None:
        classes = getattr(module, "classes", None)
    if classes is None:
        if preprocess is not None:
            raise ValueError("from_torch: the module standardizes its inputs, so it becomes "
                             "a Classifier, which needs the class names: pass classes=[...]")
        return network
    names = {name: getattr(module, name) for name in ("features", "target")
             if getattr(module, name, None) is not None}
    return Classifier(network, classes, preprocess=preprocess, **names)


def _check_linear(torch: Any, name: str, linear: Any, given: int | None) -> None:
    """A bias, finite weights, and as many inputs as the module before gives."""
    if linear.bias is None:
        raise ValueError(f"from_torch: submodule {name!r} ({linear!r}) has no bias; "
                         "chainrule's neurons always have one: build it with bias=True")
    for tensor in (linear.weight, linear.bias):
        if not bool(torch.isfinite(tensor).all()):
            raise ValueError(f"from_torch: submodule {name!r} ({linear!r}) holds non-finite "
                             "weights (inf or nan)")
    if given is not None and given != linear.in_features:
        raise ValueError(f"from_torch: submodule {name!r} ({linear!r}) takes "
                         f"{linear.in_features} inputs, but the module before it gives "
                         f"{given}")


def _numbers(tensor: Any) -> list[Any]:
    """A tensor's numbers as Python floats (float64), from any device and dtype."""
    return tensor.detach().cpu().double().tolist()


def _from_standardize_module(module: Any) -> Standardize:
    return Standardize(_numbers(module.mean.reshape(-1)), _numbers(module.scale.reshape(-1)))


def _mlp_of(linears: list[Any], activations: list[str]) -> MLP:
    """The MLP of these Linear layers and activations, holding copies of their weights."""
    hidden = activations[:-1]
    shared = hidden[0] if hidden and all(a == hidden[0] for a in hidden) else "relu"
    mlp = MLP(linears[0].in_features, [linear.out_features for linear in linears],
              activation=shared, output_activation=activations[-1], seed=0)
    for layer, linear, activation in zip(mlp.layers, linears, activations):
        if layer.activation != activation:  # hidden layers that differ
            layer.activation = activation
        for neuron, row, bias in zip(layer.neurons, _numbers(linear.weight),
                                     _numbers(linear.bias)):
            for w, number in zip(neuron.w, row):
                w.data = number
            neuron.b.data = bias
    return mlp
