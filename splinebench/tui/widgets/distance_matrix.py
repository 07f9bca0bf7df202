"""The epoch x epoch partition distance matrix (paper Fig. 5) as a coloured grid.

Cell (i, j) is the distance between the partition codes after epochs i and j (0 = initialisation). Drawn with
half-block characters, two matrix rows per text row, so a square of N epochs needs N columns and N/2 lines; a
matrix larger than the panel is binned (each pixel the mean of its cells), a small one is scaled up. The
early-bird epoch is marked on both axes.
"""

from __future__ import annotations

import math

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from splinebench.tui.colours import EB_MARK, MISSING, VIRIDIS, legend_cells, level, scale_max
from splinebench.tui.feed import PartitionSeries
from splinebench.tui.panel import Panel, PanelContext

AXIS = 4  # columns left of the grid for the row axis


def resample(matrix: dict[tuple[int, int], float], n: int, pixels: int) -> list[list[float]]:
    """An n x n matrix drawn on ``pixels`` x ``pixels``: bins of cells averaged, or cells repeated."""
    grid = [[float("nan")] * pixels for _ in range(pixels)]
    if n <= 0 or pixels <= 0:
        return grid
    for py in range(pixels):
        i0, i1 = py * n // pixels, max(py * n // pixels + 1, (py + 1) * n // pixels)
        for px in range(pixels):
            j0, j1 = px * n // pixels, max(px * n // pixels + 1, (px + 1) * n // pixels)
            cells = [matrix.get((i, j), float("nan")) for i in range(i0, i1) for j in range(j0, j1)]
            finite = [c for c in cells if not math.isnan(c)]
            grid[py][px] = sum(finite) / len(finite) if finite else float("nan")
    return grid


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
        grid = resample(self.series.matrix, n, pixels)
        vmax = scale_max([v for row in grid for v in row])
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
            for px in range(pixels):
                upper = grid[top][px]
                lower = grid[bottom][px] if bottom < pixels else float("nan")
                segments.append(Segment("▀", _half(upper, lower, vmax, bottom < pixels)))
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


def _half(upper: float, lower: float, vmax: float, has_lower: bool) -> Style:
    up, low = level(upper, vmax), level(lower, vmax)
    fg = MISSING if up is None else VIRIDIS[up]
    bg = (MISSING if low is None else VIRIDIS[low]) if has_lower else None
    return Style(color=fg, bgcolor=bg)


def _draw_matrix(tab: Widget, ctx: PanelContext) -> None:
    tab.query_one(DistanceMatrixGrid).show(ctx.series, ctx.eb, ctx.phase)


MATRIX_PANEL = Panel("matrix", "Matrix", frozenset({"matrix", "early_birds", "phases"}),
                     compose=lambda: [DistanceMatrixGrid(id="matrix-grid")], draw=_draw_matrix)
