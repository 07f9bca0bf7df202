"""Confidence intervals and paired differences, checked against intervals computed by hand.

t quantiles (two-sided 95%) from the printed tables: t(0.975, 1) = 12.7062, t(0.975, 2) = 4.3027, t(0.975, 3) = 3.1824.
"""

from __future__ import annotations

import math

import pytest

from splinebench.report.stats import (
    BETTER,
    ONE_SEED,
    WITHIN_NOISE,
    WORSE,
    Summary,
    format_paired,
    format_summary,
    paired_difference,
    summarise,
    t_quantile,
)


def test_t_quantiles_match_the_printed_table():
    assert t_quantile(2) == pytest.approx(12.7062, abs=1e-4)
    assert t_quantile(3) == pytest.approx(4.3027, abs=1e-4)
    assert t_quantile(4) == pytest.approx(3.1824, abs=1e-4)
    with pytest.raises(ValueError):
        t_quantile(1)


def test_three_values_give_the_hand_computed_interval():
    # mean 2, sample std 1, half-width 4.3027 * 1 / sqrt(3) = 2.4841
    s = summarise([1.0, 2.0, 3.0])
    assert s is not None
    assert (s.mean, s.std, s.n) == (2.0, 1.0, 3)
    assert s.half_width == pytest.approx(2.4841, abs=1e-4)
    assert s.ci_low == pytest.approx(2 - 2.4841, abs=1e-4)
    assert s.ci_high == pytest.approx(2 + 2.4841, abs=1e-4)
    assert format_summary(s) == "2.00±2.48"


def test_two_values_use_one_degree_of_freedom():
    # 90 and 94: mean 92, std 2*sqrt(2), half-width 12.7062 * 2.8284 / sqrt(2) = 25.4124
    s = summarise([90.0, 94.0])
    assert s is not None
    assert s.half_width == pytest.approx(25.4124, abs=1e-3)


def test_one_value_has_no_interval_and_missing_values_are_skipped():
    s = summarise([0.5, None, float("nan")])
    assert s == Summary(0.5, None, 1)
    assert s.half_width is None
    assert format_summary(s) == "0.50"
    assert summarise([None]) is None
    assert format_summary(None) == "-"


def test_scaling_moves_the_interval_with_the_mean():
    s = summarise([0.1, 0.2, 0.3])
    assert s is not None
    pct = s.scaled(100.0)
    assert pct.mean == pytest.approx(20.0)
    assert pct.half_width == pytest.approx(100 * s.half_width)
    flipped = s.scaled(-1.0)
    assert flipped.ci_low == pytest.approx(-s.ci_high) and flipped.ci_high == pytest.approx(-s.ci_low)
    assert flipped.std == pytest.approx(s.std)


def test_paired_difference_uses_per_seed_differences_not_two_intervals():
    # The seeds move both pruners together (shared dense runs); the difference is always about +1.
    a = {0: 90.0, 1: 95.0, 2: 85.0}
    b = {0: 89.0, 1: 93.8, 2: 84.2}
    paired = paired_difference(a, b)
    assert paired is not None
    diffs = [1.0, 1.2, 0.8]  # mean 1.0, std 0.2, half-width 4.3027 * 0.2 / sqrt(3) = 0.4968
    assert paired.mean == pytest.approx(1.0)
    assert paired.difference.std == pytest.approx(0.2)
    assert paired.difference.half_width == pytest.approx(4.3027 * 0.2 / math.sqrt(3), abs=1e-4)
    assert paired.seeds == (0, 1, 2) and paired.n == len(diffs)
    assert paired.verdict == BETTER
    # unpaired, the two means' intervals overlap almost entirely: pairing is what decides it
    sa, sb = summarise(a.values()), summarise(b.values())
    assert sa is not None and sb is not None and sa.ci_low < sb.ci_high
    assert paired_difference(b, a).verdict == WORSE  # type: ignore[union-attr]
    assert format_paired(paired) == "+1.00±0.50 better"


def test_a_difference_whose_interval_spans_zero_is_within_noise():
    paired = paired_difference({0: 1.0, 1: 2.0, 2: 3.0}, {0: 0.0, 1: 0.0, 2: 0.0})
    assert paired is not None
    assert paired.verdict == WITHIN_NOISE  # mean 2, interval [-0.48, 4.48]
    assert format_paired(paired) == "+2.00±2.48 within noise"


def test_lower_is_better_flips_the_verdict():
    paired = paired_difference({0: 5.0, 1: 6.0}, {0: 7.0, 1: 8.0}, higher_is_better=False)
    assert paired is not None and paired.verdict == BETTER  # a costs exactly 2 less on both seeds


def test_only_seeds_both_sides_have_are_paired():
    paired = paired_difference({0: 90.0, 1: 91.0, 2: None}, {1: 89.0, 2: 88.0, 3: 87.0})
    assert paired is not None
    assert paired.seeds == (1,)
    assert paired.verdict == ONE_SEED
    assert format_paired(paired) == "+2.00 one seed"
    assert paired_difference({0: 1.0}, {1: 1.0}) is None
    assert format_paired(None) == "-"
