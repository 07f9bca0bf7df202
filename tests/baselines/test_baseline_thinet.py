"""ThiNet: xhat sums to the next layer's output (Eq. 3), and the chosen channels minimise Eq. 5's error."""

from __future__ import annotations

from itertools import combinations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from baselines.l1_norm import L1NormFilters
from baselines.thinet import ThiNet, greedy_channel_selection, reconstruction_error


class ConvConvLinear(nn.Module):
    """conv(1->4)-ReLU, conv(4->3)-ReLU, flatten of a 2x2 map (12 features), linear(12->2)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 3, 3, padding=1)
        self.fc = nn.Linear(12, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv2(torch.relu(self.conv1(x))))
        return self.fc(F.adaptive_avg_pool2d(x, 2).flatten(1))


def setup(seed: int = 0) -> tuple[ConvConvLinear, list[tuple[torch.Tensor, torch.Tensor]]]:
    torch.manual_seed(seed)
    net = ConvConvLinear()
    batches = [(torch.randn(6, 1, 5, 5), torch.randint(0, 2, (6,))) for _ in range(2)]
    return net, batches


def test_contributions_sum_to_the_next_layers_output_including_through_flatten(ctx_for):
    net, batches = setup()
    samples = ThiNet(batches=2, positions=64).sample(net, ctx_for(net, batches[0][0], batches=batches))
    assert set(samples.xhat) == {"conv1", "conv2"}
    assert samples.xhat["conv1"].shape == (128, 4) and samples.xhat["conv2"].shape == (128, 3)
    for name in ("conv1", "conv2"):  # conv2 -> pool -> flatten -> fc maps 4 features to each channel
        assert torch.allclose(samples.xhat[name].sum(dim=1), samples.targets[name], atol=1e-5)


def exact_error(net: ConvConvLinear, batches, removed: tuple[int, ...]) -> float:
    """Eq. 5 over every output entry of conv2: the part of conv2's output that channels ``removed`` carry."""
    total = 0.0
    with torch.no_grad():
        for x, _ in batches:
            hidden = torch.relu(net.conv1(x))
            only = torch.zeros_like(hidden)
            only[:, list(removed)] = hidden[:, list(removed)]
            total += float(F.conv2d(only, net.conv2.weight, padding=1).pow(2).sum())
    return total


def test_chosen_channels_have_the_lowest_reconstruction_error_by_brute_force(ctx_for):
    net, batches = setup()
    with torch.no_grad():  # conv1's largest filters (0, 1) matter least to conv2: L1-norm would keep them
        net.conv1.weight[:2].mul_(3.0)
        net.conv1.weight[2:].mul_(0.3)
        net.conv2.weight[:, :2].mul_(0.01)
    ctx = ctx_for(net, batches[0][0], batches=batches)
    chosen = ThiNet(batches=2, positions=2000).plan(net, 0.5, ctx).remove["conv1"]
    best = min(combinations(range(4), 2), key=lambda subset: exact_error(net, batches, subset))
    assert tuple(chosen) == best == (0, 1)
    assert L1NormFilters().plan(net, 0.5, ctx).remove["conv1"] == [2, 3]


@pytest.mark.parametrize("seed", range(4))  # seeds whose best single channel wins by >= 25% (sampling noise)
def test_one_channel_is_the_exact_optimum_on_random_nets(seed, ctx_for):
    net, batches = setup(seed)
    chosen = ThiNet(batches=2, positions=4000).plan(net, 0.25, ctx_for(net, batches[0][0], batches=batches))
    errors = {c: exact_error(net, batches, (c,)) for c in range(4)}
    assert chosen.remove["conv1"] == [min(errors, key=errors.get)]


def test_greedy_accounts_for_channels_cancelling_each_other():
    # singles: c0 and c1 cost 1, c2 costs 1.44; but c2 cancels c0, so {0, 2} costs 0.04, {0, 1} costs 2
    xhat = torch.tensor([[1.0, 0.0, -1.2], [0.0, 1.0, 0.0]])
    chosen = greedy_channel_selection(xhat, 2)
    brute = min(combinations(range(3), 2), key=lambda subset: reconstruction_error(xhat, list(subset)))
    assert tuple(chosen) == brute == (0, 2)


def test_each_layer_loses_round_ratio_times_k(ctx_for):
    net, batches = setup()
    plan = ThiNet(batches=1, positions=32).plan(net, 0.5, ctx_for(net, batches[0][0], batches=batches))
    assert {k: len(v) for k, v in plan.remove.items()} == {"conv1": 2, "conv2": 2}  # round(1.5) = 2
