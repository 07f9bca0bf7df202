"""The paper's figures from the store (matplotlib, Agg backend), each saved as PNG and SVG.

* Fig. 5: the epoch x epoch partition-distance matrix of the dense run, the spline early bird marked as the paper's
  red block (the epochs its detector window spans) and the mask early birds as dashed lines. Raw distances (the
  fraction of differing bits) are shown; the authors' min-max normalisation is a display choice we do not copy, so
  the colour bar reads the same numbers the detector used. The colour scale is the dashboard's (viridis, dark =
  still, bright = changing: ``DISTANCE_CMAP``), so a figure and the screen read alike.
* Per-layer distance curves (Table 12 as a picture): one line per tracked layer, coloured by depth, with the
  whole-net distance that drives the detector and its threshold.
* Accuracy vs total training MACs (Table 2 as a picture): every pruner and ratio, the Pareto front marked.
* Fig. 7: spline retrain accuracy against rho, one line per ratio.

Only the store is read; the 2-D partition pictures need models and live in ``report.partition``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter  # noqa: E402

from splinebench.report.collect import DENSE_PHASE, RunData, Setting  # noqa: E402
from splinebench.report.paper_tables import (  # noqa: E402
    accuracy,
    dense_accuracy,
    ratio_header,
    rho_variants,
    training_macs,
)
from splinebench.report.pareto import pareto_front  # noqa: E402
from splinebench.report.stats import Summary, summarise  # noqa: E402
from splinebench.report.tables import FLOP_UNIT, format_macs  # noqa: E402
from splinebench.store import StoreReader  # noqa: E402

FIGURE_FORMATS = ("png", "svg")
#: One colour scale for partition distances everywhere (the dashboard's ``tui.colours.VIRIDIS`` is the same map):
#: dark = still (small distance), bright = changing.
DISTANCE_CMAP = "viridis"
DISTANCE_LABEL = "partition distance (fraction of bits)\ndark = still, bright = changing"
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


#: Longest slug kept whole: a setting named after a sweep's grid point (its overrides) can be hundreds of
#: characters, past the file system's 255-byte name limit once a figure's suffix is added.
SLUG_MAX = 80


def slug(text: str) -> str:
    """A file-name-safe form of ``text``; a long one is cut and given a short hash of the whole, so it stays unique."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "report"
    if len(cleaned) <= SLUG_MAX:
        return cleaned
    digest = hashlib.sha1(text.encode()).hexdigest()[:10]
    return f"{cleaned[:SLUG_MAX - 11].rstrip('-')}-{digest}"


