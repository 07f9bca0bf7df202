"""The paper's Table 1/2 layout from the store: pruner x ratio -> retrain accuracy, total training MACs, energy,
and the measured inference speed-up against the dense model (``measure.latency``) when the run timed it.

Shared by ``splinebench runs show``, the dashboard's leaderboard and ``splinebench report``; reads the store only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from splinebench.store import StoreReader

FLOP_UNIT = "MACs (fvcore)"


def format_macs(value: float | None) -> str:
    if value is None:
        return "n/a"
    for factor, prefix in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= factor:
            return f"{value / factor:.3g}{prefix}"
    return f"{value:.3g}"


def format_energy(joules: float | None, why: str = "no meter") -> str:
    if joules is None:
        return f"n/a ({why})"
    return f"{joules / 1000:.3g} kJ" if joules >= 1000 else f"{joules:.3g} J"


def partial_note(result: dict[str, Any]) -> str:
    """" (partial: 5% covered)" for a result whose energy includes a window the meter covered too little."""
    if not result.get("energy_partial") or result.get("total_energy_j") is None:
        return ""
    coverage = result.get("energy_coverage")
    return f" (partial: {coverage:.0%} covered)" if coverage is not None else " (partial)"


def format_speedup(result: dict[str, Any] | None) -> str:
    """``1.83x ±0.05`` (median of dense/pruned latency ratios, IQR) or ``-`` when the run did not time it."""
    if not result or result.get("speedup") is None:
        return "-"
    spread = result.get("speedup_iqr")
    return f"{result['speedup']:.2f}x" + (f" ±{spread / 2:.2f}" if spread else "")


def speedup_caption(grid: ResultGrid) -> str:
    """What the speed-up column measured: batch, repeats and device, from the results themselves."""
    timed = [c for c in [grid.dense, *grid.cells.values()] if c and c.get("speedup") is not None]
    if not timed:
        return ""
    first = timed[0]
    return (f"speed-up: dense / pruned inference latency on the run's device ({grid.device}), batch "
            f"{first.get('latency_batch')}, median of {first.get('latency_repeats')} rounds ± half IQR; "
            "masked (unstructured) models do the dense work")


@dataclass
class ResultGrid:
    """Rows (pruner labels, dense first) x ratios, each cell a result row from the store."""

    run_id: str
    ratios: list[float]
    rows: list[str]
    cells: dict[tuple[str, float], dict[str, Any]] = field(default_factory=dict)
    dense: dict[str, Any] | None = None
    eb_epoch: int | None = None
    has_energy: bool = False
    has_speedup: bool = False
    device: str = "?"

    def best(self, ratio: float, key: str, highest: bool = True) -> str | None:
        values = [(c[key], r) for (r, q), c in self.cells.items() if q == ratio and c.get(key) is not None
                  and c.get("status") == "ok"]
        if not values:
            return None
        return (max(values) if highest else min(values))[1]


def result_grid(reader: StoreReader, run_id: str) -> ResultGrid:
    run = reader.run(run_id)
    results = reader.results(run.id)
    ratios = sorted({r["ratio"] for r in results if r["pruner"] != "dense" and r["ratio"] >= 0})
    rows: list[str] = []
    grid = ResultGrid(run.id, ratios, rows, eb_epoch=run.eb_epoch, device=run.device or "?")
    grid.has_speedup = any(r.get("speedup") is not None for r in results)
    for label in run.pruners:
        if label not in rows:
            rows.append(label)
    for r in results:
        if r["pruner"] == "dense":
            grid.dense = r
            continue
        if r["pruner"] not in rows:
            rows.append(r["pruner"])
        if r["ratio"] < 0:  # failed before any ratio (e.g. import)
            for ratio in ratios:
                grid.cells.setdefault((r["pruner"], ratio), r)
            continue
        grid.cells[(r["pruner"], r["ratio"])] = r
        if r.get("total_energy_j") is not None:
            grid.has_energy = True
    return grid


def rich_table(grid: ResultGrid) -> Any:
    """Table 2 of the paper: accuracy per ratio, then total training cost per ratio; best per column in bold."""
    from rich.markup import escape
    from rich.table import Table

    energy = " / energy" if grid.has_energy else ""
    table = Table(title=f"run {escape(grid.run_id)}: retrain accuracy (%) and total training {FLOP_UNIT}{energy}")
    table.add_column("pruner", style="bold", no_wrap=True)
    table.add_column("ticket", no_wrap=True)
    for ratio in grid.ratios:
        table.add_column(f"acc p={ratio:.0%}", justify="right")
    for ratio in grid.ratios:
        table.add_column(f"MACs{energy} p={ratio:.0%}", justify="right")  # the dashboard's word too
    speedups = len(grid.ratios) if grid.has_speedup else 0
    for ratio in grid.ratios[:speedups]:
        table.add_column(f"speed-up p={ratio:.0%}", justify="right")
    table.caption = speedup_caption(grid) or None
    if grid.dense is not None:
        d = grid.dense
        cost = format_macs(d["total_training_flops"])
        if grid.has_energy:
            cost += f" / {format_energy(d.get('total_energy_j'))}{partial_note(d)}"
        eb = f"EB@{grid.eb_epoch}" if grid.eb_epoch is not None else "no EB"
        table.add_row("dense (unpruned)", eb, *[f"{100 * d['accuracy']:.2f}"] * len(grid.ratios),
                      *[cost] * len(grid.ratios), *[format_speedup(d)] * speedups)
    best_acc = {q: grid.best(q, "accuracy") for q in grid.ratios}
    best_cost = {q: grid.best(q, "total_training_flops", highest=False) for q in grid.ratios}
    for label in grid.rows:
        accs, costs, tickets = [], [], set()
        speeds = [format_speedup(grid.cells.get((label, q))) for q in grid.ratios[:speedups]]
        for ratio in grid.ratios:
            cell = grid.cells.get((label, ratio))
            if cell is None:
                accs.append("-")
                costs.append("-")
                continue
            if cell["status"] != "ok":
                accs.append(f"[red]failed ({escape(str(cell.get('stage')))})[/red]")
                costs.append("-")
                continue
            ticket = cell.get("ticket") or ""
            if cell.get("eb_epoch") is not None and ticket == "eb":
                ticket = f"eb@{cell['eb_epoch']}"
            tickets.add(ticket)
            acc = f"{100 * cell['accuracy']:.2f}"
            cost = format_macs(cell["total_training_flops"])
            if grid.has_energy:
                cost += f" / {format_energy(cell.get('total_energy_j'))}{partial_note(cell)}"
            accs.append(f"[bold green]{acc}[/bold green]" if best_acc[ratio] == label else acc)
            costs.append(f"[bold green]{cost}[/bold green]" if best_cost[ratio] == label else cost)
        # labels and tickets come from the profile: user text, never rich markup
        table.add_row(escape(label), escape(", ".join(sorted(tickets))) or "-", *accs, *costs, *speeds)
    return table
