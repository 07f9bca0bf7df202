"""What the sweep command prints: the dry run's trials and task graph, and the closing summary.

Both say the training MACs two ways: *charged once per sweep* (each shared dense phase counted once — what the
sweep costs) and *in full per trial* (every trial's dense phases counted whole — what each trial reports as its
total training MACs, as the paper counts a single run).
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from splinebench.sweep.driver import SweepPlan
from splinebench.sweep.estimate import Estimate, as_dict, macs_text
from splinebench.sweep.grid import point_text


def dry_run_view(plan: SweepPlan, est: Estimate, executor: str) -> Group:
    graph = plan.graph
    trials = Table(title=f"sweep {plan.sweep_id}: {len(plan.trials)} trial(s)", title_justify="left")
    for column in ("trial", "run id", "grid point", "dense task(s)", "branches", "est. training MACs (full)"):
        trials.add_column(column)
    for t in graph.trials:
        trials.add_row(str(t.trial.index), t.run_id, point_text(t.trial.point), "\n".join(t.dense_keys()),
                       str(len(t.branch_keys())), macs_text(est.trials[t.run_id]))
    tasks = Table(title="task graph: dense -> branches", title_justify="left")
    for column in ("dense task", "phase", "shared by", "est. MACs", "branches (est. MACs each, upper bound)"):
        tasks.add_column(column)
    for key, task in graph.dense.items():
        branches = graph.branches_of(key)
        listing = "\n".join(f"{b.key}  {macs_text(est.branches[b.key])}" for b in branches[:12])
        if len(branches) > 12:
            listing += f"\n... {len(branches) - 12} more"
        tasks.add_row(key, task.phase, f"{len(task.run_ids)} trial(s)", macs_text(est.dense[key]), listing or "-")
    totals = Text.assemble(
        ("estimated training MACs (fvcore; forward MACs x samples x 3 x epochs, upper bounds):\n", "bold"),
        f"  charged once per sweep (each shared dense phase once): {macs_text(est.charged_once)}\n",
        f"  in full per trial (each trial's own total, dense in full): {macs_text(est.in_full)}\n",
        f"  {len(graph.dense)} dense + {len(graph.branches)} branch task(s) on {executor}",
    )
    return Group(trials, tasks, totals)


def dry_run_dict(plan: SweepPlan, est: Estimate) -> dict[str, Any]:
    graph = plan.graph
    return {
        "type": "sweep_plan", "sweep_id": plan.sweep_id,
        "trials": [{"trial": t.trial.index, "run_id": t.run_id, "point": t.trial.point,
                    "dense_tasks": t.dense_keys(), "branch_tasks": t.branch_keys()} for t in graph.trials],
        "dense_tasks": {k: {"phase": d.phase, "trials": list(d.run_ids),
                            "branches": [b.key for b in graph.branches_of(k)]} for k, d in graph.dense.items()},
        "estimated_training_macs": as_dict(est),
    }


def summary_view(summary: dict[str, Any]) -> Group:
    macs = summary["training_macs"]
    table = Table(title=f"sweep {summary['sweep_id']}", title_justify="left")
    for column in ("run id", "grid point", "status", "dense task(s)", "training MACs (dense in full)"):
        table.add_column(column)
    for run_id, t in summary["trials"].items():
        table.add_row(run_id, point_text(t["point"]), t["status"], "\n".join(t["dense_tasks"]),
                      macs_text(t["training_macs"]))
    shared = sum(1 for d in summary["dense_tasks"].values() if len(d["trials"]) > 1)
    nodes = ", ".join(f"{n[:12]}: {c}" for n, c in summary["tasks_per_node"].items())
    text = Text.assemble(
        ("training MACs (fvcore):\n", "bold"),
        f"  charged once per sweep (each shared dense phase once): {macs_text(macs['charged_once'])}\n",
        f"  in full per trial, added up (each trial's own total): {macs_text(macs['trials_in_full'])}"
        f"  -> sharing saved {macs_text(macs['saved'])}\n",
        f"  {len(summary['dense_tasks'])} dense task(s) ({shared} shared), {len(summary['branch_tasks'])} branch "
        f"task(s); tasks per node: {nodes or '-'}\n",
        f"results: splinebench report {summary['sweep_id']}",
    )
    return Group(table, text)
