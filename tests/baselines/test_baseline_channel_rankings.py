"""L1-norm and random channels: round(p * K) per layer, and (L1) the filters with the smallest sum |w|."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from baselines._common import units_to_remove
from baselines.l1_norm import L1NormFilters
from baselines.random_channels import RandomChannels


def three_layer_net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 10), nn.ReLU(), nn.Linear(10, 7), nn.ReLU(), nn.Linear(7, 5), nn.ReLU(),
                         nn.Linear(5, 2))


@pytest.mark.parametrize(("ratio", "units", "expected"), [
    (0.3, 10, 3), (0.3, 7, 2), (0.3, 5, 2), (0.5, 5, 3), (0.5, 7, 4), (0.7, 10, 7), (0.99, 3, 2), (0.1, 3, 0),
])
def test_units_to_remove_is_round_half_up_and_never_all(ratio, units, expected):
    assert units_to_remove(ratio, units) == expected


@pytest.mark.parametrize("pruner", [L1NormFilters(), RandomChannels()], ids=["l1-norm", "random"])
@pytest.mark.parametrize("ratio", [0.3, 0.5, 0.7])
def test_each_layer_loses_round_ratio_times_k(pruner, ratio, ctx_for):
    net = three_layer_net()
    plan = pruner.plan(net, ratio, ctx_for(net, torch.randn(2, 3)))
    assert {name: len(v) for name, v in plan.remove.items()} == {
        "0": units_to_remove(ratio, 10), "2": units_to_remove(ratio, 7), "4": units_to_remove(ratio, 5),
    }


def test_l1_norm_removes_the_filters_with_the_smallest_absolute_sum(ctx_for):
    net = three_layer_net()
    with torch.no_grad():
        net[2].weight.copy_(torch.ones(7, 10))
        net[2].weight[4].mul_(0.01)
        net[2].weight[1].mul_(-0.02)  # sign does not matter: |w|
        net[2].weight[6, :5] = 0.0  # half the row gone: sum 5, still larger than the two above
    plan = L1NormFilters().plan(net, 0.3, ctx_for(net, torch.randn(2, 3)))
    assert plan.remove["2"] == [1, 4]


def test_random_is_reproducible_per_seed_nested_across_ratios_and_seed_dependent(ctx_for):
    net = three_layer_net()
    example = torch.randn(2, 3)
    first = RandomChannels().plan(net, 0.5, ctx_for(net, example, seed=3)).remove
    assert RandomChannels().plan(net, 0.5, ctx_for(net, example, seed=3)).remove == first
    smaller = RandomChannels().plan(net, 0.3, ctx_for(net, example, seed=3)).remove
    assert all(set(smaller[name]) <= set(first[name]) for name in first)
    others = [RandomChannels().plan(net, 0.5, ctx_for(net, example, seed=s)).remove for s in range(4, 8)]
    assert any(o != first for o in others)
