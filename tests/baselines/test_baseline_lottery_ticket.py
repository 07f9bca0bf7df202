"""Lottery ticket (one-shot): keep the largest trained magnitudes globally, then rewind survivors to init."""

from __future__ import annotations

import torch
from torch import nn

from baselines.lottery_ticket import LotteryTicket
from splinebench.prune import apply_plan


def hidden_and_classifier() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 3, bias=False), nn.ReLU(), nn.Linear(3, 2))


def test_masks_keep_the_largest_magnitudes_and_leave_the_classifier_dense(ctx_for):
    net = hidden_and_classifier()
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[0.1, -3.0], [2.0, 0.5], [-0.2, 1.0]]))
    plan = LotteryTicket().plan(net, 0.5, ctx_for(net, torch.randn(4, 2)))
    assert not plan.structured and plan.rewind
    assert set(plan.masks) == {"0.weight"}  # the classifier ("2.weight") is not pruned by default
    # 6 weights, 3 go: |0.1|, |-0.2|, |0.5|
    assert plan.masks["0.weight"].tolist() == [[False, True], [True, False], [False, True]]


def test_ranking_is_global_across_layers(ctx_for):
    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
    with torch.no_grad():
        net[0].weight.mul_(10.0)  # the first layer's weights dominate the global ranking
    plan = LotteryTicket().plan(net, 0.5, ctx_for(net, torch.randn(4, 4)))
    kept_first, kept_second = int(plan.masks["0.weight"].sum()), int(plan.masks["2.weight"].sum())
    assert kept_first + kept_second == 16
    assert kept_first > kept_second
    kept = torch.cat([net[i].weight.detach().abs()[plan.masks[f"{i}.weight"]] for i in (0, 2)])
    dropped = torch.cat([net[i].weight.detach().abs()[~plan.masks[f"{i}.weight"]] for i in (0, 2)])
    assert kept.min() >= dropped.max()


def test_after_apply_the_kept_weights_equal_their_initial_values(ctx_for):
    net = hidden_and_classifier()
    init_state = {k: v.clone() for k, v in net.state_dict().items()}
    with torch.no_grad():  # "training" moves every weight away from its initial value
        for p in net.parameters():
            p.add_(torch.randn_like(p))
    example = torch.randn(4, 2)
    plan = LotteryTicket(include_classifier=True).plan(net, 0.5, ctx_for(net, example, init_state=init_state))
    pruned, report = apply_plan(net, plan, example, init_state)
    for index in (0, 2):
        mask = plan.masks[f"{index}.weight"]
        initial = init_state[f"{index}.weight"]
        assert torch.equal(pruned[index].weight[mask], initial[mask])
        assert torch.count_nonzero(pruned[index].weight[~mask]) == 0
    assert torch.equal(pruned[2].bias, init_state["2.bias"])
    assert report.achieved_ratio == 0.5
