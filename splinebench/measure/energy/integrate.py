"""Energy over a time window from power samples (trapezoid rule) or from an energy counter (delta).

The rules, shared by every meter:

* Two consecutive samples form a *usable pair* when they are at most ``gap_threshold_s`` apart and no recorded
  disconnect lies between them. Only usable pairs are integrated; everything else is a gap.
* Inside a usable pair power is taken as linear between its two samples (the trapezoid rule), so a window edge
  that falls between them is cut at the interpolated power. Across a gap nothing is interpolated: the window
  reports the gap and a coverage below 1 instead.
* For a counter (NVML's total-energy counter, RAPL ``energy_uj``) each usable pair holds the counter delta,
  spread evenly over the pair when a window edge cuts it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

Interval = tuple[float, float]

GAP_FACTOR = 2.5
"""A stretch longer than this many sample intervals without a sample is a gap."""

GAP_SLACK_S = 0.2
"""...but never less than one interval plus this, so scheduler jitter at very short intervals is not a gap."""


def gap_threshold_s(interval_s: float) -> float:
    """Longest spacing between two samples that still counts as continuous sampling."""
    return max(GAP_FACTOR * interval_s, interval_s + GAP_SLACK_S)


def merge_intervals(intervals: Sequence[Interval]) -> list[Interval]:
    """Union of intervals, sorted, touching ones joined."""
    merged: list[list[float]] = []
    for a, b in sorted((float(a), float(b)) for a, b in intervals if b > a):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def complement(covered: Sequence[Interval], t0: float, t1: float) -> list[Interval]:
    """Parts of ``[t0, t1]`` not in ``covered`` (which must be merged and sorted)."""
    out: list[Interval] = []
    cursor = t0
    for a, b in covered:
        if b <= cursor:
            continue
        if a > cursor:
            out.append((cursor, min(a, t1)))
        cursor = max(cursor, b)
        if cursor >= t1:
            break
    if cursor < t1:
        out.append((cursor, t1))
    return [(a, b) for a, b in out if b > a]


def usable_pairs(t: np.ndarray, threshold_s: float, breaks: Sequence[Interval] = ()) -> np.ndarray:
    """Boolean mask over the ``len(t) - 1`` consecutive pairs: short enough and not across a disconnect."""
    if len(t) < 2:
        return np.zeros(0, dtype=bool)
    dt = np.diff(t)
    ok = (dt > 0) & (dt <= threshold_s)
    for a, b in breaks:
        ok &= ~((t[:-1] < b) & (t[1:] > a))
    return ok


def spacing_gaps(t: np.ndarray, usable: np.ndarray, breaks: Sequence[Interval] = ()) -> list[Interval]:
    """Every stretch between samples that is not a usable pair, plus the explicit disconnects."""
    idx = np.flatnonzero(~usable)
    found = [(float(t[i]), float(t[i + 1])) for i in idx]
    return merge_intervals(found + list(breaks))


@dataclass
class Integral:
    """Energy of the covered part of a window and what covered it."""

    joules: float
    covered: list[Interval] = field(default_factory=list)
    peak_w: float | None = None

    @property
    def covered_s(self) -> float:
        return sum(b - a for a, b in self.covered)


def _clip(
    t: np.ndarray, usable: np.ndarray, t0: float, t1: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of usable pairs overlapping the window and their clipped [lo, hi]."""
    if len(t) < 2 or t1 <= t0:
        empty = np.zeros(0)
        return empty.astype(int), empty, empty
    lo = np.maximum(t[:-1], t0)
    hi = np.minimum(t[1:], t1)
    sel = np.flatnonzero(usable & (hi > lo))
    return sel, lo[sel], hi[sel]


def integrate_power(t: np.ndarray, power_w: np.ndarray, t0: float, t1: float, usable: np.ndarray) -> Integral:
    """Trapezoid-rule energy (J) of ``power_w`` sampled at ``t`` over ``[t0, t1]``, usable pairs only.

    Pairs with a missing (NaN) power at either end are skipped like gaps.
    """
    finite = np.isfinite(power_w)
    ok = usable & finite[:-1] & finite[1:] if len(t) >= 2 else usable
    sel, lo, hi = _clip(t, ok, t0, t1)
    if len(sel) == 0:
        return Integral(0.0, [], None)
    ta, tb = t[sel], t[sel + 1]
    pa, pb = power_w[sel], power_w[sel + 1]
    slope = (pb - pa) / (tb - ta)
    p_lo = pa + slope * (lo - ta)
    p_hi = pa + slope * (hi - ta)
    joules = float(np.sum((p_lo + p_hi) / 2.0 * (hi - lo)))
    peak = float(max(np.max(p_lo), np.max(p_hi)))
    return Integral(joules, merge_intervals(list(zip(lo.tolist(), hi.tolist(), strict=True))), peak)


def integrate_counter(
    t: np.ndarray,
    cumulative_j: np.ndarray,
    t0: float,
    t1: float,
    usable: np.ndarray,
    exact: np.ndarray | None = None,
) -> Integral:
    """Energy (J) from a cumulative counter read at ``t``: the sum of deltas of usable pairs in the window.

    A pair cut by a window edge contributes the fraction of its delta that its overlap is of its length
    (constant power within one reading interval). A pair too long to be usable (the polling thread was starved,
    say) still holds the exact energy of its span, so pairs marked in ``exact`` count when the window contains
    them whole. ``cumulative_j`` must already be unwrapped.
    """
    finite = np.isfinite(cumulative_j)
    both = finite[:-1] & finite[1:] if len(t) >= 2 else np.zeros(0, dtype=bool)
    ok = usable & both
    if exact is not None and len(t) >= 2:
        ok = ok | (exact & both & (t[:-1] >= t0) & (t[1:] <= t1))
    sel, lo, hi = _clip(t, ok, t0, t1)
    if len(sel) == 0:
        return Integral(0.0, [], None)
    dt = t[sel + 1] - t[sel]
    delta = cumulative_j[sel + 1] - cumulative_j[sel]
    joules = float(np.sum(delta * (hi - lo) / dt))
    peak = float(np.max(delta / dt))
    return Integral(joules, merge_intervals(list(zip(lo.tolist(), hi.tolist(), strict=True))), peak)


def unwrap_counter(raw: Sequence[float], max_range: float) -> np.ndarray:
    """Undo wrap-arounds of a counter that restarts at 0 after ``max_range`` (RAPL's ``max_energy_range_uj``).

    A reading lower than the previous one means exactly one wrap happened in between (the poll interval is far
    shorter than the time to wrap, which is minutes to hours).
    """
    values = np.asarray(raw, dtype=float)
    if len(values) < 2:
        return values.copy()
    steps = np.diff(values)
    steps = np.where(steps < 0, steps + max_range, steps)
    return np.concatenate([[values[0]], values[0] + np.cumsum(steps)])


def counter_step(previous_raw: float, raw: float, max_range: float) -> float:
    """Increase of a wrapping counter between two readings (at most one wrap, see :func:`unwrap_counter`)."""
    step = raw - previous_raw
    return step + max_range if step < 0 else step
