"""The FLOPs panel: forward cost of the dense and each pruned model, and training cost per phase.

Every number is fvcore's count, which is multiply-accumulates: the panel says "MACs (fvcore)" wherever one is
shown (the paper's convention, and the unit fvcore's maintainers agree it counts). Training cost is the
engine's accountant (forward + backward per sample, probe passes included); "vs dense training" compares a
branch's total (dense training up to its ticket + retraining) with training the dense model for its full
schedule.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widget import Widget
from textual.widgets import Static

from splinebench.report.tables import FLOP_UNIT, format_macs
from splinebench.tui.feed import RunFeed
from splinebench.tui.panel import Panel, PanelContext
from splinebench.tui.widgets.panel_table import panel_table


def _saving(value: float | None, reference: float | None) -> str:
    if value is None or not reference:
        return "-"
    return f"{100 * (1 - value / reference):+.1f}%"


def model_table(models: dict[str, dict[str, Any]]) -> Table:
    table = panel_table(
        f"forward cost per sample, {FLOP_UNIT}", ("model", "params", FLOP_UNIT, "saving vs dense"), ("model",)
    )
    dense = models.get("dense")
    dense_macs = dense["flops"] if dense else None
    for tag, row in sorted(models.items(), key=lambda kv: (kv[0] != "dense", kv[0])):
        macs = format_macs(row["flops"])
        if row.get("sparse_flops") is not None:
            macs += f" ({format_macs(row['sparse_flops'])} density-weighted)"
        table.add_row(
            tag, f"{row['params'] or 0:,}", macs, "-" if tag == "dense" else _saving(row["flops"], dense_macs)
        )
    return table


def unsupported_note(models: dict[str, dict[str, Any]]) -> Text | None:
    """fvcore's list of ops it could not count, once for all models (they share it after structured
    pruning)."""
    ops: dict[str, int] = {}
    for row in models.values():
        try:
            found = json.loads(row.get("unsupported_ops") or "{}") or {}
        except ValueError:
            continue
        for op, count in found.items():
            ops[op] = max(ops.get(op, 0), int(count))
    if not ops:
        return None
    listed = ", ".join(f"{op} x{count}" for op, count in sorted(ops.items()))
    return Text(f"not counted by fvcore: {listed}", style="dim")


def phase_table(feed: RunFeed) -> Table:
    table = panel_table(
        f"training cost per phase, {FLOP_UNIT}",
        ("phase", "epochs", "status", FLOP_UNIT, "cumulative"),
        ("phase", "status"),
    )
    cumulative = 0.0
    for phase, row in feed.phases.items():
        macs = feed.training_macs_so_far(phase)
        cumulative += macs
        done = len(feed.epochs.get(phase, {}))
        status = row["status"] + (" (stopped early)" if row.get("stopped_early") else "")
        table.add_row(
            phase, f"{done}/{row['planned_epochs']}", status, format_macs(macs), format_macs(cumulative)
        )
    return table


def branch_table(feed: RunFeed) -> Table:
    table = panel_table(
        f"training {FLOP_UNIT} per branch",
        ("branch", "ticket", "dense part", "retrain", "total", "vs dense"),
        ("branch", "ticket"),
    )
    dense = feed.results.get(("dense", 0.0))
    reference = dense["total_training_flops"] if dense else None
    for (pruner, ratio), row in sorted(feed.results.items()):
        if pruner == "dense" or row["status"] != "ok":
            continue
        ticket = row.get("ticket") or ""
        if ticket == "eb" and row.get("eb_epoch") is not None:
            ticket = f"eb@{row['eb_epoch']}"
        table.add_row(
            f"{pruner}@{ratio:g}",
            ticket,
            format_macs(row["dense_training_flops"]),
            format_macs(row["retrain_training_flops"]),
            format_macs(row["total_training_flops"]),
            _saving(row["total_training_flops"], reference),
        )
    return table


class FlopsPanel(Static):
    def show(self, feed: RunFeed) -> None:
        parts: list[Any] = []
        if feed.models:
            parts.append(model_table(feed.models))
            note = unsupported_note(feed.models)
            if note is not None:
                parts.append(note)
        else:
            parts.append(
                Text("no model costs yet (the dense model's arrive when the run starts)", style="dim")
            )
        if feed.phases:
            parts.append(phase_table(feed))
        if any(p != "dense" for p, _ in feed.results):
            parts.append(branch_table(feed))
            parts.append(
                Text(
                    "vs dense: 1 - branch total / the dense model's full training "
                    "(negative: the branch cost more)",
                    style="dim",
                )
            )
        self.update(Group(*parts))


def _draw_flops(tab: Widget, ctx: PanelContext) -> None:
    tab.query_one(FlopsPanel).show(ctx.feed)


FLOPS_PANEL = Panel("flops", "FLOPs", frozenset({"models", "phases", "epochs", "results"}),
                    compose=lambda: [FlopsPanel(id="flops-panel")], draw=_draw_flops)
