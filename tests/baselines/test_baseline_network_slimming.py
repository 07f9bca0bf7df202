"""Network slimming: the smallest |gamma| go under one global threshold, and the hook adds s * sign(gamma)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from baselines.early_bird_mask import EarlyBirdMask
from baselines.network_slimming import NetworkSlimming, slimming_removals
from splinebench.prune import apply_plan

EXAMPLE = torch.randn(2, 1, 5, 5)


def set_gammas(net: nn.Module, first: list[float], second: list[float]) -> None:
    with torch.no_grad():
        net.bn1.weight.copy_(torch.tensor(first))
        net.bn2.weight.copy_(torch.tensor(second))


def test_global_threshold_removes_exactly_the_smallest_gammas(two_block_net, ctx_for):
    set_gammas(two_block_net, [0.5, 0.01, 0.3, 0.2], [0.05, -0.9, 0.02, 0.4, -0.03, 0.6])
    ctx = ctx_for(two_block_net, EXAMPLE)
    # 10 channels; 30% -> 3 go: |0.01| (conv1 #1), |0.02| (conv2 #2), |-0.03| (conv2 #4)
    assert NetworkSlimming().plan(two_block_net, 0.3, ctx).remove == {"conv1": [1], "conv2": [2, 4]}
    # 50% -> 5 go: add |0.05| (conv2 #0) and |0.2| (conv1 #3); the negative -0.9 is large and stays
    assert NetworkSlimming().plan(two_block_net, 0.5, ctx).remove == {"conv1": [1, 3], "conv2": [0, 2, 4]}


def test_count_is_round_of_ratio_times_total_without_the_public_code_off_by_one(two_block_net, ctx_for):
    set_gammas(two_block_net, [0.5, 0.01, 0.3, 0.2], [0.05, -0.9, 0.02, 0.4, -0.03, 0.6])
    plan = NetworkSlimming().plan(two_block_net, 0.7, ctx_for(two_block_net, EXAMPLE))
    assert sum(len(v) for v in plan.remove.values()) == 7


def test_a_layer_is_never_emptied_the_next_smallest_goes_instead(two_block_net, ctx_for):
    set_gammas(two_block_net, [0.001, 0.002, 0.003, 0.004], [0.5, 0.1, 0.9, 0.2, 0.8, 0.7])
    plan = NetworkSlimming().plan(two_block_net, 0.5, ctx_for(two_block_net, EXAMPLE))
    # 5 go; conv1's four tiny scales come first but its largest (#3) must stay; then conv2's smallest two
    assert plan.remove == {"conv1": [0, 1, 2], "conv2": [1, 3]}


def test_layerwise_scope_removes_round_ratio_times_k_in_each_layer(two_block_net, ctx_for):
    set_gammas(two_block_net, [0.5, 0.01, 0.3, 0.2], [0.05, -0.9, 0.02, 0.4, -0.03, 0.6])
    plan = NetworkSlimming(scope="layerwise").plan(two_block_net, 0.5, ctx_for(two_block_net, EXAMPLE))
    assert plan.remove == {"conv1": [1, 3], "conv2": [0, 2, 4]}
    plan = NetworkSlimming(scope="layerwise").plan(two_block_net, 0.3, ctx_for(two_block_net, EXAMPLE))
    assert plan.remove == {"conv1": [1], "conv2": [2, 4]}  # round(1.2) = 1, round(1.8) = 2


def test_pruned_model_keeps_the_largest_gammas(two_block_net, ctx_for):
    set_gammas(two_block_net, [0.5, 0.01, 0.3, 0.2], [0.05, -0.9, 0.02, 0.4, -0.03, 0.6])
    plan = NetworkSlimming().plan(two_block_net, 0.5, ctx_for(two_block_net, EXAMPLE))
    pruned, _ = apply_plan(two_block_net, plan, EXAMPLE)
    assert pruned.bn1.weight.tolist() == pytest.approx([0.5, 0.3])
    assert pruned.bn2.weight.tolist() == pytest.approx([-0.9, 0.4, 0.6])


def test_hook_adds_s_times_sign_gamma_to_bn_weight_grads(two_block_net):
    set_gammas(two_block_net, [0.5, -0.2, 0.0, 1.0], [0.1] * 6)
    two_block_net(torch.randn(3, 1, 5, 5)).sum().backward()
    before_bn = two_block_net.bn1.weight.grad.clone()
    before_conv = two_block_net.conv1.weight.grad.clone()
    hook = NetworkSlimming(sparsity=1e-3).training_hook()
    hook.after_backward(two_block_net)
    expected = before_bn + 1e-3 * torch.tensor([1.0, -1.0, 0.0, 1.0])
    assert torch.allclose(two_block_net.bn1.weight.grad, expected)
    assert torch.equal(two_block_net.conv1.weight.grad, before_conv)  # only BN scales are penalised


def test_ns_and_eb_mask_share_a_dense_run_only_at_the_same_sparsity():
    ns, eb = NetworkSlimming().training_hook(), EarlyBirdMask().training_hook()
    assert ns.key == eb.key == "bn-l1:0.0001"
    assert NetworkSlimming(sparsity=1e-5).training_hook().key != ns.key
    assert ns.during_retrain and eb.during_retrain


def test_global_removals_ignore_sign_and_break_ties_by_position():
    removals = slimming_removals({"a": torch.tensor([0.3, -0.1, 0.1]), "b": torch.tensor([0.1, 0.2])}, 0.4)
    assert removals == {"a": [1, 2], "b": []}  # three tie at 0.1: the first two in layer order go
