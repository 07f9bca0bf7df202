"""Torch-Pruning's criteria as pruners: each scores with the library's own class and returns a per-layer plan."""

from __future__ import annotations

import pytest
import torch

from baselines.tp_importance import TpBnScale, TpHessian, TpL1, TpTaylor
from splinebench.prune import apply_plan, discover

FAMILY = ["tp:l1", "tp:l2", "tp:bn-scale", "tp:lamp", "tp:fpgm", "tp:random", "tp:taylor", "tp:hessian",
          "tp:activation"]


def _batches(n: int = 2):
    torch.manual_seed(1)
    return [(torch.randn(8, 1, 6, 6), torch.randint(0, 3, (8,))) for _ in range(n)]


@pytest.mark.parametrize("name", FAMILY)
def test_every_criterion_plans_round_ratio_times_k_channels_per_layer_and_the_applier_removes_them(
        name, two_block_net, ctx_for):
    registry = discover()
    pruner = registry.get(name).cls()
    batches = _batches()
    before = {k: v.clone() for k, v in two_block_net.state_dict().items()}
    plan = pruner.plan(two_block_net, 0.5, ctx_for(two_block_net, batches[0][0], batches=batches))
    assert plan.structured and {k: len(v) for k, v in plan.remove.items()} == {"conv1": 2, "conv2": 3}
    assert all(torch.equal(before[k], v) for k, v in two_block_net.state_dict().items())  # the model is untouched
    assert all(p.grad is None for p in two_block_net.parameters())
    pruned, report = apply_plan(two_block_net, plan, batches[0][0])
    assert (pruned.conv1.out_channels, pruned.conv2.out_channels) == (2, 3)
    assert pruned(batches[0][0]).shape == (8, 3)


def test_l1_ranks_channels_by_the_group_mean_of_their_l1_norms_computed_by_hand(two_block_net, ctx_for):
    net = two_block_net
    with torch.no_grad():
        net.bn2.weight.copy_(torch.rand(6))
    x = torch.randn(2, 1, 6, 6)
    plan = TpL1().plan(net, 0.5, ctx_for(net, x))
    # conv2's group: its own filters, bn2's gamma and fc's input columns; Torch-Pruning averages the members
    w = net.conv2.weight.detach()
    by_hand = (w.abs().flatten(1).sum(1) + net.bn2.weight.detach().abs() + net.fc.weight.detach().abs().sum(0)) / 3
    assert plan.remove["conv2"] == sorted(torch.argsort(by_hand)[:3].tolist())


def test_bn_scale_removes_the_smallest_gammas(two_block_net, ctx_for):
    with torch.no_grad():
        two_block_net.bn2.weight.copy_(torch.tensor([0.9, 0.1, 0.5, 0.05, 0.7, 0.2]))
    plan = TpBnScale().plan(two_block_net, 0.5, ctx_for(two_block_net, torch.randn(2, 1, 6, 6)))
    assert plan.remove["conv2"] == [1, 3, 5]


def test_taylor_and_hessian_read_gradients_of_the_training_loss(two_block_net, ctx_for):
    """A channel whose output never reaches the loss has zero gradient, so both criteria remove it first."""
    with torch.no_grad():
        two_block_net.fc.weight[:, 2] = 0.0  # conv2's channel 2 no longer affects the logits
    batches = _batches()
    ctx = ctx_for(two_block_net, batches[0][0], batches=batches)
    assert 2 in TpTaylor(batches=2).plan(two_block_net, 0.2, ctx).remove["conv2"]
    assert 2 in TpHessian(samples=8).plan(two_block_net, 0.2, ctx).remove["conv2"]


def test_the_family_is_listed_with_its_library_and_kind():
    registry = discover()
    for name in FAMILY:
        info = registry.get(name)
        assert info.cls is not None and info.origin == "built-in" and info.cls.structured
