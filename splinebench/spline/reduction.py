"""Projecting each layer's unit slopes to one common dimension, for global spline pruning (paper Sec. 4.3,
App. C).

Layers differ in the length D of their flattened filters. Cosines between random directions shrink like ``1 /
sqrt(D)``, so Eq. 2's angle term would rank every unit of a wide layer as less redundant than any unit of a
narrow one; projecting every layer to the same dimension ``d`` puts the cosines on a comparable scale, so one
global ranking is fair. Pairs stay within a layer: each layer is projected on its own basis.

- PCA (the paper's default): *uncentered* projection on the top ``d`` right singular vectors of ``W [K, D]``.
  Being uncentered it keeps inner products of the retained part, so cosines are exact whenever ``rank(W) <=
  d``.
- FA (Appendix C): an uncentered factor-analysis model ``w_k = L z_k + e_k`` (``e_k ~ N(0, diag(psi))``)
  fitted by EM with ``d`` factors, units as samples; the projection is the posterior mean ``E[z_k | w_k]``.
  Written here in torch (no sklearn): the paper only says FA measures "the correlation between two units" as
  well as PCA does.

A layer with ``D <= d`` is zero-padded to ``d`` (padding keeps inner products, hence cosines, exactly).
"""

from __future__ import annotations

import torch

REDUCERS = ("pca", "fa")


def _pad(weights: torch.Tensor, dim: int) -> torch.Tensor:
    return torch.nn.functional.pad(weights, (0, dim - weights.shape[1]))


def pca_project(weights: torch.Tensor, dim: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Uncentered PCA projection ``[K, D] -> [K, dim]`` (float64 out).

    Exact eigen-decomposition of the smaller Gram matrix (``W W^T`` or ``W^T W``), computed in ``dtype``:
    float32 by default, which halves the cost on ResNet-50-sized layers and moves cosines by about 1e-5,
    far below any difference Eq. 2 ranks on; pass float64 for exact cosines.
    """
    weights = weights.detach().reshape(weights.shape[0], -1)
    units, width = weights.shape
    if width <= dim:
        return _pad(weights.to(torch.float64), dim)
    weights = weights.to(dtype)
    if units <= width:
        # W W^T = U S^2 U^T; the projection W V_d equals U_d S_d.
        eigenvalues, eigenvectors = torch.linalg.eigh(weights @ weights.T)
        top = min(dim, units)
        projected = eigenvectors[:, -top:] * eigenvalues[-top:].clamp(min=0).sqrt()
    else:
        _, eigenvectors = torch.linalg.eigh(weights.T @ weights)
        projected = weights @ eigenvectors[:, -dim:]
    return _pad(projected.to(torch.float64), dim)


def fa_project(
    weights: torch.Tensor,
    dim: int,
    iterations: int = 30,
    tol: float = 1e-4,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Uncentered factor-analysis scores ``[K, D] -> [K, dim]`` (float64 out) fitted by EM in ``dtype``.

    EM as in Rubin & Thayer (1982) without the mean term. One iteration costs two ``K x D x dim`` products
    (the diagonal noise update reuses ``X^T E[z]``); it stops after ``iterations`` or once the loadings move
    by less than ``tol`` relative to their largest entry.
    """
    x = weights.detach().reshape(weights.shape[0], -1).to(dtype)
    units, width = x.shape
    if width <= dim:
        return _pad(x.to(torch.float64), dim)
    second_moment = (x * x).mean(dim=0)  # diag of the uncentered covariance
    floor = 1e-6 * float(second_moment.mean()) + 1e-12
    # Start from the PCA loadings: eigenvectors of the uncentered covariance, scaled by sqrt(eigenvalue).
    gram_side = pca_project(x, dim, dtype).to(dtype)  # [K, dim] = U_d S_d (columns in any order)
    energy = gram_side.pow(2).sum(dim=0)  # S_d^2
    loadings = (x.T @ gram_side) / energy.clamp(min=1e-30) * (energy / units).sqrt()  # V_d S_d / sqrt(K)
    psi = (second_moment - loadings.pow(2).sum(dim=1)).clamp(min=floor)
    eye = torch.eye(dim, dtype=x.dtype)
    for _ in range(iterations):
        scaled = loadings / psi[:, None]  # Psi^-1 L  [D, dim]
        posterior_cov = torch.linalg.inv(eye + loadings.T @ scaled)  # Cov[z | x]  [dim, dim]
        scores = x @ (scaled @ posterior_cov)  # E[z | x]  [K, dim]
        moment = units * posterior_cov + scores.T @ scores  # sum_k E[z z^T | x_k]
        x_scores = x.T @ scores  # [D, dim]
        updated = torch.linalg.solve(moment, x_scores.T).T
        psi = (second_moment - (updated * x_scores).sum(dim=1) / units).clamp(min=floor)
        shift = float((updated - loadings).abs().max())
        loadings = updated
        if shift <= tol * float(loadings.abs().max()):
            break
    scaled = loadings / psi[:, None]
    return (x @ (scaled @ torch.linalg.inv(eye + loadings.T @ scaled))).to(torch.float64)


def reduce_units(weights: torch.Tensor, dim: int, method: str = "pca") -> torch.Tensor:
    """Project one layer's flattened unit slopes to ``dim`` with ``method`` in ``REDUCERS``."""
    if dim < 1:
        raise ValueError(f"the common dimension must be positive, got {dim}")
    if method == "pca":
        return pca_project(weights, dim)
    if method == "fa":
        return fa_project(weights, dim)
    raise ValueError(f"unknown reducer {method!r}; choose one of {REDUCERS}")
