"""Mean and spread over seeds: the "averaged over N runs" of the paper's tables, with the spread shown.

The paper reports means over five runs (Tables 1, 2) and ``mean±std`` where it shows a spread (Table 8). We use the
*sample* standard deviation (``n - 1`` in the denominator, as ``statistics.stdev``): with three seeds the population
formula would understate the spread by a fifth. One seed has no spread (``std`` is None), and a cell shows only
its mean.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Summary:
    """Mean, sample standard deviation (None for fewer than two values) and count of the values summarised."""

    mean: float
    std: float | None
    n: int

    def scaled(self, factor: float) -> Summary:
        """The same summary in other units (fractions -> percent)."""
        return Summary(self.mean * factor, None if self.std is None else self.std * factor, self.n)


def summarise(values: Iterable[float | None]) -> Summary | None:
    """Summary of the known (not None, not NaN) values; None when there is none."""
    known = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    if not known:
        return None
    std = statistics.stdev(known) if len(known) > 1 else None
    return Summary(statistics.fmean(known), std, len(known))


def format_summary(summary: Summary | None, digits: int = 2, plus_minus: str = "±") -> str:
    """``93.12`` for one value, ``93.12±0.08`` for several; ``-`` for nothing."""
    if summary is None:
        return "-"
    text = f"{summary.mean:.{digits}f}"
    if summary.std is not None:
        text += f"{plus_minus}{summary.std:.{digits}f}"
    return text
