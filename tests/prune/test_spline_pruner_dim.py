"""The spline pruner's global reduction dimension: a choice recorded in the plan, refused at construction if bad."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from splinebench.prune.interface import PruneContext
from splinebench.prune.spline_pruner import SplinePruner


class ThreeConvNet(nn.Module):
    """conv(1->8), conv(8->12), conv(12->12), each BN-ReLU: filters of 9, 72 and 108 values."""

    def __init__(self) -> None:
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.Conv2d(8, 12, 3, padding=1,
                                    bias=False), nn.Conv2d(12, 12, 3, padding=1, bias=False)])
        self.bns = nn.ModuleList([nn.BatchNorm2d(8), nn.BatchNorm2d(12), nn.BatchNorm2d(12)])
        self.relu = nn.ReLU()  # a module, so the spline pruner can see (and check) the activation
        self.fc = nn.Linear(12, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv, bn in zip(self.convs, self.bns, strict=True):
            x = self.relu(bn(conv(x)))
        return self.fc(x.mean(dim=(2, 3)))


def _ctx() -> PruneContext:
    return PruneContext(example_input=torch.zeros(1, 1, 8, 8), batches=lambda n: iter(()), init_state={},
                        device=torch.device("cpu"), seed=0, num_classes=3)


@pytest.mark.parametrize(("dim", "recorded"), [("smallest", 9), (27, 27), (64, 64), ("none", "none")])
def test_global_plan_records_the_dimension_it_projected_to(dim, recorded):
    torch.manual_seed(0)
    plan = SplinePruner(scope="global", dim=dim).plan(ThreeConvNet(), 0.3, _ctx())
    assert plan.notes["dim"] == recorded and plan.notes["reducer"] == "pca"
    assert sum(len(v) for v in plan.remove.values()) == round(0.3 * 32)


def test_the_dimension_changes_which_channels_go():
    torch.manual_seed(0)
    model = ThreeConvNet()
    plans = {dim: SplinePruner(scope="global", dim=dim).plan(model, 0.5, _ctx()).remove for dim in ("smallest", "none")}
    assert plans["smallest"] != plans["none"]


def test_a_bad_dimension_is_refused_when_the_pruner_is_made():
    with pytest.raises(ValueError, match="dim must be 'smallest', 'none' or a positive int"):
        SplinePruner(scope="global", dim="all")
