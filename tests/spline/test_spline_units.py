"""Pairing each conv/linear layer with the BN that consumes its output."""

from __future__ import annotations

import torch
from torch import nn

from splinebench.spline import affine_units, conv_bn_pairs, effective_affine


class Residual(nn.Module):
    """Attributes declared in an order unlike the call order, and a shortcut conv with its own BN."""

    def __init__(self) -> None:
        super().__init__()
        self.bn_main = nn.BatchNorm2d(4)
        self.shortcut = nn.Sequential(nn.Conv2d(2, 4, 1, bias=False), nn.BatchNorm2d(4))
        self.conv_main = nn.Conv2d(2, 4, 3, padding=1, bias=False)
        self.depthwise = nn.Conv2d(4, 4, 3, padding=1, groups=4)
        self.head = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn_main(self.conv_main(x)) + self.shortcut(x))
        return self.head(self.depthwise(out).mean((2, 3)))


def test_bn_is_paired_by_data_flow_not_by_attribute_order() -> None:
    model = Residual()
    pairs = conv_bn_pairs(model, torch.randn(2, 2, 5, 5))
    assert pairs == {"conv_main": "bn_main", "shortcut.0": "shortcut.1", "head": None}


def test_affine_units_fold_the_paired_bn_and_leave_no_hooks() -> None:
    model = Residual()
    with torch.no_grad():
        model.bn_main.running_var.fill_(4.0)
    units = affine_units(model, torch.randn(2, 2, 5, 5), layers=("conv_*", "head"))
    assert list(units) == ["conv_main", "head"]
    expected = effective_affine(model.conv_main.weight, None, model.bn_main)
    torch.testing.assert_close(units["conv_main"][0], expected[0])
    assert sum(len(m._forward_pre_hooks) + len(m._forward_hooks) for m in model.modules()) == 0
