"""``e`` on the dashboard: the open panel, or the comparison, as PNG and SVG plus the numbers as CSV.

Figures come from the same code as ``splinebench report --figures`` (``report.figures``), so an exported
picture and a report's picture of the same data are the same picture, colour scale included. Files go to
``exports/`` beside the store, named after the run (or runs) and the panel.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

from splinebench.report import figures
from splinebench.report.collect import DENSE_PHASE, load_settings
from splinebench.report.stats import summarise
from splinebench.store import StoreReader
from splinebench.tui.compare_data import Experiment, leaderboard


def export_dir(store_path: str) -> Path:
    return Path(store_path).resolve().parent / "exports"


def _stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


def _write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def export_comparison(experiments: list[Experiment], panel: str, store_path: str) -> list[Path]:
    """The comparison's open panel: a figure (accuracy or net distance overlay) and/or its CSV."""
    out = export_dir(store_path)
    stem = f"compare-{len(experiments)}-{panel}-{_stamp()}"
    ebs = {exp.label: exp.eb for exp in experiments}
    paths: list[Path] = []
    if panel in ("cmp-acc", "cmp-net"):
        metric, ylabel = ("test_acc", "test accuracy (%)") if panel == "cmp-acc" else (
            "net", "whole-net partition distance (mean of layers)")
        lines = {exp.label: getattr(exp, metric) for exp in experiments}
        fig = figures.overlay_figure(lines, ebs, ylabel, f"{ylabel}, dense training")
        paths += figures.save_figure(fig, out, stem)
        rows = [[label, epoch, s.mean, s.ci_low, s.ci_high, s.n] for label, pts in lines.items() for epoch, s in pts]
        paths.append(_write_csv(out / f"{stem}.csv", ["experiment", "epoch", "mean", "ci_low", "ci_high", "n"], rows))
    elif panel == "cmp-layers":
        rows = [[exp.label, name, s.mean, s.ci_low, s.ci_high, s.n, None if exp.eb is None else exp.eb.mean]
                for exp in experiments for name, s in exp.layers]
        paths.append(_write_csv(out / f"{stem}.csv",
                                ["experiment", "layer", "distance", "ci_low", "ci_high", "n", "eb_epoch"], rows))
    else:
        columns, rows = leaderboard(experiments)
        paths.append(_write_csv(out / f"{stem}.csv", columns, rows))
    return paths


def export_run_panel(reader: StoreReader, run_id: str, panel: str, store_path: str) -> list[Path]:
    """One run's open panel through the report's figure for it, and the panel's numbers as CSV."""
    out = export_dir(store_path)
    stem = f"{run_id}-{panel}-{_stamp()}"
    paths: list[Path] = []
    setting = load_settings(reader, [run_id])[0]
    run = setting.runs[0]
    if panel == "matrix":
        paths += figures.write_distance_matrix(reader, setting, out)
        matrix = reader.distance_matrix(run_id, DENSE_PHASE)
        rows = [[i, j, d] for i, row in enumerate(matrix) for j, d in enumerate(row)]
        paths.append(_write_csv(out / f"{stem}.csv", ["epoch_i", "epoch_j", "distance"], rows))
    elif panel in ("layers", "distance"):
        fig = figures.layer_distance_figure(setting)
        if fig is not None:
            paths += figures.save_figure(fig, out, stem)
        rows = [[d["phase"], d["epoch"], d["layer_index"], d["layer"], d["distance"]] for d in run.layer_distances]
        paths.append(_write_csv(out / f"{stem}.csv", ["phase", "epoch", "layer_index", "layer", "distance"], rows))
    elif panel == "curves":
        epochs = reader.epochs(run_id)
        phases = list(dict.fromkeys(r["phase"] for r in epochs))
        lines = {phase: [(r["epoch"], summarise([100 * r["test_acc"]])) for r in epochs if r["phase"] == phase]
                 for phase in phases}
        eb = next((e["epoch"] for e in reader.early_birds(run_id) if e["detector"] == "spline"), None)
        fig = figures.overlay_figure(lines, {DENSE_PHASE: summarise([eb])}, "test accuracy (%)",
                                     f"run {run_id}: test accuracy per phase", xlabel="epoch of the phase")
        paths += figures.save_figure(fig, out, stem)
        keys = ["phase", "epoch", "train_loss", "train_acc", "test_loss", "test_acc", "training_flops"]
        paths.append(_write_csv(out / f"{stem}.csv", keys, [[r[k] for k in keys] for r in epochs]))
    else:  # flops, energy, leaderboard: the results behind them, and accuracy vs cost
        fig = figures.tradeoff_figure(setting)
        if fig is not None:
            paths += figures.save_figure(fig, out, stem)
        results = reader.results(run_id)
        keys = ["pruner", "ratio", "status", "accuracy", "total_training_flops", "total_energy_j", "ticket",
                "eb_epoch"]
        paths.append(_write_csv(out / f"{stem}.csv", keys, [[r.get(k) for k in keys] for r in results]))
    return paths
