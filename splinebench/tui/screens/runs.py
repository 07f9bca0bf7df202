"""The runs screen: every run in the store, live, with filter (``/``) and sort (``s``); Enter opens one.

Rows keep their order while runs progress (cells are updated in place, which also keeps redraws small over
SSH); the table is rebuilt only when the set or order of rows changes. Status comes from ``StoreReader``: a
run marked running whose process on this host is gone is "interrupted", and ``r`` resumes it.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from splinebench.tui.feed import RunSummary
from splinebench.tui.memory import settle_memory
from splinebench.tui.widgets.run_header import status_text

#: Most telling first: at 80 columns the status, progress, EB epoch and best accuracy fit without scrolling.
COLUMNS = ("status", "name", "progress", "EB", "best acc", "run", "model", "dataset", "pruners", "started (UTC)",
           "sweep")

#: Sort keys ``s`` cycles through: (title, key function).
SORTS = (
    ("started", lambda s: s.run.created_at),
    ("status", lambda s: (s.run.status, s.run.created_at)),
    ("name", lambda s: (s.run.name, s.run.created_at)),
    (
        "best acc",
        lambda s: (s.run.best_accuracy if s.run.best_accuracy is not None else -1.0, s.run.created_at),
    ),
    ("EB epoch", lambda s: (s.run.eb_epoch if s.run.eb_epoch is not None else 10**9, s.run.created_at)),
    ("sweep", lambda s: (s.run.sweep_id or "", s.run.created_at)),  # the trials of a sweep side by side
)


def run_cells(summary: RunSummary, marked: bool = False) -> tuple[Text | str, ...]:
    run = summary.run
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime(run.created_at))
    return (
        status_text(run.status),
        f"● {run.name}" if marked else run.name,
        summary.progress,
        str(run.eb_epoch) if run.eb_epoch is not None else "-",
        f"{100 * run.best_accuracy:.2f}" if run.best_accuracy is not None else "-",
        run.id,
        run.model,
        run.dataset,
        ", ".join(run.pruners),
        started,
        run.sweep_id or "-",
    )


def matches(summary: RunSummary, text: str) -> bool:
    if not text:
        return True
    haystack = " ".join(str(c) for c in run_cells(summary)).lower()
    return all(word in haystack for word in text.lower().split())


class RunsTable(DataTable):
    """The runs table; its Enter (open the run) is shown in the footer, where DataTable hides it, and ctrl+click
    marks the clicked run for comparing (a plain click still opens it)."""

    BINDINGS = [Binding("enter", "select_cursor", "Open", show=True)]

    class MarkClicked(Message):
        """ctrl+click on a row: the screen marks the run now under the cursor."""

    async def _on_click(self, event: events.Click) -> None:
        row = event.style.meta.get("row")
        if not event.ctrl or not isinstance(row, int) or row < 0:
            await super()._on_click(event)
            return
        event.stop()
        self.move_cursor(row=row)
        self.post_message(self.MarkClicked())


class RunsScreen(Screen[None]):
    """The list of runs."""

    BINDINGS = [
        Binding("enter", "open", "Open", show=False),  # the table's own Enter (RunsTable) is the one shown
        Binding("slash", "filter", "Filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("s", "sort", "Sort"),
        Binding("S", "reverse", "Reverse", show=False),
        # off the footer so that Enter, Compare, Help and Quit fit at 80 columns; ? and ctrl+p list them
        Binding("n", "app.launch", "New run", show=False),
        Binding("x", "stop", "Stop", show=False),
        Binding("r", "resume", "Resume", show=False),
        Binding("space", "mark", "Mark"),
        Binding("c", "compare", "Compare"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.summaries: dict[str, RunSummary] = {}
        self.filter_text = ""
        self.sort_index = 0
        self.descending = False
        self._shown: dict[str, tuple] = {}
        self._table_ready = False
        self._behind = False  # runs changed while another screen was on top (show_runs)
        self._store_message = ""
        self.marked: set[str] = set()  # runs picked with space (or ctrl+click) for the comparison screen

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="store-status")
        # Disabled while hidden, so no dialog's closing can leave focus (and the keys) in it.
        yield Input(placeholder="filter runs: words in any column (Enter or Esc to close)", id="runs-filter",
                    disabled=True)
        yield RunsTable(id="runs-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#runs-table", DataTable)
        for column in COLUMNS:
            table.add_column(column, key=column)
        table.focus()
        self._table_ready = True
        self.show_runs(self.summaries)
        self.show_store_state(self._store_message)

    def on_screen_resume(self) -> None:
        if self._behind:
            self.show_runs(self.summaries)
        self.call_after_refresh(self._settle_focus)
        # shown first, or back from a run (whose screen is now garbage) or a dialog: collect once, then freeze
        self.call_after_refresh(settle_memory)

    def _settle_focus(self) -> None:
        focused = self.focused
        if focused is None or not focused.focusable:
            self.query_one("#runs-table", DataTable).focus()

    # -- data ------------------------------------------------------------------------------------------------
    def show_store_state(self, message: str) -> None:
        self._store_message = message
        if not self._table_ready:
            return
        status = self.query_one("#store-status", Static)
        status.update(Text(message, style="bold yellow") if message else self._status_line())

    def _status_line(self) -> Text:
        counts: dict[str, int] = {}
        for s in self.summaries.values():
            counts[s.run.status] = counts.get(s.run.status, 0) + 1
        text = Text(f"{len(self.summaries)} run{'s' if len(self.summaries) != 1 else ''}")
        for status, n in sorted(counts.items()):
            text.append("  ")
            text.append_text(status_text(status))
            text.append(f" {n}")
        title, _ = SORTS[self.sort_index]
        text.append(f"   sort: {title}{' (desc)' if self.descending else ''}", style="dim")
        if self.filter_text:
            text.append(f"   filter: {self.filter_text!r}", style="italic")
        text.append(f"   store {self.app.store.path}", style="dim")  # type: ignore[attr-defined]
        return text

    def show_runs(self, summaries: dict[str, RunSummary]) -> None:
        self.summaries = summaries
        if not self._table_ready:
            return
        if self.app.screen is not self:  # is_current would say yes: the screen just below counts as visible
            # Textual repaints the screen on top wherever a screen below it changed (it may show through), so
            # updating this table under a run's screen redrew that whole screen every epoch: catch up on resume
            self._behind = True
            return
        self._behind = False
        table = self.query_one("#runs-table", DataTable)
        _, key = SORTS[self.sort_index]
        ordered = sorted(
            (s for s in summaries.values() if matches(s, self.filter_text)), key=key, reverse=self.descending
        )
        wanted = {s.run.id: run_cells(s, s.run.id in self.marked) for s in ordered}
        if list(wanted) == list(self._shown):
            for run_id, cells in wanted.items():
                old = self._shown[run_id]
                for column, new_cell, old_cell in zip(COLUMNS, cells, old, strict=False):
                    if str(new_cell) != str(old_cell) or _style(new_cell) != _style(old_cell):
                        table.update_cell(run_id, column, new_cell, update_width=True)  # grow, never cut
        else:
            selected = self.selected_run_id()
            table.clear()
            for run_id, cells in wanted.items():
                table.add_row(*cells, key=run_id)
            if selected in wanted:
                table.move_cursor(row=list(wanted).index(selected))
        self._shown = wanted
        if self.app.store.state == "ready":  # type: ignore[attr-defined]
            self.show_store_state("")

    def selected_run_id(self) -> str | None:
        table = self.query_one("#runs-table", DataTable)
        if not table.row_count:
            return None
        try:
            key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        except Exception:  # noqa: BLE001 - no valid cursor (empty or shrinking table)
            return None
        return key.value

    # -- actions ---------------------------------------------------------------------------------------------
    @on(DataTable.RowSelected, "#runs-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.app.open_run(event.row_key.value)  # type: ignore[attr-defined]

    def action_open(self) -> None:
        run_id = self.selected_run_id()
        if run_id:
            self.app.open_run(run_id)  # type: ignore[attr-defined]

    def action_filter(self) -> None:
        box = self.query_one("#runs-filter", Input)
        box.disabled = False
        box.display = True
        box.focus()

    @on(Input.Changed, "#runs-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        self.show_runs(self.summaries)

    @on(Input.Submitted, "#runs-filter")
    def _filter_done(self) -> None:
        box = self.query_one("#runs-filter", Input)
        box.display = False
        box.disabled = True
        self.query_one("#runs-table", DataTable).focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#runs-filter", Input)
        box.value = ""
        box.display = False
        box.disabled = True
        self.query_one("#runs-table", DataTable).focus()

    def action_sort(self) -> None:
        self.sort_index = (self.sort_index + 1) % len(SORTS)
        self.show_runs(self.summaries)

    def action_reverse(self) -> None:
        self.descending = not self.descending
        self.show_runs(self.summaries)

    def action_mark(self) -> None:
        """Mark or unmark the run under the cursor for comparing, and move down (as in a file manager)."""
        run_id = self.selected_run_id()
        if not run_id:
            return
        self.marked ^= {run_id}
        self.show_runs(self.summaries)
        self.query_one("#runs-table", DataTable).action_cursor_down()

    @on(RunsTable.MarkClicked)
    def _mark_clicked(self) -> None:
        self.marked ^= {run_id} if (run_id := self.selected_run_id()) else set()
        self.show_runs(self.summaries)

    def action_compare(self) -> None:
        picked = [run_id for run_id in self._shown if run_id in self.marked]
        if len(picked) < 2:
            current = self.selected_run_id()
            sweep = self.summaries[current].run.sweep_id if current in self.summaries else None
            if sweep is None:
                self.notify("mark two or more runs with space (or ctrl+click), then press c", severity="warning")
                return
            picked = [s.run.id for s in self.summaries.values() if s.run.sweep_id == sweep]  # the whole sweep
        from splinebench.tui.screens.compare import CompareScreen

        self.app.push_screen(CompareScreen(picked))

    def action_stop(self) -> None:
        run_id = self.selected_run_id()
        if run_id:
            self.app.request_stop(run_id)  # type: ignore[attr-defined]

    def action_resume(self) -> None:
        run_id = self.selected_run_id()
        if run_id:
            self.app.resume_run(run_id)  # type: ignore[attr-defined]


def _style(cell: object) -> str:
    return str(cell.style) if isinstance(cell, Text) else ""
