"""Pairwise unit redundancy (paper Eq. 2) and the BN-folded affine map it is measured on.

Eq. 2: ``N(k, k') = (1 - |<W_k, W_k'>| / (||W_k|| ||W_k'||)) + rho * |b_k - b_k'|``. Two units with
proportional slopes and equal biases (N = 0) draw the same subdivision hyperplane, so removing one leaves the
layer's input space partition unchanged (Proposition 1). For a convolution, ``W_k`` is the flattened filter
(in * kh * kw).
"""

from __future__ import annotations

import torch
from torch import nn


def _flat(weight: torch.Tensor) -> torch.Tensor:
    if weight.dim() < 2:
        raise ValueError(f"weight must be [units, ...] with at least 2 dims, got shape {tuple(weight.shape)}")
    return weight.detach().reshape(weight.shape[0], -1)


def _bias_or_zeros(bias: torch.Tensor | None, units: int, like: torch.Tensor) -> torch.Tensor:
    if bias is None:
        return torch.zeros(units, dtype=like.dtype, device=like.device)
    bias = bias.detach().reshape(-1)
    if bias.numel() != units:
        raise ValueError(f"bias has {bias.numel()} entries for {units} units")
    return bias.to(like.dtype)


def redundancy(
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    rho: float = 0.05,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """Eq. 2 for every pair of units of one layer: a ``[K, K]`` matrix in ``dtype``.

    The literal definition gives 0 on the diagonal (a unit is fully redundant with itself); it is set to
    exactly 0 here and the pruning policies exclude it. A unit whose slope is all zeros draws no hyperplane,
    so its cosine with anything is taken as 0 (angle term 1) rather than NaN. The matrix is symmetric up to
    the rounding of the matrix product (BLAS does not promise ``(A A^T)[i, j] == (A A^T)[j, i]`` bit for bit);
    the greedy policy works on ordered pairs and so never depends on it. The pruning policies ask for float32
    (resolution about 1e-7 on scores of order 1), which halves the memory traffic on 2,048-unit layers.
    """
    if rho < 0:
        raise ValueError(f"rho must be non-negative, got {rho}")
    slopes = _flat(weight).to(dtype)
    offsets = _bias_or_zeros(bias, slopes.shape[0], slopes)
    norms = slopes.norm(dim=1)
    safe = torch.where(norms > 0, norms, torch.ones_like(norms))
    unit_slopes = slopes / safe[:, None]  # zero rows stay zero, so their cosines are 0
    scores = unit_slopes @ unit_slopes.T  # cosines, turned into Eq. 2 in place below
    scores.abs_().clamp_(max=1.0).neg_().add_(1.0)
    if rho:
        scores.add_((offsets[:, None] - offsets[None, :]).abs_().mul_(rho))
    scores.fill_diagonal_(0.0)
    return scores


def effective_affine(
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    bn: nn.BatchNorm1d | nn.BatchNorm2d | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The affine map from a layer's input to its ReLU input: ``(W_eff [K, D], b_eff [K])``.

    A following BatchNorm (eval mode, running statistics) is folded in: slope ``W * gamma / sigma``, bias
    ``beta + (b - mu) * gamma / sigma`` with ``sigma = sqrt(var + eps)``. Why: the subdivision hyperplanes are
    where the *ReLU input* crosses 0, i.e. where the BN output does, and the authors' VGG/PreResNet convs have
    no bias, so on raw parameters ``b = 0`` and Eq. 2's rho term would do nothing, while the paper's rho
    ablation (Fig. 7) shows an effect. Without ``bn`` the flattened weight and the bias (zeros if None) are
    returned.
    """
    slopes = _flat(weight)
    units = slopes.shape[0]
    offsets = _bias_or_zeros(bias, units, slopes)
    if bn is None:
        return slopes.clone(), offsets.clone()
    if bn.num_features != units:
        raise ValueError(f"BatchNorm has {bn.num_features} features for a layer of {units} units")
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError("cannot fold a BatchNorm without running statistics (track_running_stats=False)")
    def like_slopes(t: torch.Tensor) -> torch.Tensor:  # BN statistics on the weight's device and dtype (CUDA too)
        return t.detach().to(device=slopes.device, dtype=slopes.dtype)

    sigma = torch.sqrt(like_slopes(bn.running_var) + bn.eps)
    gamma = like_slopes(bn.weight) if bn.weight is not None else torch.ones_like(sigma)
    beta = like_slopes(bn.bias) if bn.bias is not None else torch.zeros_like(sigma)
    scale = gamma / sigma
    return slopes * scale[:, None], beta + (offsets - like_slopes(bn.running_mean)) * scale
