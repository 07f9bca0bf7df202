"""Eq. 2, Proposition 1 and BN folding."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from splinebench.spline import effective_affine, redundancy, removal_order


def _same_partition(codes_a: np.ndarray, codes_b: np.ndarray) -> bool:
    """Two codings induce the same partition of the samples iff "same code" pairs agree."""
    same_a = (codes_a[:, None, :] == codes_a[None, :, :]).all(-1)
    same_b = (codes_b[:, None, :] == codes_b[None, :, :]).all(-1)
    return bool((same_a == same_b).all())


def _layer_codes(weight: torch.Tensor, bias: torch.Tensor, keep: list[int], points: torch.Tensor) -> np.ndarray:
    return (points @ weight[keep].T + bias[keep] > 0).numpy()


@pytest.mark.parametrize(("scale", "shared_bias"), [(1.0, 0.7), (2.5, 0.0)])
def test_removing_a_redundant_unit_keeps_the_partition(scale: float, shared_bias: float) -> None:
    torch.manual_seed(0)
    weight = torch.randn(8, 2)
    bias = torch.randn(8) * 0.5
    weight[5] = scale * weight[2]
    bias[2] = bias[5] = shared_bias  # proportional slopes, equal biases: N = 0, one hyperplane
    scores = redundancy(weight, bias, rho=0.05)
    assert scores[2, 5].item() == pytest.approx(0.0, abs=1e-12)
    order, costs = removal_order(weight, bias, rho=0.05)
    assert order[0] in (2, 5) and costs[0] == pytest.approx(0.0, abs=1e-6)

    points = torch.rand(1500, 2) * 6 - 3
    everyone = list(range(8))
    pruned = [k for k in everyone if k != order[0]]
    assert _same_partition(_layer_codes(weight, bias, everyone, points), _layer_codes(weight, bias, pruned, points))


def test_removing_a_non_redundant_unit_changes_the_partition() -> None:
    torch.manual_seed(0)
    weight = torch.randn(8, 2)
    bias = torch.randn(8) * 0.5
    points = torch.rand(1500, 2) * 6 - 3
    everyone = list(range(8))
    pruned = [k for k in everyone if k != 3]
    assert not _same_partition(_layer_codes(weight, bias, everyone, points), _layer_codes(weight, bias, pruned, points))


def test_redundancy_matches_eq2_by_hand() -> None:
    weight = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, -2.0]])
    bias = torch.tensor([0.0, 1.0, -1.0])
    scores = redundancy(weight, bias, rho=0.1)
    cos01 = 1 / np.sqrt(2)
    assert scores[0, 1].item() == pytest.approx(1 - cos01 + 0.1)
    assert scores[1, 2].item() == pytest.approx(1 - cos01 + 0.2)  # |cos| ignores the sign
    assert scores[0, 2].item() == pytest.approx(1 + 0.1)
    torch.testing.assert_close(scores, scores.T)
    assert torch.all(scores.diagonal() == 0)


def test_a_zero_slope_unit_gives_no_nan() -> None:
    weight = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    scores = redundancy(weight, torch.zeros(2), rho=0.05)
    assert torch.isfinite(scores).all()
    assert scores[0, 1].item() == pytest.approx(1.0)


def _randomise_bn(bn: nn.modules.batchnorm._BatchNorm) -> None:
    with torch.no_grad():
        bn.weight.uniform_(-1.5, 1.5)
        bn.bias.uniform_(-1, 1)
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.2, 3)


@pytest.mark.parametrize("with_bias", [False, True])
def test_folding_bn_gives_the_same_pre_activation_as_conv_then_bn(with_bias: bool) -> None:
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 5, 3, padding=1, bias=with_bias)
    bn = nn.BatchNorm2d(5)
    _randomise_bn(bn)
    x = torch.randn(4, 3, 6, 6)
    with torch.no_grad():
        expected = bn.eval()(conv(x))
        w_eff, b_eff = effective_affine(conv.weight, conv.bias, bn)
        folded = nn.functional.conv2d(x, w_eff.reshape(conv.weight.shape), b_eff, padding=1)
    assert w_eff.shape == (5, 27)
    torch.testing.assert_close(folded, expected, rtol=1e-5, atol=1e-5)


def test_folding_bn1d_into_a_linear_layer() -> None:
    torch.manual_seed(1)
    linear = nn.Linear(4, 6)
    bn = nn.BatchNorm1d(6)
    _randomise_bn(bn)
    x = torch.randn(10, 4)
    with torch.no_grad():
        expected = bn.eval()(linear(x))
        w_eff, b_eff = effective_affine(linear.weight, linear.bias, bn)
    torch.testing.assert_close(x @ w_eff.T + b_eff, expected, rtol=1e-5, atol=1e-5)


def test_folding_without_bn_returns_the_layer_and_zero_bias() -> None:
    conv = nn.Conv2d(2, 3, 1, bias=False)
    w_eff, b_eff = effective_affine(conv.weight, conv.bias, None)
    torch.testing.assert_close(w_eff, conv.weight.detach().reshape(3, 2))
    assert torch.all(b_eff == 0)
