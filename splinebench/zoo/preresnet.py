"""Pre-activation ResNet with bottleneck blocks, as the Early-Bird code builds it for CIFAR.

Depth ``9n + 2``: a 3x3 stem conv, three stages of ``n`` bottlenecks (3 convs each) at 16/32/64 planes (x4
out, strides 1/2/2), a final BN-ReLU, global average pool and one linear layer. So "PreResNet-101" in the
paper has ``n = 11`` and PreResNet-20 here is the bottleneck net with ``n = 2`` (not the 6n+2 basic-block
ResNet-20).

Each block is BN-ReLU-conv three times, then adds the shortcut (a strided 1x1 conv where the shape changes).
The block's last conv writes into the residual stream with no BN/ReLU of its own. Unlike the authors' code
(one ReLU module called three times per block), every activation has its own ``nn.ReLU`` module, so partition
codes recorded by forward hooks have one stable name per layer. The authors' ``channel_selection`` mask layers
are left out: pruning here removes channels physically.
"""

from __future__ import annotations

from torch import Tensor, nn

from splinebench.errors import BadInputError
from splinebench.zoo.catalog import register_model
from splinebench.zoo.initialisation import init_like_network_slimming

STAGE_PLANES = (16, 32, 64)


class PreActBottleneck(nn.Module):
    """BN-ReLU-conv1x1, BN-ReLU-conv3x3 (stride), BN-ReLU-conv1x1 (x4 planes), plus the shortcut."""

    expansion = 4

    def __init__(self, in_planes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        out_planes = planes * self.expansion
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.relu1 = nn.ReLU()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu2 = nn.ReLU()
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes)
        self.relu3 = nn.ReLU()
        self.conv3 = nn.Conv2d(planes, out_planes, kernel_size=1, bias=False)
        self.downsample: nn.Module | None = None
        if stride != 1 or in_planes != out_planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)
            )

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv1(self.relu1(self.bn1(x)))
        out = self.conv2(self.relu2(self.bn2(out)))
        out = self.conv3(self.relu3(self.bn3(out)))
        shortcut = x if self.downsample is None else self.downsample(x)
        return out + shortcut


def bottleneck_blocks_per_stage(depth: int) -> int:
    """``n`` for a depth ``9n + 2`` PreResNet; a clear error (with the nearest valid depths) otherwise."""
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 11 or (depth - 2) % 9:
        if isinstance(depth, int) and not isinstance(depth, bool):
            below = max(11, (depth - 2) // 9 * 9 + 2)
            nearest = sorted({below, below + 9}, key=lambda d: (abs(d - depth), d))
            hint = f" Nearest valid: {', '.join(map(str, nearest))}."
        else:
            hint = ""
        raise BadInputError(
            f"preresnet depth must be 9n+2 with n >= 1 (3 stages of n bottleneck blocks of 3 convs), "
            f"e.g. 11, 20, 56, 101, 164; got {depth!r}.{hint}"
        )
    return (depth - 2) // 9


class PreResNet(nn.Module):
    """Stem conv -> 3 stages of bottlenecks -> BN -> ReLU -> global average pool -> linear."""

    def __init__(self, depth: int, in_channels: int, num_classes: int) -> None:
        super().__init__()
        blocks = bottleneck_blocks_per_stage(depth)
        self.depth = depth
        self.conv1 = nn.Conv2d(in_channels, STAGE_PLANES[0], kernel_size=3, padding=1, bias=False)
        in_planes = STAGE_PLANES[0]
        stages = []
        for stage_index, planes in enumerate(STAGE_PLANES):
            stride = 1 if stage_index == 0 else 2
            layers = []
            for block_index in range(blocks):
                layers.append(PreActBottleneck(in_planes, planes, stride if block_index == 0 else 1))
                in_planes = planes * PreActBottleneck.expansion
            stages.append(nn.Sequential(*layers))
        self.layer1, self.layer2, self.layer3 = stages
        self.bn = nn.BatchNorm2d(in_planes)
        self.relu = nn.ReLU()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(in_planes, num_classes)
        init_like_network_slimming(self, linear_std=None)

    def forward(self, x: Tensor) -> Tensor:
        x = self.layer3(self.layer2(self.layer1(self.conv1(x))))
        return self.fc(self.flatten(self.avgpool(self.relu(self.bn(x)))))


@register_model(
    "preresnet",
    family="preresnet",
    description="PreResNet with bottlenecks, depth=9n+2 (Early-Bird code)",
)
def preresnet(num_classes: int, in_channels: int, depth: int = 20) -> PreResNet:
    return PreResNet(depth, in_channels, num_classes)


def _preresnet_factory(depth: int):
    def factory(num_classes: int, in_channels: int) -> PreResNet:
        return PreResNet(depth, in_channels, num_classes)

    factory.__name__ = f"preresnet{depth}"
    return factory


for _depth in (20, 56, 101, 164):
    register_model(
        f"preresnet{_depth}",
        family="preresnet",
        description=f"PreResNet-{_depth}: bottleneck pre-act ResNet, {(_depth - 2) // 9} blocks per stage",
    )(_preresnet_factory(_depth))
