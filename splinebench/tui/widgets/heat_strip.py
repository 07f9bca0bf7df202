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

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from splinebench.tui.colours import EB_MARK, background, legend_cells, scale_max
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
        self._epoch_max: dict[int, tuple[int, float]] = {}
        self._vmax = 1e-6
        self._lines: dict[int, Strip] = {}

    # -- data ------------------------------------------------------------------------------------------------
    def show(self, series: PartitionSeries, eb_epoch: int | None) -> None:
        self.series = series
        self.eb_epoch = eb_epoch
        self._epochs = series.epochs
        for epoch in self._epochs:
            values = series.per_epoch[epoch]
            cached = self._epoch_max.get(epoch)
            if cached is None or cached[0] != len(values):
                self._epoch_max[epoch] = (len(values), scale_max(values))
        self._vmax = max([1e-6, *(self._epoch_max[e][1] for e in self._epochs)])
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
            cached = self._build_line(y).crop_extend(0, self.size.width, self.rich_style)
            self._lines[y] = cached
        return cached

    def _build_line(self, y: int) -> Strip:
        width = self.size.width
        if width <= 0:
            return Strip.blank(0)
        label_width = self.label_width
        columns, cell = self._columns()
        cursor_col = self._cursor_column(columns)
        eb_col = next((c for c, col in enumerate(columns) if self.eb_epoch in col.epochs), None)
        if y == 0:
            return self._axis_line(label_width, columns, cell, eb_col)
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
        label = _fit_left(name, label_width - 1).ljust(label_width - 1) + " "
        segments = [Segment(label, label_style)]
        for c, column in enumerate(columns):
            values = [self._value(index, e) for e in column.epochs]
            finite = [v for v in values if not math.isnan(v)]
            style = background(max(finite) if finite else float("nan"), self._vmax)
            text = " " * cell
            if is_cursor_row and c == cursor_col:
                style = style + Style(color="white", bold=True)
                text = "◆".center(cell)
            elif c == eb_col:
                style = style + Style(color=EB_MARK, bold=True)
                text = "┃".center(cell)
            segments.append(Segment(text, style))
        return Strip(Segment.simplify(segments))

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
