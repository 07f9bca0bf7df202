"""Spline pruning policy (paper Sec. 3.3, 4.2, 4.3): which units of which layers to remove.

A *plan* is ``{layer name: sorted unit indices to remove}``; nothing here touches a model (the prune layer
applies plans). Units are given per layer as ``(W_eff, b_eff)`` (see ``effective_affine``; a conv's filter is
flattened).

Greedy removal order (our choice; the paper gives only the argmin of Eq. 2): repeatedly take the most
redundant remaining pair ``argmin_{k != k'} N(k, k')`` among units not yet removed, remove one of the two and
record that pair's N as the removal's cost. N itself is fixed (removing a unit changes no other unit's
weights), only the set shrinks, so the costs are non-decreasing; that is what lets the global policy merge
per-layer orders by cost. Which of the pair goes (``victim``):

- ``"smaller-norm"`` (default): the unit with the smaller effective-slope L2 norm, i.e. the one whose
  hyperplane moves its ReLU input least steeply and so carries less of the signal downstream.
- ``"more-redundant"``: the unit whose mean N to the other remaining units is lower (it duplicates more of
  them).

Everything is deterministic: the pair is the first ordered pair ``(k, k')`` in row-major order that attains
the minimum (N is symmetric up to float rounding, see ``redundancy``), and a tie between the two units goes
to the higher index.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Iterator, Mapping

import numpy as np
import torch

from splinebench.spline.reduction import REDUCERS, reduce_units
from splinebench.spline.redundancy import redundancy

VICTIMS = ("smaller-norm", "more-redundant")

#: Global PCA/FA dimension cap when ``dim`` is not given.
MAX_COMMON_DIM = 128

#: Eq. 2 scores are ranked in float32: ample resolution for scores of order 1, half the memory traffic.
SCORE_DTYPE = torch.float32


def units_to_remove(ratio: float, units: int) -> int:
    """``round(ratio * units)`` with halves rounded up (not Python's round-half-to-even)."""
    return int(math.floor(ratio * units + 0.5))


def _check_ratio(ratio: float) -> None:
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f"pruning ratio must be in [0, 1), got {ratio}")


def _check_victim(victim: str) -> None:
    if victim not in VICTIMS:
        raise ValueError(f"victim must be one of {VICTIMS}, got {victim!r}")


def greedy_removals(
    weight_eff: torch.Tensor,
    bias_eff: torch.Tensor | None,
    rho: float = 0.05,
    victim: str = "smaller-norm",
    slope_norms: torch.Tensor | None = None,
) -> Iterator[tuple[int, float]]:
    """Lazily yield ``(removed unit, cost)`` in greedy Eq. 2 order, ``K - 1`` times at most.

    Every row keeps its minimum and argmin over the remaining units, and each unit the list of rows whose
    argmin it is; after a removal only those rows are recomputed. One step is a handful of O(K) numpy calls,
    so a layer costs O(K^2) numpy work in practice instead of an O(K^3) loop, and a caller that needs only
    the first few removals (the global merge) pays only for those. ``slope_norms`` are the norms the
    ``"smaller-norm"`` rule compares (default: the rows of ``weight_eff``; the global policy passes the norms
    of the unprojected slopes).
    """
    _check_victim(victim)
    scores = redundancy(weight_eff, bias_eff, rho, dtype=SCORE_DTYPE).numpy()
    if slope_norms is None:
        slope_norms = weight_eff.detach().reshape(weight_eff.shape[0], -1).to(torch.float64).norm(dim=1)
    if slope_norms.numel() != scores.shape[0]:
        raise ValueError(f"{slope_norms.numel()} slope norms for {scores.shape[0]} units")
    return _greedy(scores, slope_norms.tolist(), victim)


