"""Spline methods refuse nets that are not (leaky-)ReLU splines, naming the activation and where it is."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from splinebench.prune import PruneContext, create_pruner
from splinebench.spline import PartitionTracker
from splinebench.spline.activations import NotASplineError, non_spline_activations, require_spline


def _net(act: nn.Module) -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 4, 3), nn.BatchNorm2d(4), act,
                         nn.Flatten(), nn.LazyLinear(3))


@pytest.mark.parametrize("act", [nn.GELU(), nn.SiLU(), nn.ReLU6(), nn.Hardswish(), nn.Tanh()])
def test_partition_tracking_of_a_net_with_a_non_relu_unit_is_refused_naming_it(act: nn.Module) -> None:
    model = _net(act)
    model(torch.randn(1, 1, 8, 8))
    with pytest.raises(NotASplineError, match=rf"partition tracking needs \(leaky-\)ReLU units; the model uses "
                                              rf"{type(act).__name__} in 5"):
        PartitionTracker(model, torch.randn(4, 1, 8, 8))


def test_leaky_relu_nets_are_splines() -> None:
    model = _net(nn.LeakyReLU(0.1))
    assert non_spline_activations(model) == []
    require_spline(model, "spline pruning")


def test_a_net_with_only_functional_activations_is_refused() -> None:
    with pytest.raises(NotASplineError, match="no nn.ReLU/nn.LeakyReLU module"):
        require_spline(nn.Sequential(nn.Linear(2, 2)), "spline pruning", "fc")


def test_the_spline_pruner_refuses_a_gelu_net_with_the_model_name_and_the_layer() -> None:
    model = _net(nn.GELU())
    x = torch.randn(2, 1, 8, 8)
    model(x)
    ctx = PruneContext(example_input=x, batches=lambda n: iter([]), init_state={}, device=torch.device("cpu"),
                       seed=0, num_classes=3, model_name="timm:demo")
    with pytest.raises(NotASplineError, match=r"spline pruning needs \(leaky-\)ReLU units; timm:demo uses GELU in 5"):
        create_pruner("spline").plan(model, 0.5, ctx)
    # a structured baseline still plans on it
    assert create_pruner("l1-norm").plan(model, 0.5, ctx).remove
