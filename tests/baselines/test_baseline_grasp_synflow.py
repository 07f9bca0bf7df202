"""GraSP and SynFlow, pruning at initialisation: scores checked against hand computations on tiny nets."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from baselines.grasp import GraSP, grasp_scores
from baselines.synflow import SynFlow, synflow_scores


def test_grasp_scores_are_minus_w_times_hessian_gradient_product_computed_by_hand():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 2, bias=False))
    x, y = torch.randn(5, 3), torch.tensor([0, 1, 1, 0, 1])
    T = 2.0
    w = net[0].weight.detach().numpy().astype(np.float64)
    xs, ys = x.numpy().astype(np.float64), y.numpy()
    probs = np.exp(xs @ w.T / T)
    probs /= probs.sum(1, keepdims=True)
    # L = mean_b CE(W x_b / T): g = mean_b (p_b - e_b) x_b^T / T; softmax-CE Hessian in W:
    # H_b[g] = (diag(p_b) - p_b p_b^T) (g x_b) x_b^T / T^2
    g = (probs - np.eye(2)[ys]).T @ xs / len(ys) / T
    hg = np.zeros_like(w)
    for p, xb in zip(probs, xs, strict=True):
        a = np.diag(p) - np.outer(p, p)
        hg += np.outer(a @ (g @ xb), xb) / T**2 / len(ys)
    scores = grasp_scores(net, [(x, y)], temperature=T)
    assert np.allclose(scores["0.weight"].numpy(), -w * hg, atol=1e-7, rtol=1e-4)


def test_grasp_removes_the_largest_scores_globally(ctx_for):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3))
    batch = (torch.randn(8, 4), torch.randint(0, 3, (8,)))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    plan = GraSP(temperature=1.0).plan(net, 0.6, ctx_for(net, batch[0], batches=[batch]))
    scores = grasp_scores(net, [batch], temperature=1.0)
    kept = torch.cat([scores[n][plan.masks[n]] for n in plan.masks])
    dropped = torch.cat([scores[n][~plan.masks[n]] for n in plan.masks])
    assert dropped.numel() == round(0.6 * 42) and kept.max() <= dropped.min()
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())


def test_synflow_scores_are_the_synaptic_flow_through_each_weight_computed_by_hand():
    net = nn.Sequential(nn.Linear(3, 2, bias=False), nn.ReLU(), nn.Linear(2, 1, bias=False))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, -2.0, 0.5], [-0.1, 0.3, 4.0]]))
        net[2].weight.copy_(torch.tensor([[-3.0, 0.2]]))
    w1, w2 = net[0].weight.detach().abs().numpy(), net[2].weight.detach().abs().numpy()
    # R = sum_i |W2_i| sum_j |W1_ij| (input of ones): S(W1_ij) = |W2_i| |W1_ij|, S(W2_i) = |W2_i| sum_j |W1_ij|
    scores = synflow_scores(net, (3,))
    assert np.allclose(scores["0.weight"].numpy(), w2.T * w1)
    assert np.allclose(scores["2.weight"].numpy(), w2 * w1.sum(1))
    assert net[0].weight[0, 1] == -2.0  # the model itself keeps its signs


def test_synflow_single_shot_keeps_the_highest_flow_and_iterating_keeps_the_exact_count(ctx_for):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3))
    ctx = ctx_for(net, torch.randn(2, 4))
    once = SynFlow(iterations=1).plan(net, 0.5, ctx)
    scores = synflow_scores(net, (4,))
    kept = torch.cat([scores[n][once.masks[n]] for n in once.masks])
    dropped = torch.cat([scores[n][~once.masks[n]] for n in once.masks])
    assert kept.min() >= dropped.max() and dropped.numel() == 21
    iterated = SynFlow(iterations=10).plan(net, 0.9, ctx)
    assert sum(int((~m).sum()) for m in iterated.masks.values()) == round(0.9 * 42)
    assert SynFlow.acts_on == "init" and not SynFlow.data_driven and GraSP.acts_on == "init" and GraSP.data_driven
