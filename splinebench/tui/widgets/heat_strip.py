"""The layers x epochs heat strip of per-layer partition distances (paper Sec. 3.2), one column per epoch.

Each cell is the distance between a layer's partition codes after an epoch and after the one before; the strip
grows a column every epoch. Drawn with the Line API (only the rows on screen are built), so 100 layers cost no
more than the 20 that fit. When there are more epochs than columns, "fit" mode bins them (each column shows
the largest distance of its epochs, so a late change is never averaged away) and "recent" mode shows the
newest epochs one per column; ``z`` switches. The early-bird epoch is marked in red on the axis and down its
column.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from splinebench.tui.colours import EB_MARK, legend_cells, level_background, levels
from splinebench.tui.feed import PartitionSeries
from splinebench.tui.panel import Panel, PanelContext

LABEL_MAX = 20


@dataclass(frozen=True)
class Column:
    """One screen column: the epochs it covers (one, or a bin of several)."""

    epochs: tuple[int, ...]

    @property
    def label(self) -> str:
        return (
            f"epoch {self.epochs[0]}"
            if len(self.epochs) == 1
            else f"epochs {self.epochs[0]}-{self.epochs[-1]}"
        )


def layout_columns(epochs: list[int], width: int, mode: str) -> tuple[list[Column], int]:
    """Columns for ``epochs`` in ``width`` cells, and how many cells each column takes (1-6)."""
    if not epochs or width <= 0:
        return [], 1
    if len(epochs) <= width:
        return [Column((e,)) for e in epochs], max(1, min(6, width // len(epochs)))
    if mode == "recent":
        return [Column((e,)) for e in epochs[-width:]], 1
    size = math.ceil(len(epochs) / width)
    return [Column(tuple(epochs[i : i + size])) for i in range(0, len(epochs), size)], 1


class LayerHeatStrip(Widget, can_focus=True):
    """Per-layer partition distance, layers down, epochs across; the layer under the cursor is named below."""

    BINDINGS = [
        Binding("up", "move(-1, 0)", "Layer up", show=False),
        Binding("down", "move(1, 0)", "Layer down", show=False),
        Binding("left", "move(0, -1)", "Earlier", show=False),
        Binding("right", "move(0, 1)", "Later", show=False),
        Binding("pageup", "move(-10, 0)", show=False),
        Binding("pagedown", "move(10, 0)", show=False),
        Binding("home", "jump(0)", show=False),
        Binding("end", "jump(1)", show=False),
        Binding("z", "toggle_window", "Fit"),
    ]

    mode: reactive[str] = reactive("fit")

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.series = PartitionSeries()
        self.eb_epoch: int | None = None
        self.layer_filter = ""
        self.cursor_row = 0  # index into the visible (filtered) layers
        self.cursor_col: int | None = None  # None: follow the newest column
        self.top = 0
        self._visible: list[int] = []
        self._epochs: list[int] = []
        self._vmax = 1e-6
        self._grid = np.empty((0, 0))  # layers x epochs (NaN: not recorded), rebuilt by show()
        self._lines: dict[int, Strip] = {}
        self._frame: _Frame | None = None  # what every line of one drawing shares; dropped with the lines

    # -- data ------------------------------------------------------------------------------------------------
    def show(self, series: PartitionSeries, eb_epoch: int | None) -> None:
        self.series = series
        self.eb_epoch = eb_epoch
        self._epochs = series.epochs
        self._grid = np.full((len(series.layer_names), len(self._epochs)), np.nan)
        for column, epoch in enumerate(self._epochs):
            values = series.per_epoch[epoch]
            self._grid[: len(values), column] = values
        # the top of the scale: the largest distance recorded (colours.scale_max's floor when there is none)
        self._vmax = float(np.fmax.reduce(self._grid, axis=None, initial=1e-6))
        self._filter_layers()
        self._invalidate()

    def set_filter(self, text: str) -> None:
        self.layer_filter = text.strip().lower()
        self.cursor_row = 0
        self.top = 0
        self._filter_layers()
        self._invalidate()

    def _filter_layers(self) -> None:
        names = self.series.layer_names
        self._visible = [i for i, n in enumerate(names) if self.layer_filter in n.lower()]
        self.cursor_row = min(self.cursor_row, max(0, len(self._visible) - 1))

    def _invalidate(self) -> None:
        self._lines.clear()
        self._frame = None
        self.refresh()

    def watch_mode(self) -> None:
        self.cursor_col = None
        self._invalidate()

    def on_resize(self) -> None:
        self._invalidate()

    def on_focus(self) -> None:
        self._invalidate()

    def on_blur(self) -> None:
        self._invalidate()

    # -- geometry --------------------------------------------------------------------------------------------
    @property
    def label_width(self) -> int:
        longest = max((len(self.series.layer_names[i]) for i in self._visible), default=5)
        return min(LABEL_MAX, max(5, longest)) + 1

    def _columns(self) -> tuple[list[Column], int]:
        return layout_columns(self._epochs, self.size.width - self.label_width, self.mode)

    def _rows_height(self) -> int:
        return max(1, self.size.height - 2)

    def _cursor_column(self, columns: list[Column]) -> int:
        if not columns:
            return 0
        if self.cursor_col is None:
            return len(columns) - 1
        return max(0, min(self.cursor_col, len(columns) - 1))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._visible) + 2

    # -- actions ---------------------------------------------------------------------------------------------
    def action_move(self, rows: int, cols: int) -> None:
        if rows:
            self.cursor_row = max(0, min(len(self._visible) - 1, self.cursor_row + rows))
            height = self._rows_height()
            if self.cursor_row < self.top:
                self.top = self.cursor_row
            elif self.cursor_row >= self.top + height:
                self.top = self.cursor_row - height + 1
        if cols:
            columns, _ = self._columns()
            current = self._cursor_column(columns)
            target = max(0, min(len(columns) - 1, current + cols))
            self.cursor_col = None if target == len(columns) - 1 else target
        self._invalidate()

    def action_jump(self, end: int) -> None:
        columns, _ = self._columns()
        self.cursor_col = None if end else 0
        if not columns:
            self.cursor_col = None
        self._invalidate()

    def action_toggle_window(self) -> None:
        self.mode = "recent" if self.mode == "fit" else "fit"

    # -- what the cursor points at ---------------------------------------------------------------------------
    def cursor_text(self) -> str:
        if not self._visible or not self._epochs:
            return "no per-layer distances yet (the first arrive after epoch 1)"
        columns, _ = self._columns()
        column = columns[self._cursor_column(columns)]
        index = self._visible[self.cursor_row]
        name = self.series.layer_names[index]
        values = [self._value(index, e) for e in column.epochs]
        finite = [v for v in values if not math.isnan(v)]
        value = f"{max(finite):.4f}" if finite else "n/a"
        agg = " (max)" if len(column.epochs) > 1 else ""
        return (
            f"{name} @ {column.label}: {value}{agg}   layer {index + 1}/{len(self.series.layer_names)}"
            f"   scale 0-{self._vmax:.3g}"
        )

    def _value(self, layer: int, epoch: int) -> float:
        values = self.series.per_epoch.get(epoch, [])
        return values[layer] if layer < len(values) else float("nan")

    # -- drawing ---------------------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        cached = self._lines.get(y)
        if cached is None:
            cached = self._build_line(y).crop_extend(0, self.size.width, self._shared().base)
            self._lines[y] = cached
        return cached

    def _shared(self) -> _Frame:
        """The columns, their colour levels and the label width, worked out once per drawing rather than per line:
        a new epoch redraws every row, and per cell in Python that cost ~5% of a core at 1 epoch/s."""
        if self._frame is None:
            columns, cell = self._columns()
            starts = np.cumsum([0, *(len(col.epochs) for col in columns[:-1])], dtype=np.intp)
            grid = self._grid
            if columns and grid.shape[0]:
                # the epochs of a column are consecutive in self._epochs; "recent" starts part-way along
                first = self._epochs.index(columns[0].epochs[0])
                with np.errstate(invalid="ignore"):
                    column_max = np.fmax.reduceat(grid[:, first:], starts, axis=1)  # NaN only if all are NaN
                column_levels = levels(column_max, self._vmax)
            else:
                column_levels = np.empty((grid.shape[0], 0), dtype=np.int64)
            self._frame = _Frame(
                label_width=self.label_width,
                columns=columns,
                cell=cell,
                cursor_col=self._cursor_column(columns),
                eb_col=next((c for c, col in enumerate(columns) if self.eb_epoch in col.epochs), None),
                levels=column_levels,
                base=self.rich_style,
            )
        return self._frame

    def _build_line(self, y: int) -> Strip:
        width = self.size.width
        if width <= 0:
            return Strip.blank(0)
        frame = self._shared()
        if y == 0:
            return self._axis_line(frame.label_width, frame.columns, frame.cell, frame.eb_col)
        if y == self.size.height - 1:
            return self._status_line(width)
        row = self.top + y - 1
        if row >= len(self._visible):
            return Strip.blank(width)
        index = self._visible[row]
        name = self.series.layer_names[index]
        is_cursor_row = row == self.cursor_row
        label_style = (
            Style(reverse=True, bold=True)
            if is_cursor_row and self.has_focus
            else (Style(bold=True) if is_cursor_row else Style(dim=True))
        )
        label = _fit_left(name, frame.label_width - 1).ljust(frame.label_width - 1) + " "
        marks = {}  # column -> (text, extra style) of the one-column marks drawn on top of the colour
        if frame.eb_col is not None:
            marks[frame.eb_col] = ("┃", Style(color=EB_MARK, bold=True))
        if is_cursor_row and frame.columns:
            marks[frame.cursor_col] = ("◆", Style(color="white", bold=True))
        return Strip([Segment(label, label_style), *_cells(frame.levels[index], frame.cell, marks)])

    def _axis_line(self, label_width: int, columns: list[Column], cell: int, eb_col: int | None) -> Strip:
        head = "layer".ljust(label_width)
        axis = [" "] * (len(columns) * cell)
        if columns:
            first, last = str(columns[0].epochs[0]), str(columns[-1].epochs[-1])
            axis[: len(first)] = first
            if len(axis) > len(first) + len(last) + 1:
                axis[len(axis) - len(last) :] = last
        segments = [Segment(head, Style(dim=True)), Segment("".join(axis), Style(dim=True))]
        if eb_col is not None:
            at = eb_col * cell + cell // 2
            text = "".join(axis)
            marker = "▼EB" if at + 3 <= len(text) else "EB▼"
            start = at if marker.startswith("▼") else max(0, at - 2)
            segments = [
                Segment(head, Style(dim=True)),
                Segment(text[:start], Style(dim=True)),
                Segment(marker, Style(color=EB_MARK, bold=True)),
                Segment(text[start + 3 :], Style(dim=True)),
            ]
        return Strip(segments)

    def _status_line(self, width: int) -> Strip:
        text = self.cursor_text()
        legend = [Segment("still", Style(dim=True)), *[Segment(" ", s) for s in legend_cells()],
                  Segment("moving", Style(dim=True))]
        room = width - sum(len(s.text) for s in legend) - 1
        return Strip([Segment(_fit(text, room).ljust(room) + " ", Style(bold=True)), *legend])


@dataclass
class _Frame:
    label_width: int
    columns: list[Column]
    cell: int
    cursor_col: int
    eb_col: int | None
    levels: np.ndarray  # layers x columns: palette index of the column's largest distance, -1 for none
    base: Style


def _cells(row_levels: np.ndarray, cell: int, marks: dict[int, tuple[str, Style]]) -> list[Segment]:
    """One row's coloured cells, ``cell`` characters per column: a segment per run of one colour, and one per
    marked column (the cursor, the EB epoch) with its mark centred."""
    count = len(row_levels)
    cuts = {0, count, *(int(c) + 1 for c in np.flatnonzero(np.diff(row_levels)))}
    for column in marks:
        cuts.update((column, column + 1))
    edges = sorted(c for c in cuts if 0 <= c <= count)
    segments = []
    for start, end in zip(edges, edges[1:], strict=False):
        style = level_background(int(row_levels[start]))
        if start in marks:
            text, extra = marks[start]
            segments.append(Segment(text.center(cell), style + extra))
        else:
            segments.append(Segment(" " * (cell * (end - start)), style))
    return segments


def _fit_left(text: str, width: int) -> str:
    """Layer names share their prefixes (``features.block3.act``): keep the end, which tells them apart."""
    if width <= 0:
        return ""
    return text if len(text) <= width else "…" + text[len(text) - width + 1 :]


def _fit(text: str, width: int) -> str:
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def _draw_layers(tab: Widget, ctx: PanelContext) -> None:
    tab.query_one(LayerHeatStrip).show(ctx.series, ctx.eb)


LAYERS_PANEL = Panel("layers", "Layers", frozenset({"layers", "early_birds", "phases"}),
                     compose=lambda: [LayerHeatStrip(id="heat-strip")], draw=_draw_layers)
