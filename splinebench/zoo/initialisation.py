"""Weight initialisation of the authors' VGG and PreResNet (Early-Bird / network-slimming code).

BN gamma starts at 0.5, not 1: network slimming's L1 penalty on gamma and its global |gamma| threshold were
tuned from that start, so the baselines only reproduce with it. Convolutions use He's normal init over fan-out
(``normal(0, sqrt(2 / (k*k*out_channels)))`` in the authors' code).
"""

from __future__ import annotations

from torch import nn

SLIMMING_BN_GAMMA = 0.5


def init_like_network_slimming(model: nn.Module, *, linear_std: float | None = 0.01) -> None:
    """Initialise ``model`` in place as the authors' code does.

    ``linear_std=None`` keeps PyTorch's default init for linear layers (the authors' PreResNet does; their VGG
    draws linear weights from ``normal(0, 0.01)``).
    """
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d | nn.BatchNorm1d):
            nn.init.constant_(module.weight, SLIMMING_BN_GAMMA)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Linear) and linear_std is not None:
            nn.init.normal_(module.weight, 0.0, linear_std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