def _greedy(scores: np.ndarray, norms: list[float], victim: str) -> Iterator[tuple[int, float]]:
    units = scores.shape[0]
    if units < 2:
        return
    work = scores.copy()  # never masked column-wise: a strided column write per step thrashes the cache
    np.fill_diagonal(work, np.inf)
    row_arg = work.argmin(axis=1)
    row_min = work[np.arange(units), row_arg]
    owned: list[list[int]] = [[] for _ in range(units)]  # owned[v]: rows whose argmin is (or was) v
    for row, column in enumerate(row_arg.tolist()):
        owned[column].append(row)
    alive = np.ones(units, dtype=bool)
    for step in range(units - 1):
        first = int(row_min.argmin())
        second = int(row_arg[first])
        cost = float(row_min[first])
        if victim == "smaller-norm":
            key_first, key_second = norms[first], norms[second]
        else:  # mean N to the other remaining units (N(k, k) = 0, so summing over all alive is fine)
            key_first = float(scores[first, alive].sum()) / (units - step - 1)
            key_second = float(scores[second, alive].sum()) / (units - step - 1)
        if key_first < key_second:
            removed = first
        elif key_second < key_first:
            removed = second
        else:
            removed = max(first, second)
        yield removed, cost
        alive[removed] = False
        row_min[removed] = np.inf
        stale = [row for row in owned[removed] if alive[row]]
        if stale:
            rows = np.where(alive, work[stale], np.inf)  # contiguous rows, dead columns masked on the fly
            columns = rows.argmin(axis=1)
            row_arg[stale] = columns
            row_min[stale] = rows[np.arange(len(stale)), columns]
            for row, column in zip(stale, columns.tolist(), strict=True):
                owned[column].append(row)


def removal_order(
    weight_eff: torch.Tensor,
    bias_eff: torch.Tensor | None,
    rho: float = 0.05,
    victim: str = "smaller-norm",
    limit: int | None = None,
) -> tuple[list[int], list[float]]:
    """Greedy Eq. 2 removal order of one layer: ``(unit indices in removal order, cost of each removal)``.

    At most ``K - 1`` units (one must stay to form a pair), or ``limit`` if smaller (see ``greedy_removals``).
    """
    steps = greedy_removals(weight_eff, bias_eff, rho, victim)
    if limit is not None:
        steps = itertools.islice(steps, max(int(limit), 0))
    pairs = list(steps)
    return [unit for unit, _ in pairs], [cost for _, cost in pairs]


def _flatten(
    units: Mapping[str, tuple[torch.Tensor, torch.Tensor | None]],
) -> dict[str, tuple[torch.Tensor, torch.Tensor | None]]:
    if not units:
        raise ValueError("no layer given to prune")
    flat = {}
    for name, (weight, bias) in units.items():
        if weight.dim() < 2:
            raise ValueError(f"layer {name!r}: weight must be [units, ...], got shape {tuple(weight.shape)}")
        flat[name] = (weight.detach().reshape(weight.shape[0], -1), bias)
    return flat


def layerwise_plan(
    units: Mapping[str, tuple[torch.Tensor, torch.Tensor | None]],
    ratio: float,
    rho: float = 0.05,
    victim: str = "smaller-norm",
) -> dict[str, list[int]]:
    """Layerwise spline pruning (Sec. 4.2): each layer loses ``round(ratio * K)`` units, keeping at least 1."""
    _check_ratio(ratio)
    plan: dict[str, list[int]] = {}
    for name, (weight, bias) in _flatten(units).items():
        count = min(units_to_remove(ratio, weight.shape[0]), weight.shape[0] - 1)
        order, _ = removal_order(weight, bias, rho, victim, limit=count)
        plan[name] = sorted(order)
    return plan


def common_dimension(units: Mapping[str, tuple[torch.Tensor, torch.Tensor | None]], cap: int = MAX_COMMON_DIM) -> int:
    """Default global dimension: the smallest flattened unit dimension among the layers, capped at ``cap``."""
    return min(min(int(np.prod(weight.shape[1:])) for weight, _ in units.values()), cap)


#: The named choices of the global reduction dimension (besides a positive int).
DIM_CHOICES = ("smallest", "none")


def check_dim(dim: int | str | None) -> None:
    """Refuse a reduction dimension that is neither ``"smallest"``, ``"none"`` nor a positive int (None = smallest)."""
    if dim is None or dim in DIM_CHOICES:
        return
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
        raise ValueError(f"spline pruner dim must be 'smallest', 'none' or a positive int (e.g. 27, 64), got {dim!r}")


