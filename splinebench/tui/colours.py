"""The colour scale shared by the distance heat strip and the distance matrix: one legend for both.

Viridis (perceptually uniform, readable for colour-blind users and on 256-colour terminals alike): dark blue
for distances near zero (a settled partition: "still"), yellow for the largest distance shown ("moving"). The
report's figures use the same map (``report.figures.DISTANCE_CMAP``), so screen and paper read alike.
"""

from __future__ import annotations

import math

import numpy as np
from rich.color import Color
from rich.style import Style

VIRIDIS = (
    "#440154",
    "#482878",
    "#3e4989",
    "#31688e",
    "#26828e",
    "#1f9e89",
    "#35b779",
    "#6ece58",
    "#b5de2b",
    "#fde725",
)
MISSING = "#303030"  # no value (an epoch not recorded, a matrix cell subsampled away)
EB_MARK = "#ff3b30"  # the early-bird marker, the same red on every plot

_BG = [Style(bgcolor=Color.parse(c)) for c in VIRIDIS]
_FG = [Style(color=Color.parse(c)) for c in VIRIDIS]


def level(value: float, vmax: float) -> int | None:
    """Index into the palette for ``value`` on a 0..vmax scale; None for NaN."""
    if value is None or math.isnan(value):
        return None
    if vmax <= 0:
        return 0
    return max(0, min(len(VIRIDIS) - 1, int(value / vmax * (len(VIRIDIS) - 1) + 0.5)))


def levels(grid: np.ndarray, vmax: float) -> np.ndarray:
    """:func:`level` of every value of ``grid`` at once (the same formula), -1 where there is no value: the
    distance matrix colours ~10^4 pixels per new epoch."""
    if vmax <= 0:
        return np.where(np.isnan(grid), -1, 0)
    top = len(VIRIDIS) - 1
    with np.errstate(invalid="ignore"):
        index = np.clip(np.floor(grid / vmax * top + 0.5), 0, top)
    return np.where(np.isnan(grid), -1, index).astype(np.int64)


_MISSING_BG = Style(bgcolor=MISSING)


def level_background(index: int | None) -> Style:
    """The background of a palette index (:func:`level`, or one of :func:`levels`' with -1 for no value)."""
    return _MISSING_BG if index is None or index < 0 else _BG[index]


def background(value: float, vmax: float) -> Style:
    return level_background(level(value, vmax))


def foreground(value: float, vmax: float) -> Style:
    index = level(value, vmax)
    return Style(color=MISSING) if index is None else _FG[index]


def scale_max(values: list[float], floor: float = 1e-6) -> float:
    """The top of the scale: the largest finite value shown (at least ``floor``, so all-zero data still
    draws)."""
    finite = [v for v in values if v is not None and not math.isnan(v)]
    return max([floor, *finite])


def legend_cells() -> list[Style]:
    return list(_BG)


#: plotext colour names that markup does not know by that name.
_PLOT_COLOUR_HEX = {"orange": "#ffa500", "gray": "#808080"}


def swatch(colour: str, text: str = "■") -> str:
    """Markup for a key entry in a plot's colour (plot keys sit outside the plots, off the data)."""
    return f"[{_PLOT_COLOUR_HEX.get(colour, colour)}]{text}[/]"
