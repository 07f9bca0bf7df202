"""Is this network a max-affine spline? The guard every spline method runs first.

The paper's partition codes, distances, early-bird tickets and Eq. 2 redundancy are defined for networks whose
units are (leaky-)ReLUs: each unit then has one hyperplane, where its pre-activation changes sign. A GELU, SiLU,
Hardswish, sigmoid or tanh unit has no such kink, and a ReLU6 has two, so codes taken from the ReLUs such a net
happens to have would describe only part of it — a silent wrong answer. The spline methods therefore refuse those
nets with one error that names the first offending activation and where it is (``blocks.0.mlp.act``); structured
baselines (magnitude, BN scale, ThiNet, random) still run on them.

Activation *modules* are inspected; a net that calls ``F.relu``/``F.gelu`` functionally has no modules to hook, which
``PartitionTracker`` reports as "no ReLU/LeakyReLU layer".
"""

from __future__ import annotations

from torch import nn

from splinebench.errors import BadInputError

SPLINE_ACTIVATIONS: tuple[type[nn.Module], ...] = (nn.ReLU, nn.LeakyReLU)

# Lower-cased class names of activations that are not (leaky-)ReLU: torch's and timm's own classes (timm defines
# GELU, Swish, Mish, HardSwish... of its own, so isinstance against torch's classes is not enough).
_NON_SPLINE_NAMES = {
    "gelu", "gelutanh", "quickgelu", "silu", "swish", "swishme", "mish", "mishme", "sigmoid", "hardsigmoid",
    "hardsigmoidme", "tanh", "hardtanh", "hardswish", "hardswishme", "relu6", "elu", "selu", "celu", "softplus",
    "softsign", "tanhshrink", "prelu", "rrelu", "glu", "geglu", "swiglu", "logsigmoid", "hardshrink", "softshrink",
}


class NotASplineError(BadInputError):
    """A spline method was asked of a network that is not a (leaky-)ReLU max-affine spline."""


def non_spline_activations(model: nn.Module) -> list[tuple[str, str]]:
    """(module path, class name) of every activation module that is not ReLU/LeakyReLU, in registration order."""
    found = []
    for name, module in model.named_modules():
        if isinstance(module, SPLINE_ACTIVATIONS):
            continue
        if type(module).__name__.lower() in _NON_SPLINE_NAMES:
            found.append((name, type(module).__name__))
    return found


def require_spline(model: nn.Module, method: str, model_name: str = "the model") -> None:
    """Raise :class:`NotASplineError` unless every activation module of ``model`` is a (leaky-)ReLU.

    ``method`` says what needed it ("spline pruning", "partition tracking"); the message names the first offending
    activation and its module path, and how many others there are.
    """
    offending = non_spline_activations(model)
    if offending:
        path, kind = offending[0]
        kinds = sorted({k for _, k in offending})
        more = f" ({len(offending)} non-ReLU activation modules in all: {', '.join(kinds)})" if len(offending) > 1 \
            else ""
        raise NotASplineError(f"{method} needs (leaky-)ReLU units; {model_name} uses {kind} in {path}{more}")
    if not any(isinstance(m, SPLINE_ACTIVATIONS) for m in model.modules()):
        raise NotASplineError(f"{method} needs (leaky-)ReLU units; {model_name} has no nn.ReLU/nn.LeakyReLU module "
                              "(functional activations cannot be hooked)")