def resolve_dimension(units: Mapping[str, tuple[torch.Tensor, torch.Tensor | None]],
                      dim: int | str | None) -> int | None:
    """The dimension every layer is projected to, or None for ``"none"`` (each layer keeps its own filters).

    ``"none"`` is always computable here because Eq. 2 pairs stay within a layer: what a reduction buys is
    cross-layer comparability of the scores, not the possibility of computing them. When every layer has the same
    filter size it is exactly no reduction; otherwise layers with longer filters get smaller random cosines and
    so look less redundant, which is the effect the ablation measures.
    """
    check_dim(dim)
    if dim is None or dim == "smallest":
        return common_dimension(units)
    if dim == "none":
        return None
    return int(dim)


def global_plan(
    units: Mapping[str, tuple[torch.Tensor, torch.Tensor | None]],
    ratio: float,
    rho: float = 0.05,
    reducer: str = "pca",
    dim: int | str | None = "smallest",
    min_keep_fraction: float = 0.1,
    victim: str = "smaller-norm",
) -> dict[str, list[int]]:
    """Global spline pruning (Sec. 4.3): ``round(ratio * total units)`` removals ranked across all layers.

    Each layer's slopes are projected to a common dimension (``reducer``: PCA or FA, see ``reduction.py``),
    its greedy removal order is computed there (Eq. 2 pairs stay within a layer, as Proposition 1 is per
    layer), and the globally cheapest removals are taken by merging the per-layer orders by cost (each order's
    costs are non-decreasing, so every layer loses a prefix of its order). A layer keeps at least
    ``max(1, ceil(min_keep_fraction * K))`` units; a ratio that cannot be met under that floor raises
    ValueError. Biases are not projected, and the ``"smaller-norm"`` rule compares the unprojected slope
    norms. Every given layer appears in the plan, possibly with no unit to remove.

    ``dim``: ``"smallest"`` (default; None means the same) projects to the smallest flattened filter size among
    the layers (capped at ``MAX_COMMON_DIM``); an int projects to that dimension (a layer whose filters are no
    longer is zero-padded, which keeps its cosines exact); ``"none"`` projects nothing (see
    ``resolve_dimension``). The paper names PCA and FA but no dimension.
    """
    _check_ratio(ratio)
    _check_victim(victim)
    if reducer not in REDUCERS:
        raise ValueError(f"unknown reducer {reducer!r}; choose one of {REDUCERS}")
    if not 0.0 <= min_keep_fraction <= 1.0:
        raise ValueError(f"min_keep_fraction must be in [0, 1], got {min_keep_fraction}")
    flat = _flatten(units)
    common = resolve_dimension(flat, dim)
    names = list(flat)
    caps = {name: w.shape[0] - max(1, math.ceil(min_keep_fraction * w.shape[0])) for name, (w, _) in flat.items()}
    total_units = sum(w.shape[0] for w, _ in flat.values())
    target = units_to_remove(ratio, total_units)
    if target > sum(caps.values()):
        raise ValueError(
            f"removing {target} of {total_units} units (ratio {ratio}) would take some layer below "
            f"min_keep_fraction={min_keep_fraction}; at most {sum(caps.values())} can go"
        )
    plan: dict[str, list[int]] = {name: [] for name in names}
    if target == 0:
        return plan

    def ranked(index: int, name: str) -> Iterator[tuple[float, int, int, int]]:
        weight, bias = flat[name]
        norms = weight.to(torch.float64).norm(dim=1)  # the victim rule compares unprojected slopes
        reduced = weight if common is None else reduce_units(weight, common, reducer)
        removals = greedy_removals(reduced, bias, rho, victim, slope_norms=norms)
        for position, (unit, cost) in enumerate(itertools.islice(removals, caps[name])):
            yield cost, index, position, unit

    # Each stream is sorted by cost, so heapq.merge yields the global order (ties: layer, then position)
    # and only computes as many removals per layer as the merge actually takes.
    streams = [ranked(index, name) for index, name in enumerate(names) if caps[name] > 0]
    for _cost, index, _position, unit in itertools.islice(heapq.merge(*streams), target):
        plan[names[index]].append(unit)
    return {name: sorted(indices) for name, indices in plan.items()}
