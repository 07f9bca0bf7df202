"""Mean, spread and 95% confidence intervals over seeds, and paired differences between pruners.

The paper reports means over five runs (Tables 1, 2) and ``mean±std`` where it shows a spread (Table 8). We keep
the *sample* standard deviation (``n - 1`` in the denominator, as ``statistics.stdev``): with three seeds the
population formula would understate the spread by a fifth. A spread alone does not say whether a one-point gap is
real, so every summary also carries a Student-t 95% confidence interval of its mean (``mean ± t(0.975, n-1) *
std / sqrt(n)``): with three seeds t is 4.30, and an interval is wide, which is the honest answer at that n. One
value has neither spread nor interval (None), and a cell says so rather than showing a bare number as if settled.

Two pruners of one setting share their dense runs seed by seed (a sweep trains each seed's dense model once), so
their accuracies are correlated: the seed-to-seed spread of the dense model moves both. Comparing them with two
independent intervals would call real differences noise; :func:`paired_difference` takes the per-seed differences
instead and puts the interval on their mean.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

#: Two-sided confidence level of every interval in the reports.
CONFIDENCE = 0.95

BETTER = "better"
WORSE = "worse"
WITHIN_NOISE = "within noise"
ONE_SEED = "one seed: cannot tell"


def t_quantile(n: int, confidence: float = CONFIDENCE) -> float:
    """Student t quantile for a two-sided ``confidence`` interval of a mean of ``n`` values (n - 1 dof)."""
    if n < 2:
        raise ValueError(f"a t interval needs at least two values, got {n}")
    from scipy.stats import t  # imported here: scipy costs a noticeable start-up for commands that never need it

    return float(t.ppf(0.5 + confidence / 2.0, n - 1))


@dataclass(frozen=True)
class Summary:
    """Mean, sample standard deviation, count and 95% t interval of the mean (None below two values)."""

    mean: float
    std: float | None
    n: int
    ci_low: float | None = None
    ci_high: float | None = None

    @property
    def half_width(self) -> float | None:
        """Half the confidence interval's width (the ``±`` a table shows); None for one value."""
        if self.ci_low is None or self.ci_high is None:
            return None
        return (self.ci_high - self.ci_low) / 2.0

    def scaled(self, factor: float) -> Summary:
        """The same summary in other units (fractions -> percent); a negative factor swaps the interval's ends."""
        std = None if self.std is None else self.std * abs(factor)
        if self.ci_low is None or self.ci_high is None:
            return Summary(self.mean * factor, std, self.n)
        ends = sorted((self.ci_low * factor, self.ci_high * factor))
        return Summary(self.mean * factor, std, self.n, ends[0], ends[1])


def summarise(values: Iterable[float | None]) -> Summary | None:
    """Summary of the known (not None, not NaN) values; None when there is none."""
    known = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    if not known:
        return None
    mean = statistics.fmean(known)
    if len(known) < 2:
        return Summary(mean, None, 1)
    std = statistics.stdev(known)
    half = t_quantile(len(known)) * std / math.sqrt(len(known))
    return Summary(mean, std, len(known), mean - half, mean + half)


@dataclass(frozen=True)
class PairedDifference:
    """Mean of per-seed differences ``a - b`` over the seeds both have, with its interval and what it means."""

    difference: Summary
    seeds: tuple[Hashable, ...]  # the keys paired: seeds, or run ids where one seed may have several runs
    verdict: str  # BETTER / WORSE / WITHIN_NOISE / ONE_SEED, for ``a`` against ``b``

    @property
    def mean(self) -> float:
        return self.difference.mean

    @property
    def n(self) -> int:
        return self.difference.n


def verdict_of(difference: Summary, higher_is_better: bool = True) -> str:
    """``better`` when the whole interval lies on the good side of zero, ``worse`` on the bad side, else noise."""
    if difference.ci_low is None or difference.ci_high is None:
        return ONE_SEED
    if difference.ci_low > 0:
        return BETTER if higher_is_better else WORSE
    if difference.ci_high < 0:
        return WORSE if higher_is_better else BETTER
    return WITHIN_NOISE


def paired_difference(a_by_seed: Mapping[Hashable, float | None], b_by_seed: Mapping[Hashable, float | None],
                      higher_is_better: bool = True) -> PairedDifference | None:
    """``a - b`` paired by seed (both measured on the same dense run), or None when no seed has both.

    Seeds that only one side has (a failed trial, a missing result) are left out rather than compared unpaired;
    ``seeds`` names those used. With one shared seed the verdict is :data:`ONE_SEED`.
    """
    seeds = _sorted([s for s in a_by_seed if s in b_by_seed and _known(a_by_seed[s]) and _known(b_by_seed[s])])
    if not seeds:
        return None
    found = summarise([float(a_by_seed[s]) - float(b_by_seed[s]) for s in seeds])  # type: ignore[arg-type]
    assert found is not None
    return PairedDifference(found, seeds, verdict_of(found, higher_is_better))


def _sorted(keys: list[Hashable]) -> tuple[Hashable, ...]:
    try:
        return tuple(sorted(keys))  # type: ignore[type-var]
    except TypeError:  # keys of mixed types
        return tuple(sorted(keys, key=str))


def _known(value: float | None) -> bool:
    return value is not None and not math.isnan(float(value))


def format_summary(summary: Summary | None, digits: int = 2, plus_minus: str = "±") -> str:
    """``93.12`` for one value, ``93.12±0.21`` (95% interval half-width) for several; ``-`` for nothing."""
    if summary is None:
        return "-"
    text = f"{summary.mean:.{digits}f}"
    if summary.half_width is not None:
        text += f"{plus_minus}{summary.half_width:.{digits}f}"
    return text


def format_paired(paired: PairedDifference | None, digits: int = 2, plus_minus: str = "±") -> str:
    """``+0.41±0.30 better``, ``-0.10±0.52 within noise``, ``+0.08 one seed``; ``-`` when nothing is paired."""
    if paired is None:
        return "-"
    text = f"{paired.mean:+.{digits}f}"
    if paired.difference.half_width is not None:
        text += f"{plus_minus}{paired.difference.half_width:.{digits}f}"
    short = "one seed" if paired.verdict == ONE_SEED else paired.verdict
    return f"{text} {short}"


__all__ = [
    "BETTER", "CONFIDENCE", "ONE_SEED", "PairedDifference", "Summary", "WITHIN_NOISE", "WORSE", "format_paired",
    "format_summary", "paired_difference", "summarise", "t_quantile", "verdict_of",
]
