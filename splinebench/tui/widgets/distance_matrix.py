"""The epoch x epoch partition distance matrix (paper Fig. 5) as a coloured grid.

Cell (i, j) is the distance between the partition codes after epochs i and j (0 = initialisation). Drawn with
half-block characters, two matrix rows per text row, so a square of N epochs needs N columns and N/2 lines; a
matrix larger than the panel is binned (each pixel the mean of its cells), a small one is scaled up. The
early-bird epoch is marked on both axes.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from splinebench.tui.colours import EB_MARK, MISSING, VIRIDIS, legend_cells, levels, scale_max
from splinebench.tui.feed import PartitionSeries
from splinebench.tui.panel import Panel, PanelContext

AXIS = 4  # columns left of the grid for the row axis


def resample_array(matrix: dict[tuple[int, int], float], n: int, pixels: int) -> np.ndarray:
    """An n x n matrix drawn on ``pixels`` x ``pixels``: bins of cells averaged (missing cells left out), or
    cells repeated. numpy because this runs on every new epoch for ~10^4 pixels at 200x60."""
    if n <= 0 or pixels <= 0:
        return np.full((max(pixels, 0), max(pixels, 0)), np.nan)
    dense = np.full((n, n), np.nan)
    if matrix:
        keys = np.array(list(matrix), dtype=np.int64).reshape(-1, 2)
        values = np.fromiter(matrix.values(), dtype=float, count=len(matrix))
        inside = ((keys >= 0) & (keys < n)).all(axis=1)
        dense[keys[inside, 0], keys[inside, 1]] = values[inside]
    finite = ~np.isnan(dense)
    # pixel p covers cells [p*n//pixels, max(that + 1, (p+1)*n//pixels)); reduceat sums exactly those runs,
    # and a repeated start (a matrix scaled up) gives that one cell
    starts = np.arange(pixels) * n // pixels
    totals = np.add.reduceat(np.add.reduceat(np.where(finite, dense, 0.0), starts, axis=0), starts, axis=1)
    counts = np.add.reduceat(np.add.reduceat(finite.astype(np.int64), starts, axis=0), starts, axis=1)
    return np.where(counts > 0, totals / np.maximum(counts, 1), np.nan)


class DistanceMatrixGrid(Widget):
    """Fig. 5: how far the partition after each epoch is from the partition after every other epoch."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.series = PartitionSeries()
        self.eb_epoch: int | None = None
        self.phase = ""
        self._lines: list[Strip] | None = None

    def show(self, series: PartitionSeries, eb_epoch: int | None, phase: str) -> None:
        self.series, self.eb_epoch, self.phase = series, eb_epoch, phase
        self._lines = None
        self.refresh()

    def on_resize(self) -> None:
        self._lines = None
        self.refresh()

    def render_line(self, y: int) -> Strip:
        if self._lines is None:
            self._lines = self._build()
        if y < len(self._lines):
            return self._lines[y].crop_extend(0, self.size.width, self.rich_style)
        return Strip.blank(self.size.width, self.rich_style)

    def _build(self) -> list[Strip]:
        width, height = self.size.width, self.size.height
        n = self.series.matrix_size()
        title = f"epoch x epoch distance, {self.phase or '-'}: {max(0, n)} snapshots (0 = init)"
        if self.series.matrix_subsampled:
            title += ", codes subsampled"
        lines = [Strip([Segment(title, Style(bold=True))])]
        if n <= 0:
            lines.append(Strip([Segment("no matrix rows yet (one arrives per epoch)", Style(dim=True))]))
            return lines
        rows_px = max(2, (height - 3) * 2)
        cols_px = max(2, width - AXIS - 1)
        side = min(rows_px, cols_px)
        pixels = n if n >= side else (side // n) * n
        pixels = min(pixels, side)
        grid = resample_array(self.series.matrix, n, pixels)
        vmax = scale_max(grid[~np.isnan(grid)].tolist())
        colour = levels(grid, vmax).tolist()
        eb_px = None
        if self.eb_epoch is not None and self.eb_epoch < n:
            eb_px = min(pixels - 1, self.eb_epoch * pixels // n + (pixels // n) // 2)
        for ty in range(math.ceil(pixels / 2)):
            top, bottom = 2 * ty, 2 * ty + 1
            if eb_px is not None and eb_px in (top, bottom):
                axis = Segment("EB▶".rjust(AXIS - 1) + " ", Style(color=EB_MARK, bold=True))
            elif ty == 0:
                axis = Segment("0".rjust(AXIS - 1) + " ", Style(dim=True))
            elif bottom >= pixels - 1:
                axis = Segment(str(n - 1).rjust(AXIS - 1) + " ", Style(dim=True))
            else:
                axis = Segment(" " * AXIS)
            segments = [axis]
            has_lower = bottom < pixels
            uppers, lowers = colour[top], colour[bottom] if has_lower else [-1] * pixels
            segments += [Segment("▀", _half_style(up, low, has_lower)) for up, low in zip(uppers, lowers,
                                                                                       strict=True)]
            lines.append(Strip(Segment.simplify(segments)))
        under = [" "] * pixels
        if eb_px is not None:
            under[eb_px] = "▲"
        marker = Strip([Segment(" " * AXIS), Segment("".join(under), Style(color=EB_MARK, bold=True))])
        legend = [
            Segment(" " * AXIS + "still 0 "),
            *[Segment(" ", s) for s in legend_cells()],
            Segment(f" {vmax:.3g} changing"),
        ]
        if eb_px is not None:
            legend.append(Segment(f"   EB at epoch {self.eb_epoch}", Style(color=EB_MARK, bold=True)))
        lines += [marker, Strip(legend)]
        return lines


@functools.cache
def _half_style(up: int, low: int, has_lower: bool) -> Style:
    """The upper pixel's colour level on the lower one's (-1: no value); one Style per pair of levels (a few
    hundred), not one per pixel, since Style() parses its colours."""
    fg = MISSING if up < 0 else VIRIDIS[up]
    bg = (MISSING if low < 0 else VIRIDIS[low]) if has_lower else None
    return Style(color=fg, bgcolor=bg)


def _draw_matrix(tab: Widget, ctx: PanelContext) -> None:
    tab.query_one(DistanceMatrixGrid).show(ctx.series, ctx.eb, ctx.phase)


MATRIX_PANEL = Panel("matrix", "Matrix", frozenset({"matrix", "early_birds", "phases"}),
                     compose=lambda: [DistanceMatrixGrid(id="matrix-grid")], draw=_draw_matrix)
