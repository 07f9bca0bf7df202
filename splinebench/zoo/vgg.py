"""CIFAR-style VGG with BatchNorm, as in the network-slimming / Early-Bird code the paper builds on.

Stacks of conv3x3 (no bias) -> BN -> ReLU with 2x2 max-pools ('M'); no max-pool after the last stack. The
authors then average-pool 2x2 (a 32x32 input is 2x2 there) and apply one linear layer. We pool adaptively to
1x1 instead, which is the same on 32x32 inputs and also takes 28x28 Fashion-MNIST (any side >= 16 pixels).
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from splinebench.errors import BadInputError
from splinebench.zoo.catalog import register_model
from splinebench.zoo.initialisation import init_like_network_slimming

LayerSpec = int | str
"""An output width for a conv-BN-ReLU layer, or ``"M"`` for a 2x2 max-pool."""

VGG_CONFIGS: dict[int, tuple[LayerSpec, ...]] = {
    11: (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512),
    13: (64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512),
    16: (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512),
    19: (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512),
}

# Four 2x2 max-pools; the result must still be >= 1 pixel, so the input needs at least 16.
VGG_MIN_INPUT_SIZE = 16


class CifarVGG(nn.Module):
    """``features`` (conv-BN-ReLU stacks, max-pools) -> global average pool -> ``classifier`` (linear)."""

    def __init__(self, config: Sequence[LayerSpec], in_channels: int, num_classes: int) -> None:
        super().__init__()
        valid = all(v == "M" or (isinstance(v, int) and v >= 1) for v in config)
        if not valid or all(v == "M" for v in config):
            raise BadInputError(
                f"a VGG config is a list of positive widths and 'M' (max-pool), got {config!r}"
            )
        self.features = nn.Sequential()
        channels = in_channels
        conv_index = pool_index = 0
        for spec in config:
            if spec == "M":
                pool_index += 1
                self.features.add_module(f"pool{pool_index}", nn.MaxPool2d(kernel_size=2, stride=2))
                continue
            conv_index += 1
            self.features.add_module(
                f"conv{conv_index}", nn.Conv2d(channels, int(spec), 3, padding=1, bias=False)
            )
            self.features.add_module(f"bn{conv_index}", nn.BatchNorm2d(int(spec)))
            self.features.add_module(f"relu{conv_index}", nn.ReLU())
            channels = int(spec)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.classifier = nn.Linear(channels, num_classes)
        init_like_network_slimming(self, linear_std=0.01)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.flatten(self.pool(self.features(x))))


def _vgg_factory(depth: int):
    def factory(num_classes: int, in_channels: int, cfg: Sequence[LayerSpec] | None = None) -> CifarVGG:
        """``cfg`` replaces the layer list (e.g. a slimmed VGG's widths), keeping the same construction."""
        return CifarVGG(tuple(cfg) if cfg is not None else VGG_CONFIGS[depth], in_channels, num_classes)

    factory.__name__ = f"vgg{depth}"
    return factory


for _depth, _config in VGG_CONFIGS.items():
    _convs = sum(1 for v in _config if v != "M")
    register_model(
        f"vgg{_depth}",
        family="vgg",
        description=f"CIFAR VGG-{_depth}, BN ({_convs} conv + 1 linear), inputs >= {VGG_MIN_INPUT_SIZE}px",
        min_input_size=VGG_MIN_INPUT_SIZE,
    )(_vgg_factory(_depth))
