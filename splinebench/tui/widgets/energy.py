"""The energy panel: live power per rail and joules per phase, or plainly "no meter".

A run without a meter has no rows in ``energy``; the panel says so instead of showing zeros. Unknown values
are "n/a (why)" with the meter's own reason. Power per rail is the newest sample from ``power_samples``
(milliwatts in the store, watts here); the sparkline is the board total over the samples kept.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Sparkline, Static

from splinebench.report.tables import format_energy
from splinebench.tui.feed import RunFeed
from splinebench.tui.panel import Panel, PanelContext
from splinebench.tui.widgets.panel_table import panel_table

NO_METER = (
    "no meter: this run recorded no energy (give the run --energy URL, or `energy = ...` in its profile)"
)


def _provenance(row: dict[str, Any]) -> str:
    try:
        data = json.loads(row.get("provenance") or "{}")
    except ValueError:
        return ""
    return " ".join(str(data[k]) for k in ("meter", "method") if data.get(k))


def phase_energy_table(rows: list[dict[str, Any]]) -> Table:
    table = panel_table("energy per phase", ("phase", "joules", "net of idle", "mean W", "meter"), ("phase", "meter"))
    for row in rows:
        why = row.get("why") or "unknown"
        mean = f"{row['mean_power_w']:.2f}" if row.get("mean_power_w") is not None else "n/a"
        table.add_row(
            row.get("phase") or row["window"],
            format_energy(row.get("joules"), why),
            format_energy(row.get("net_joules"), why),
            mean,
            _provenance(row),
        )
    return table


def rails_table(sample: dict[str, Any]) -> Table:
    table = panel_table("power now, per rail", ("rail", "W"), ("rail",))
    for rail, mw in sorted((sample.get("rails") or {}).items()):
        table.add_row(rail, f"{mw / 1000:.2f}" if mw is not None else "n/a")
    if sample.get("total_mw") is not None:
        table.add_row(Text("total", style="bold"), Text(f"{sample['total_mw'] / 1000:.2f}", style="bold"))
    return table


class EnergyPanel(Vertical):
    def compose(self) -> ComposeResult:
        yield Static(NO_METER, id="energy-text")
        yield Sparkline([], id="power-sparkline")

    def show(self, feed: RunFeed) -> None:
        text = self.query_one("#energy-text", Static)
        sparkline = self.query_one("#power-sparkline", Sparkline)
        if not feed.energy and not feed.power:
            text.update(Text(NO_METER, style="bold yellow"))
            sparkline.display = False
            return
        parts: list[Any] = []
        if feed.power:
            parts.append(rails_table(feed.power[-1]))
        rows = [r for r in feed.energy.values() if r["window"] in ("phase", "idle", "run")]
        if rows:
            parts.append(phase_energy_table(rows))
        text.update(Group(*parts))
        totals = [s["total_mw"] / 1000 for s in feed.power if s.get("total_mw") is not None]
        sparkline.display = bool(totals)
        sparkline.data = totals


def _draw_energy(tab: Widget, ctx: PanelContext) -> None:
    tab.query_one(EnergyPanel).show(ctx.feed)


ENERGY_PANEL = Panel("energy", "Energy", frozenset({"energy", "power"}),
                     compose=lambda: [EnergyPanel(id="energy-panel")], draw=_draw_energy)