def save_figure(fig: Figure, out_dir: Path, stem: str, dpi: int = 150) -> list[Path]:
    """Write ``stem.png`` (at ``dpi``) and ``stem.svg`` under ``out_dir`` and close the figure."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in FIGURE_FORMATS:
        path = out_dir / f"{slug(stem)}.{ext}"
        fig.savefig(path, dpi=dpi if ext == "png" else None, bbox_inches="tight")
        paths.append(path)
    plt.close(fig)
    return paths


# --- Fig. 5 ----------------------------------------------------------------------------------------------------


def distance_matrix_figure(matrix: Sequence[Sequence[float]], title: str, eb_epoch: int | None = None,
                           window: int = 2, mask_epochs: dict[str, int] | None = None) -> Figure:
    """Fig. 5: ``matrix[i][j]`` = partition distance between the snapshots after epochs i and j (0 = init)."""
    n = len(matrix)
    fig, ax = plt.subplots(figsize=(5.6, 4.8))
    image = ax.imshow(matrix, cmap=DISTANCE_CMAP, origin="upper", interpolation="nearest",
                      extent=(-0.5, n - 0.5, n - 0.5, -0.5))
    fig.colorbar(image, ax=ax, label=DISTANCE_LABEL)
    if eb_epoch is not None:
        start = max(0, eb_epoch - window)
        side = eb_epoch - start + 1
        ax.add_patch(Rectangle((start - 0.5, start - 0.5), side, side, fill=False, edgecolor="red", linewidth=2.2,
                               label=f"spline EB window, epochs {start}-{eb_epoch} (drawn at {eb_epoch})"))
    for k, (name, epoch) in enumerate(sorted((mask_epochs or {}).items(), key=lambda kv: kv[1])):
        ax.axvline(epoch, color=f"C{k % 10}", linestyle="--", linewidth=1.2, label=f"{name} EB (epoch {epoch})")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("epoch")
    ax.set_title(title, fontsize=10)
    if eb_epoch is not None or mask_epochs:
        ax.legend(loc="lower left", fontsize=7, framealpha=0.85)
    return fig


def _eb(run: RunData, detector: str) -> dict | None:
    return next((eb for eb in run.early_birds if eb["detector"] == detector), None)


def write_distance_matrix(reader: StoreReader, setting: Setting, out_dir: Path) -> list[Path]:
    run = setting.runs[0]
    matrix = reader.distance_matrix(run.id, DENSE_PHASE)
    if not matrix:
        return []
    spline = _eb(run, "spline")
    masks = {eb["detector"]: int(eb["epoch"]) for eb in run.early_birds if eb["detector"] != "spline"}
    window = int(spline["window"]) if spline and spline.get("window") else 2
    fig = distance_matrix_figure(matrix, f"{setting.title}\nrun {run.id}: partition distance, epoch x epoch",
                                 int(spline["epoch"]) if spline else None, window, masks)
    return save_figure(fig, out_dir, f"{setting.id}-fig5-distance-matrix")


# --- per-layer curves -----------------------------------------------------------------------------------------


def layer_curves(setting: Setting, phase: str = DENSE_PHASE) -> tuple[list[str], dict[str, list[tuple[int, float]]]]:
    """Per layer (in network order): (epoch, mean distance over seeds) pairs."""
    names: dict[int, str] = {}
    values: dict[tuple[str, int], list[float]] = {}
    for run in setting.runs:
        for d in run.layer_distances:
            if d["phase"] != phase:
                continue
            names.setdefault(int(d["layer_index"]), d["layer"])
            values.setdefault((d["layer"], int(d["epoch"])), []).append(float(d["distance"]))
    ordered = [names[i] for i in sorted(names)]
    curves: dict[str, list[tuple[int, float]]] = {name: [] for name in ordered}
    for (layer, epoch), found in sorted(values.items(), key=lambda kv: kv[0][1]):
        summary = summarise(found)
        if summary is not None:
            curves[layer].append((epoch, summary.mean))
    return ordered, curves


def layer_distance_figure(setting: Setting) -> Figure | None:
    ordered, curves = layer_curves(setting)
    if not ordered:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    cmap = plt.get_cmap("viridis")
    for k, name in enumerate(ordered):
        points = curves[name]
        if not points:
            continue
        colour = cmap(k / max(len(ordered) - 1, 1))
        ax.plot([e for e, _ in points], [d for _, d in points], color=colour, linewidth=1.2,
                label=name if k in (0, (len(ordered) - 1) // 2, len(ordered) - 1) else None)
    net: dict[int, list[float]] = {}
    for run in setting.runs:
        for row in run.net_distances:
            if row["phase"] == DENSE_PHASE:
                net.setdefault(int(row["epoch"]), []).append(float(row["mean_of_layers"]))
    if net:
        epochs = sorted(net)
        stats = [summarise(net[e]) for e in epochs]
        ax.plot(epochs, [s.mean for s in stats], color="black", linewidth=2.0,
                label="mean of layers (drives the EB)")
        if any(s.ci_low is not None for s in stats):
            ax.fill_between(epochs, [s.ci_low if s.ci_low is not None else s.mean for s in stats],
                            [s.ci_high if s.ci_high is not None else s.mean for s in stats], color="black",
                            alpha=0.15, linewidth=0, label=f"95% interval over {max(s.n for s in stats)} seeds")
    eps = setting.profile.get("early_bird", {}).get("eps")
    if eps is not None:
        ax.axhline(float(eps), color="grey", linestyle=":", linewidth=1.0, label=f"eps = {eps:g}")
    ebs = [e for run in setting.runs if (e := _eb(run, "spline")) is not None]
    if ebs:
        mean_eb = sum(int(e["epoch"]) for e in ebs) / len(ebs)
        ax.axvline(mean_eb, color="red", linestyle="--", linewidth=1.2, label=f"spline EB (epoch {mean_eb:.3g})")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("distance to the previous epoch (fraction of bits)")
    ax.set_title(f"{setting.title}\nper-layer partition distance (colour: depth, dark = early)", fontsize=9)
    ax.legend(fontsize=7)
    ax.set_ylim(bottom=0)
    return fig


# --- accuracy vs cost ------------------------------------------------------------------------------------------


def interval(summary: Summary | None) -> tuple[float, float]:
    """(below, above) the mean of its 95% interval, for error bars; (0, 0) for one seed (no interval)."""
    if summary is None or summary.ci_low is None or summary.ci_high is None:
        return 0.0, 0.0
    return summary.mean - summary.ci_low, summary.ci_high - summary.mean


def tradeoff_points(setting: Setting) -> list[tuple[str, float, Summary, Summary]]:
    """(label, ratio, total MACs over seeds, accuracy % over seeds) of every pruner and ratio with a result."""
    points = []
    for label in setting.labels():
        for q in setting.ratios:
            acc, macs = accuracy(setting, label, q), training_macs(setting, label, q)
            if acc is not None and macs is not None:
                points.append((label, q, macs, acc))
    return points


def macs_log_axis(axis) -> None:  # noqa: ANN001 - a matplotlib Axis
    """Log ticks at 1, 2 and 5 per decade labelled in MACs units (2G, 5G, 10G), instead of 10^x with crowded
    minor labels."""
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0), numticks=12))
    axis.set_major_formatter(FuncFormatter(lambda v, _: format_macs(v)))
    axis.set_minor_formatter(NullFormatter())


def tradeoff_figure(setting: Setting) -> Figure | None:
    """Accuracy vs total training MACs per pruner (colour) and ratio (marker), Pareto front as a dashed step.

    Error bars are 95% intervals over seeds (none with one seed). The dense (unpruned) run is drawn as a black star
    but kept out of the front, which compares pruned models only; its legend entry says so."""
    points = tradeoff_points(setting)
    if not points:
        return None
    fig, ax = plt.subplots(figsize=(7.0, 4.6))
    labels = [label for label in setting.labels() if any(p[0] == label for p in points)]
    ratios = setting.ratios
    spline = set(setting.spline_labels())
    for k, label in enumerate(labels):
        colour = f"C{k % 10}"
        mine = [p for p in points if p[0] == label]
        for _, q, macs, acc in mine:
            marker = _MARKERS[ratios.index(q) % len(_MARKERS)] if q in ratios else "o"
            ax.errorbar(macs.mean, acc.mean, xerr=[[v] for v in interval(macs)], yerr=[[v] for v in interval(acc)],
                        fmt=marker, color=colour, markersize=7 if label in spline else 5,
                        markeredgecolor="black" if label in spline else colour, capsize=2)
        ax.plot([], [], "o", color=colour, label=label)
    for k, q in enumerate(ratios):
        ax.plot([], [], _MARKERS[k % len(_MARKERS)], markerfacecolor="white", markeredgecolor="black",
                linestyle="none", label=ratio_header(q))
    dense_acc = dense_accuracy(setting)
    dense_macs = summarise([(run.dense_result() or {}).get("total_training_flops") for run in setting.runs])
    if dense_acc is not None and dense_macs is not None:
        ax.errorbar(dense_macs.mean, dense_acc.mean, xerr=[[v] for v in interval(dense_macs)],
                    yerr=[[v] for v in interval(dense_acc)], fmt="*", color="black", markersize=12, capsize=2,
                    label="unpruned (dense), not in the front")
    front = pareto_front([(p[2].mean, p[3].mean) for p in points])
    xs = [points[i][2].mean for i in front]
    ys = [points[i][3].mean for i in front]
    ax.step(xs, ys, where="post", color="red", linestyle="--", linewidth=1.2, label="Pareto front (pruned)")
    ax.scatter(xs, ys, s=160, facecolors="none", edgecolors="red", linewidths=1.2)
    ax.set_xscale("log")
    macs_log_axis(ax.xaxis)
    ax.set_xlabel(f"total training {FLOP_UNIT} (log)")
    ax.set_ylabel("retrain accuracy (%)")
    seeds = max((p[3].n for p in points), default=1)
    bars = f"; bars: 95% interval over {seeds} seeds" if seeds > 1 else ""
    ax.set_title(f"{setting.title}\naccuracy vs total training cost{bars}", fontsize=9)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    ax.grid(True, which="both", alpha=0.25)
    return fig


# --- overlays (the dashboard's comparison and curves) -----------------------------------------------------------


def overlay_figure(lines: dict[str, Sequence[tuple[float, Summary]]], eb_epochs: dict[str, Summary | None],
                   ylabel: str, title: str, xlabel: str = "dense epoch") -> Figure:
    """One line per experiment (the mean over seeds), its 95% interval as a band when it has several seeds, and
    its EB epoch as a dashed line in the same colour; the legend sits outside the data."""
    fig, ax = plt.subplots(figsize=(7.0, 4.2))
    for k, (label, points) in enumerate(lines.items()):
        if not points:
            continue
        colour = f"C{k % 10}"
        xs = [x for x, _ in points]
        ax.plot(xs, [s.mean for _, s in points], color=colour, linewidth=1.5, label=label)
        if any(s.ci_low is not None for _, s in points):
            ax.fill_between(xs, [s.ci_low if s.ci_low is not None else s.mean for _, s in points],
                            [s.ci_high if s.ci_high is not None else s.mean for _, s in points], color=colour,
                            alpha=0.2, linewidth=0, label=f"{label}: 95% interval")
        eb = eb_epochs.get(label)
        if eb is not None:
            ax.axvline(eb.mean, color=colour, linestyle="--", linewidth=1.0, label=f"{label}: EB epoch {eb.mean:.3g}")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(True, alpha=0.25)
    return fig


# --- Fig. 7 ----------------------------------------------------------------------------------------------------


def rho_figure(setting: Setting) -> Figure | None:
    variants = rho_variants(setting)
    if not variants:
        return None
    fig, ax = plt.subplots(figsize=(5.2, 3.8))
    for k, q in enumerate(setting.ratios):
        xs, ys, below, above = [], [], [], []
        for rho, label in variants:
            acc = accuracy(setting, label, q)
            if acc is not None:
                xs.append(rho)
                ys.append(acc.mean)
                low, high = interval(acc)
                below.append(low)
                above.append(high)
        ax.errorbar(xs, ys, yerr=[below, above], marker=_MARKERS[k % len(_MARKERS)], capsize=2, label=ratio_header(q))
    ax.set_xscale("log")
    ax.set_xlabel("rho (Eq. 2)")
    ax.set_ylabel("retrain accuracy (%)")
    ax.set_title(f"{setting.title}\nrho ablation (Fig. 7)", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.25)
    return fig


def write_setting_figures(reader: StoreReader, setting: Setting, out_dir: Path) -> list[Path]:
    """Every store-backed figure of one setting; returns the files written (PNG and SVG)."""
    written = write_distance_matrix(reader, setting, out_dir)
    for stem, fig in (("layer-distances", layer_distance_figure(setting)), ("tradeoff", tradeoff_figure(setting)),
                      ("fig7-rho", rho_figure(setting))):
        if fig is not None:
            written += save_figure(fig, out_dir, f"{setting.id}-{stem}")
    return written
