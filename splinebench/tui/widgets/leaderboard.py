"""The leaderboard: the paper's Table 2 layout for one run, built by
``splinebench.report.tables.result_grid``.

Rows are the dense model and each pruner; per ratio, the retrain accuracy, the total training MACs (fvcore)
and, when the run had a meter, the energy; when it timed inference, the measured speed-up against the dense model.
The best of each column (highest accuracy, lowest cost) is highlighted.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget
from textual.widgets import DataTable, Static

from splinebench.report.tables import (
    FLOP_UNIT,
    ResultGrid,
    format_energy,
    format_macs,
    format_speedup,
    partial_note,
    result_grid,
)
from splinebench.tui.panel import Panel, PanelContext, update_if_changed

BEST = "bold black on green"


def leaderboard_rows(grid: ResultGrid) -> tuple[list[str], list[list[Text]]]:
    """Column titles and cells (as styled text) for the grid."""
    columns = ["pruner", "ticket"]
    columns += [f"acc p={q:.0%}" for q in grid.ratios]
    columns += [f"MACs p={q:.0%}" for q in grid.ratios]
    if grid.has_energy:
        columns += [f"energy p={q:.0%}" for q in grid.ratios]
    if grid.has_speedup:
        columns += [f"speed-up p={q:.0%}" for q in grid.ratios]
    best_acc = {q: grid.best(q, "accuracy") for q in grid.ratios}
    best_macs = {q: grid.best(q, "total_training_flops", highest=False) for q in grid.ratios}
    best_energy = {q: grid.best(q, "total_energy_j", highest=False) for q in grid.ratios}
    rows: list[list[Text]] = []
    if grid.dense is not None:
        d = grid.dense
        eb = f"EB@{grid.eb_epoch}" if grid.eb_epoch is not None else "no EB"
        row = [Text("dense (unpruned)", style="bold"), Text(eb)]
        row += [Text(f"{100 * d['accuracy']:.2f}") for _ in grid.ratios]
        row += [Text(format_macs(d["total_training_flops"])) for _ in grid.ratios]
        if grid.has_energy:
            row += [Text(format_energy(d.get("total_energy_j")) + partial_note(d)) for _ in grid.ratios]
        if grid.has_speedup:
            row += [Text(format_speedup(d)) for _ in grid.ratios]
        rows.append(row)
    for label in grid.rows:
        accs, macs, energy, tickets = [], [], [], set()
        for q in grid.ratios:
            cell = grid.cells.get((label, q))
            if cell is None:
                accs.append(Text("-"))
                macs.append(Text("-"))
                energy.append(Text("-"))
                continue
            if cell["status"] != "ok":
                accs.append(Text(f"failed ({cell.get('stage')})", style="red"))
                macs.append(Text("-"))
                energy.append(Text("-"))
                continue
            ticket = cell.get("ticket") or ""
            if ticket == "eb" and cell.get("eb_epoch") is not None:
                ticket = f"eb@{cell['eb_epoch']}"
            tickets.add(ticket)
            accs.append(Text(f"{100 * cell['accuracy']:.2f}", style=BEST if best_acc[q] == label else ""))
            macs.append(
                Text(format_macs(cell["total_training_flops"]), style=BEST if best_macs[q] == label else "")
            )
            # a window the meter covered too little says so here as in every report table
            energy.append(Text(format_energy(cell.get("total_energy_j")) + partial_note(cell),
                               style=BEST if best_energy[q] == label else ""))
        row = [Text(label, style="bold"), Text(", ".join(sorted(tickets)) or "-"), *accs, *macs]
        if grid.has_energy:
            row += energy
        if grid.has_speedup:
            row += [Text(format_speedup(grid.cells.get((label, q)))) for q in grid.ratios]
        rows.append(row)
    return columns, rows


def caption(grid: ResultGrid) -> str:
    energy = ", energy" if grid.has_energy else ""
    speed = ", measured speed-up vs dense" if grid.has_speedup else ""
    return (
        f"retrain accuracy (%), total training {FLOP_UNIT}{energy}{speed} per pruning ratio p; "
        "best of each column highlighted"
    )


class Leaderboard(DataTable):
    """Pruner x ratio -> accuracy, total training MACs (fvcore), energy; best per column highlighted."""

    _shown: tuple | None = None

    def show(self, grid: ResultGrid) -> None:
        columns, rows = leaderboard_rows(grid)
        if self._shown == (columns, rows):  # the run row changes every epoch, the results rarely: keep the table
            return
        self._shown = (columns, rows)
        self.clear(columns=True)
        self.add_columns(*columns)
        for row in rows:
            self.add_row(*row, key=row[0].plain)


def _draw_leaderboard(tab: Widget, ctx: PanelContext) -> None:
    if ctx.reader is None or ctx.feed.run is None:
        return
    grid = result_grid(ctx.reader, ctx.feed.run.id)
    update_if_changed(tab.query_one("#leaderboard-caption", Static), caption(grid))
    tab.query_one(Leaderboard).show(grid)


LEADERBOARD_PANEL = Panel(
    "leaderboard", "Leaderboard", frozenset({"results", "run"}),
    compose=lambda: [Static("", id="leaderboard-caption"),
                     Leaderboard(id="leaderboard-table", zebra_stripes=True, cursor_type="row")],
    draw=_draw_leaderboard,
)
