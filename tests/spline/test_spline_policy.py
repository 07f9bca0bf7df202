"""Greedy removal orders and the layerwise / global plans built from them."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from splinebench.spline import (
    check_dim,
    common_dimension,
    global_plan,
    layerwise_plan,
    pca_project,
    reduce_units,
    redundancy,
    removal_order,
    resolve_dimension,
)
from splinebench.spline.policy import SCORE_DTYPE


def _brute_force_order(weight: torch.Tensor, bias: torch.Tensor, rho: float, victim: str):
    """O(K^3) reference: scan every ordered pair of remaining units (row-major first minimum)."""
    scores = redundancy(weight, bias, rho, dtype=SCORE_DTYPE).numpy()
    norms = weight.reshape(weight.shape[0], -1).to(torch.float64).norm(dim=1).numpy()
    alive = list(range(weight.shape[0]))
    order, costs = [], []
    while len(alive) > 1:
        best = None
        for i in alive:
            for j in alive:
                if i != j and (best is None or scores[i, j] < scores[best[0], best[1]]):
                    best = (i, j)
        i, j = best
        if victim == "smaller-norm":
            key_i, key_j = norms[i], norms[j]
        else:
            mask = np.isin(np.arange(len(scores)), alive)  # N(k, k) = 0, so self adds nothing
            key_i = float(scores[i, mask].sum()) / (len(alive) - 1)
            key_j = float(scores[j, mask].sum()) / (len(alive) - 1)
        removed = i if key_i < key_j else j if key_j < key_i else max(i, j)
        order.append(removed)
        costs.append(float(scores[i, j]))
        alive.remove(removed)
    return order, costs


@settings(max_examples=40, deadline=None)
@given(
    units=st.integers(2, 12),
    width=st.integers(1, 6),
    duplicates=st.integers(0, 3),
    victim=st.sampled_from(["smaller-norm", "more-redundant"]),
    seed=st.integers(0, 10_000),
)
def test_greedy_order_agrees_with_a_brute_force_reference(
    units: int, width: int, duplicates: int, victim: str, seed: int
) -> None:
    generator = torch.Generator().manual_seed(seed)
    weight = torch.randn(units, width, generator=generator)
    bias = torch.randn(units, generator=generator)
    for k in range(min(duplicates, units - 1)):  # exact copies create ties
        weight[k + 1] = weight[0]
        bias[k + 1] = bias[0]
    order, costs = removal_order(weight, bias, rho=0.05, victim=victim)
    expected_order, expected_costs = _brute_force_order(weight, bias, 0.05, victim)
    assert order == expected_order
    assert costs == expected_costs
    assert all(b >= a for a, b in zip(costs, costs[1:], strict=False))


def test_smaller_norm_victim_removes_the_weaker_of_a_duplicate_pair() -> None:
    weight = torch.tensor([[1.0, 0.0], [0.0, 1.0], [3.0, 0.0]])
    order, _ = removal_order(weight, torch.zeros(3), victim="smaller-norm", limit=1)
    assert order == [0]


def _layers(sizes: dict[str, tuple[int, ...]], seed: int = 0) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    generator = torch.Generator().manual_seed(seed)
    return {
        name: (torch.randn(*shape, generator=generator), torch.randn(shape[0], generator=generator) * 0.1)
        for name, shape in sizes.items()
    }


@pytest.mark.parametrize("ratio", [0.0, 0.3, 0.5, 0.7, 0.95])
def test_layerwise_plan_removes_round_p_k_units_per_layer(ratio: float) -> None:
    units = _layers({"conv1": (16, 3, 3, 3), "conv2": (10, 16, 3, 3), "fc": (7, 40), "one": (1, 4)})
    plan = layerwise_plan(units, ratio)
    for name, (weight, _) in units.items():
        k = weight.shape[0]
        assert len(plan[name]) == min(math.floor(ratio * k + 0.5), k - 1)
        assert plan[name] == sorted(set(plan[name]))
        assert all(0 <= i < k for i in plan[name])


@pytest.mark.parametrize("reducer", ["pca", "fa"])
def test_global_plan_respects_min_keep_and_the_total_count(reducer: str) -> None:
    units = _layers({"a": (40, 8), "b": (12, 30), "c": (5, 3, 3, 3), "d": (30, 200)})
    total = 40 + 12 + 5 + 30
    plan = global_plan(units, ratio=0.6, reducer=reducer, min_keep_fraction=0.25)
    assert sum(len(v) for v in plan.values()) == round(0.6 * total)
    for name, (weight, _) in units.items():
        k = weight.shape[0]
        assert k - len(plan[name]) >= max(1, math.ceil(0.25 * k))
        assert plan[name] == sorted(set(plan[name]))


def test_global_plan_takes_the_cheapest_removals_first() -> None:
    units = _layers({"a": (10, 6), "b": (10, 6)}, seed=3)
    weight_b = units["b"][0].clone()
    weight_b[1:4] = weight_b[0]  # three exact copies: the three cheapest removals of the whole net
    units["b"] = (weight_b, torch.zeros(10))
    plan = global_plan(units, ratio=0.15, dim=6)
    assert plan["a"] == []
    assert len(plan["b"]) == 3 and set(plan["b"]) <= {0, 1, 2, 3}


def test_global_plan_refuses_a_ratio_below_the_keep_floor() -> None:
    with pytest.raises(ValueError, match="min_keep_fraction"):
        global_plan(_layers({"a": (10, 4), "b": (10, 4)}), ratio=0.95, min_keep_fraction=0.1)


def test_pca_keeps_cosines_when_the_rank_fits() -> None:
    generator = torch.Generator().manual_seed(0)
    weight = torch.randn(6, 3, generator=generator) @ torch.randn(3, 50, generator=generator)  # rank 3
    exact = pca_project(weight, dim=4, dtype=torch.float64)
    assert exact.shape == (6, 4)
    torch.testing.assert_close(redundancy(exact, None), redundancy(weight, None), atol=1e-9, rtol=0)
    fast = pca_project(weight, dim=4)  # float32 eigen-decomposition
    torch.testing.assert_close(redundancy(fast, None), redundancy(weight, None), atol=1e-5, rtol=0)


def test_pca_drops_the_weakest_direction() -> None:
    # rows live in span(e0, e1, e2) with energy 100 / 10 / 1: a 2-D projection keeps e0 and e1 only
    weight = torch.zeros(3, 5)
    weight[0, 0], weight[1, 1], weight[2, 2] = 10.0, 3.0, 1.0
    weight[2, 0] = 1e-3
    projected = pca_project(weight, dim=2, dtype=torch.float64)
    assert projected[2].norm() < 0.01
    assert projected[0].norm() == pytest.approx(10.0, rel=1e-6)


def test_narrow_layers_are_zero_padded_and_fa_gives_finite_scores() -> None:
    weight = torch.randn(5, 3)
    torch.testing.assert_close(reduce_units(weight, 6, "fa")[:, :3], weight.double())
    scores = reduce_units(torch.randn(20, 30), 4, "fa")
    assert scores.shape == (20, 4) and torch.isfinite(scores).all()


def test_fa_recovers_the_latent_factors_of_a_factor_model() -> None:
    generator = torch.Generator().manual_seed(0)
    factors = torch.randn(500, 2, generator=generator, dtype=torch.float64)
    loadings = torch.randn(20, 2, generator=generator, dtype=torch.float64)
    noise_scale = torch.rand(20, generator=generator, dtype=torch.float64) * 0.5 + 0.1
    data = factors @ loadings.T + torch.randn(500, 20, generator=generator, dtype=torch.float64) * noise_scale
    scores = reduce_units(data, 2, "fa")
    # the scores must be a linear image of the true factors: least squares leaves little unexplained
    solution = torch.linalg.lstsq(scores, factors).solution
    residual = (factors - scores @ solution).pow(2).sum() / factors.pow(2).sum()
    assert residual < 0.05


# --- the global reduction dimension ------------------------------------------------------------------------------

MIXED = {"conv1": (12, 1, 3, 3), "conv2": (16, 12, 3, 3), "fc": (10, 40)}  # filters of 9, 108 and 40 values


def test_smallest_is_the_default_and_the_smallest_filter_size():
    units = _layers(MIXED, seed=5)
    assert common_dimension(units) == 9
    assert resolve_dimension(units, "smallest") == resolve_dimension(units, None) == 9
    assert resolve_dimension(units, 27) == 27 and resolve_dimension(units, "none") is None
    assert global_plan(units, 0.4) == global_plan(units, 0.4, dim="smallest") == global_plan(units, 0.4, dim=9)


def test_none_keeps_every_layer_s_own_cosines():
    # Projecting to a dimension at least as long as every filter only zero-pads (exact cosines): the same plan
    # as no reduction. A projection to fewer dimensions changes the ranking on these random layers.
    units = _layers(MIXED, seed=5)
    plans = {dim: global_plan(units, 0.4, dim=dim) for dim in ("none", 108, 500, 9)}
    assert plans["none"] == plans[108] == plans[500]
    assert plans["none"] != plans[9]


def test_none_on_layers_of_one_filter_size_is_exactly_no_reduction():
    units = _layers({"a": (10, 6), "b": (14, 6)}, seed=2)
    assert global_plan(units, 0.5, dim="none") == global_plan(units, 0.5, dim=6)


@pytest.mark.parametrize("bad", ["smalest", "None", 0, -4, 2.5, True])
def test_a_dimension_that_is_not_a_choice_is_refused_by_name(bad):
    with pytest.raises(ValueError, match="dim must be 'smallest', 'none' or a positive int"):
        check_dim(bad)
    with pytest.raises(ValueError, match="dim must be"):
        global_plan(_layers(MIXED), 0.3, dim=bad)
