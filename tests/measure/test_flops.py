"""The training-FLOP accountant against its definition and against torch's own FLOP counter."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from splinebench.measure.flops import BACKWARD_FACTOR, TrainingFlopAccountant, density_weighted_flops, forward_cost
from splinebench.prune import Plan, apply_plan, weight_density


def _conv_net() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10),
    )


def test_fvcore_counts_multiply_adds_of_a_linear_layer():
    cost = forward_cost(nn.Sequential(nn.Linear(20, 7, bias=False)), torch.randn(5, 20))
    assert cost.flops == 20 * 7  # per sample, one multiply-add = 1


def test_backward_factor_matches_torch_flop_counter_on_a_conv_net():
    """FlopCounterMode counts a multiply-add as 2 FLOPs; fvcore as 1 MAC. Forward + backward ~ 3x forward."""
    torch.manual_seed(0)
    model = _conv_net()
    x, y = torch.randn(8, 3, 16, 16), torch.randint(0, 10, (8,))
    macs = forward_cost(model, x).flops
    counter = FlopCounterMode(display=False)
    with counter:
        F.cross_entropy(model(x), y).backward()
    measured_macs_per_sample = counter.get_total_flops() / 2 / x.shape[0]
    accounted = TrainingFlopAccountant(macs).training_step(1)
    assert accounted == macs * (1 + BACKWARD_FACTOR)
    # the first conv needs no input gradient, so the true factor is a little under 3
    assert 0.8 * accounted <= measured_macs_per_sample <= 1.05 * accounted


def test_density_weighted_macs_scale_each_masked_module():
    model = nn.Sequential(nn.Linear(10, 10, bias=False), nn.ReLU(), nn.Linear(10, 10, bias=False))
    x = torch.randn(1, 10)
    mask = torch.zeros(10, 10, dtype=torch.bool)
    mask[:, :3] = True  # keep 30% of the first layer
    pruned, _ = apply_plan(model, Plan.weight_masks({"0.weight": mask}), x)
    cost = forward_cost(pruned, x)
    assert cost.flops == 200  # masks do not make the dense model cheaper
    assert density_weighted_flops(cost, weight_density(pruned)) == pytest.approx(100 * 0.3 + 100)


def test_accountant_adds_training_steps_and_probe_passes():
    acc = TrainingFlopAccountant(forward_flops=10.0)
    acc.training_step(4)
    acc.forward_only(2)
    assert acc.total == 10 * 3 * 4 + 10 * 2
