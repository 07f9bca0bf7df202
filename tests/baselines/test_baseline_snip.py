"""SNIP: connection sensitivity is |w * dL/dw| normalised, measured on one batch at initialisation."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from baselines.snip import Snip, connection_sensitivity


def test_scores_equal_w_times_gradient_computed_by_hand():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 2, bias=False))
    x, y = torch.randn(5, 3), torch.tensor([0, 1, 1, 0, 1])
    w = net[0].weight.detach().numpy().astype(np.float64)
    xs, ys = x.numpy().astype(np.float64), y.numpy()
    # mean cross-entropy of logits x W^T: dL/dW = (1/B) sum_b (softmax(z_b) - onehot(y_b)) x_b^T
    logits = xs @ w.T
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    grad = (probs - np.eye(2)[ys]).T @ xs / len(ys)
    expected = np.abs(grad * w)
    expected /= expected.sum()
    scores = connection_sensitivity(net, [(x, y)])
    assert np.allclose(scores["0.weight"].numpy(), expected, atol=1e-6)


def test_masks_keep_the_most_sensitive_connections_globally(ctx_for):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3))
    batch = (torch.randn(8, 4), torch.randint(0, 3, (8,)))
    plan = Snip().plan(net, 0.7, ctx_for(net, batch[0], batches=[batch]))
    scores = connection_sensitivity(net, [batch])
    assert set(plan.masks) == {"0.weight", "2.weight"}  # SNIP prunes the classifier too
    kept = torch.cat([scores[n][plan.masks[n]] for n in plan.masks])
    dropped = torch.cat([scores[n][~plan.masks[n]] for n in plan.masks])
    assert kept.numel() == round(0.3 * 42)
    assert kept.min() >= dropped.max()


def test_scoring_leaves_the_model_untouched(ctx_for):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    batch = (torch.randn(8, 4), torch.randint(0, 3, (8,)))
    Snip().plan(net, 0.5, ctx_for(net, batch[0], batches=[batch]))
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert all(p.grad is None for p in net.parameters())


def test_snip_acts_on_the_initialised_network():
    assert Snip.acts_on == "init" and not Snip.structured and Snip.data_driven
