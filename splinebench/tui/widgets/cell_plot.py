"""A plotext plot drawn from plotext's cell matrix instead of its ANSI text.

textual-plotext's ``PlotextPlot.render`` asks plotext for the whole figure as one ANSI string (built by string
concatenation, cell by cell), parses it back with ``Text.from_ansi`` and lets Textual turn the text into strips.
At 200x60 with two plots on the Curves panel that came to ~60-80 ms a redraw on the development machine, more than
the 100 ms commit-to-screen budget leaves once the machine is busy training. plotext already holds the figure as
four cell matrices (character, foreground, style, background); reading them into Textual strips directly skips
the ANSI round trip and Textual's text layout and gives the same cells (tests/tui/test_cell_plot.py compares both
paths cell by cell, so a plotext change that breaks this shows up there).

Subclasses draw with ``self.plt`` as usual and call :meth:`replot` instead of ``refresh``; the strips are rebuilt
only when the data, the size or the theme changed.
"""

from __future__ import annotations

from typing import Any

import plotext._utility as plotext_utility
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual_plotext import PlotextPlot

_STYLES: dict[tuple[Any, Any, Any], Style] = {}


def _hashable(colour: Any) -> Any:
    return tuple(colour) if isinstance(colour, list) else colour  # plotext keeps RGB colours as lists


def _cell_style(foreground: Any, style: Any, background: Any) -> Style:
    """The Rich style of a plotext colour triple, as plotext's own ANSI codes say (cached: a plot uses a few)."""
    key = (_hashable(foreground), _hashable(style), _hashable(background))
    cached = _STYLES.get(key)
    if cached is None:
        ansi = plotext_utility.colors_to_ansi(foreground, style, background)
        spans = Text.from_ansi(ansi + "x").spans
        cached = Style.combine(span.style for span in spans if isinstance(span.style, Style)) if spans else Style()
        _STYLES[key] = cached
    return cached


def matrix_strips(matrix: Any, base: Style | None = None) -> list[Strip]:
    """One strip per row of a plotext ``matrix_class``, top row first (plotext stores the bottom row first); a
    segment per run of cells with the same colours, on ``base`` (the widget's own style; what
    ``Strip.apply_style`` would add, once per colour triple instead of once per segment)."""
    styles: dict[tuple, Style] = {}

    def cell_style(colours: tuple) -> Style:
        style = styles.get(colours)
        if style is None:
            style = styles[colours] = _cell_style(*colours) if base is None else base + _cell_style(*colours)
        return style

    strips = []
    for row in reversed(range(matrix.rows)):
        markers = matrix.marker[row]
        colours = list(zip(matrix.fullground[row], matrix.style[row], matrix.background[row], strict=True))
        segments = []
        start = 0
        for col in range(1, matrix.cols + 1):
            if col == matrix.cols or colours[col] != colours[start]:
                segments.append(Segment("".join(markers[start:col]), cell_style(colours[start])))
                start = col
        strips.append(Strip(segments, matrix.cols))
    return strips


class CellPlot(PlotextPlot):
    """``PlotextPlot`` with the cell-matrix renderer (Textual's line API)."""

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None,
                 disabled: bool = False) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._version = 0
        self._strips_key: tuple | None = None
        self._strips: list[Strip] = []

    def replot(self) -> None:
        """The figure in ``self.plt`` changed: draw it again on the next frame."""
        self._version += 1
        self.refresh()

    def build_strips(self, base: Style | None = None) -> list[Strip]:
        """plotext's ``build()`` without its ANSI canvas: size and theme as ``PlotextPlot.render`` sets them."""
        width, height = self.size
        plot = self.plt
        plot.plotsize(width, height)
        plot._set_size(width, height)  # the same belt-and-braces resize PlotextPlot.render does
        plot.theme(self._get_plotext_theme_name(self.app.theme))
        plot._set_sizes()
        plot._build_matrix()
        return matrix_strips(plot.monitor.matrix, base)

    def render_line(self, y: int) -> Strip:
        base = self.visual_style.rich_style
        key = (self._version, self.size, self.app.theme, self.theme, base)
        if key != self._strips_key:
            width = self.size.width
            self._strips = [strip.crop_extend(0, width, base) for strip in self.build_strips(base)]
            self._strips_key = key
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(self.size.width, base)
