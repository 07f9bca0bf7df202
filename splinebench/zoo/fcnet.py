"""Fully connected ReLU nets: the 2-D toy of the paper's Figs. 1, 2 and 6.

The authors' code trains ``2 -> 20 -> 2`` (one hidden layer, biases on); the paper's text calls its toy a
"two-layer" net, which we read as two hidden layers. Both are here: ``fcnet-1x20`` (the code) and
``fcnet-2x20`` (the paper's words). Every hidden layer has its own ``nn.ReLU`` module, so a forward hook sees
each layer's partition code under a stable name (``hidden.0.act``, ``hidden.1.act``, ...).
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from splinebench.errors import BadInputError
from splinebench.zoo.catalog import register_model


class FCNet(nn.Module):
    """``in_features -> hidden[0] -> ... -> hidden[-1] -> num_classes`` with a ReLU after every hidden layer.

    Inputs of any shape ``(N, ...)`` are flattened first, so the same net takes 2-D points or small images.
    """

    def __init__(self, in_features: int, hidden: Sequence[int], num_classes: int, bias: bool = True) -> None:
        super().__init__()
        self.flatten = nn.Flatten()
        layers = []
        width = in_features
        for units in hidden:
            layers.append(nn.Sequential())
            layers[-1].add_module("fc", nn.Linear(width, units, bias=bias))
            layers[-1].add_module("act", nn.ReLU())
            width = units
        self.hidden = nn.Sequential(*layers)
        self.head = nn.Linear(width, num_classes, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.hidden(self.flatten(x)))


def fcnet(
    num_classes: int,
    in_channels: int,
    hidden: Sequence[int] | int = (20,),
    in_features: int | None = None,
    bias: bool = True,
) -> FCNet:
    """A ReLU MLP; ``in_features`` defaults to ``in_channels`` (2 for the 2-D toy)."""
    widths = (hidden,) if isinstance(hidden, int) else tuple(hidden)
    if not widths or any(not isinstance(w, int) or w < 1 for w in widths):
        raise BadInputError(f"fcnet hidden must be a non-empty list of positive layer widths, got {hidden!r}")
    return FCNet(in_features or in_channels, widths, num_classes, bias=bias)


register_model(
    "fcnet",
    family="fcnet",
    input_kind="2d-points",
    description="ReLU MLP with hidden=(widths...) (default one layer of 20)",
)(fcnet)


@register_model(
    "fcnet-1x20",
    family="fcnet",
    input_kind="2d-points",
    description="2 -> 20 -> classes: the toy net of the authors' code (Figs. 1, 2, 6)",
)
def fcnet_1x20(num_classes: int, in_channels: int, in_features: int | None = None) -> FCNet:
    return fcnet(num_classes, in_channels, hidden=(20,), in_features=in_features)


@register_model(
    "fcnet-2x20",
    family="fcnet",
    input_kind="2d-points",
    description="2 -> 20 -> 20 -> classes: the 'two-layer' toy net of the paper's text",
)
def fcnet_2x20(num_classes: int, in_channels: int, in_features: int | None = None) -> FCNet:
    return fcnet(num_classes, in_channels, hidden=(20, 20), in_features=in_features)
