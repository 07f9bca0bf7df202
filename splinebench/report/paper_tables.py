"""The paper's tables, rebuilt from the store for one setting (a profile, its seeds pooled).

* Table 1 (layerwise spline vs network slimming): ratio x pruner -> retrain accuracy, and "Improv." = the best
  layerwise spline variant minus NS, as the paper computes it (e.g. PreResNet-101/CIFAR-10 at 30%:
  max(93.56, 93.07) - 93.48 = +0.08).
* Table 2 (against every baseline): pruner x ratio -> retrain accuracy and total training MACs (energy where a meter
  ran), with the "Spline Improv." row: the best *global* spline variant's accuracy (Table 2's method; every spline
  variant where no global one ran) minus the *strongest baseline*'s (the one with the highest mean accuracy at that
  ratio, among the paper's four: LT, SNIP, NS, ThiNet), and the strongest baseline's training cost divided by the
  cheapest spline variant's. Where other baselines ran (the EB mask of You et al., random), a second row,
  "Spline Improv. (all baselines)", makes the same comparison against all of them: a fair extra row, but a
  different claim from the paper's. The paper does not say how it picked the baseline for its cost ratio (its
  numbers match SNIP in some cells and ThiNet in others), so the cost ratio against *each* baseline is its own
  table ("cost ratios").
* Reduction table (Sec. 4.3, App. C): global spline entries that differ in the reducer (PCA, FA) or the reduction
  dimension, each paired against the default (PCA to the smallest filter size).
* Table 12: per-layer partition distances (epoch e vs e-1) of the first, middle and last tracked layer at chosen
  fractions of the dense epochs.
* Early-bird table: when each detector (spline EB, the mask EBs) fired, as a fraction of the dense epochs.
* rho table (Fig. 7): spline entries that differ only in rho, accuracy per ratio.

Accuracies are percentages of the test set; MACs are fvcore counts ("FLOPs" in the paper). Every number is a mean
over the setting's seeds, with the half-width of its 95% Student-t interval when there are several (the cells of
the machine-readable formats carry std, n and the interval's ends too). Every improvement cell is a *paired*
difference (per run: both pruners pruned that run's dense model) with its interval and a verdict: better, worse,
within noise, or one seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from splinebench.report.collect import DENSE_PHASE, SPLINE_PRUNER, RunData, Setting
from splinebench.report.layout import Cell, ReportTable, Row
from splinebench.report.stats import (
    ONE_SEED,
    PairedDifference,
    Summary,
    format_paired,
    format_summary,
    paired_difference,
    summarise,
    verdict_of,
)
from splinebench.report.tables import FLOP_UNIT, format_energy, format_macs

TABLE12_FRACTIONS: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 1.0)


def ratio_header(ratio: float) -> str:
    return f"p={ratio:.0%}"


def _values(setting: Setting, label: str, ratio: float, key: str) -> list[float | None]:
    out: list[float | None] = []
    for run in setting.runs:
        r = run.result(label, ratio)
        out.append(r.get(key) if r is not None and r.get("status") == "ok" else None)
    return out


def _failure(setting: Setting, label: str, ratio: float) -> str | None:
    """``failed (stage)`` when no seed has a result and at least one recorded a failure."""
    stages = []
    for run in setting.runs:
        r = run.result(label, ratio)
        if r is not None and r.get("status") == "ok":
            return None
        if r is not None:
            stages.append(str(r.get("stage") or "?"))
    return f"failed ({', '.join(sorted(set(stages)))})" if stages else None


def by_run(setting: Setting, label: str, ratio: float, key: str, factor: float = 1.0) -> dict[str, float | None]:
    """``key`` of ``label``'s result at ``ratio`` in each run (None where it failed): the pairs of a paired test.

    Keyed by run, not seed: two pruners of one run were measured on the same dense model, which is what makes
    their per-run difference paired (a setting may hold two runs of one seed).
    """
    out: dict[str, float | None] = {}
    for run in setting.runs:
        r = run.result(label, ratio)
        value = r.get(key) if r is not None and r.get("status") == "ok" else None
        out[run.id] = None if value is None else float(value) * factor
    return out


def paired_accuracy(setting: Setting, ours: str, theirs: str, ratio: float) -> PairedDifference | None:
    """``ours - theirs`` in accuracy points, paired run by run, with its 95% interval and verdict."""
    return paired_difference(by_run(setting, ours, ratio, "accuracy", 100.0),
                             by_run(setting, theirs, ratio, "accuracy", 100.0))


def _paired_cell(paired: PairedDifference | None) -> Cell:
    if paired is None:
        return Cell("-")
    d = paired.difference
    return Cell(format_paired(paired), d.mean, d.std, d.n, paired.verdict == "better", d.ci_low, d.ci_high)


def _n_suffix(summary: Summary, setting: Setting) -> str:
    """`` (n=2)`` where a cell pools fewer runs than its setting has (a failed or missing seed)."""
    return f" (n={summary.n})" if summary.n < len(setting.runs) else ""


def interval_note(setting: Setting) -> str:
    runs = len(setting.runs)
    if runs < 2:
        return ("One run: no interval, and every comparison says \"one seed\" (a difference from one seed cannot "
                "be told from the seed-to-seed noise).")
    return (f"Means over n = {runs} runs (a cell pooling fewer says so); ± is the half-width of the 95% "
            "confidence interval of the mean (Student t, n - 1 degrees of freedom). Differences between two "
            "pruners are paired run by run (both pruned the same dense model) and say better / worse when "
            "their interval excludes 0, else within noise.")


def accuracy(setting: Setting, label: str, ratio: float) -> Summary | None:
    """Retrain accuracy (%) of ``label`` at ``ratio`` over the seeds."""
    found = summarise(_values(setting, label, ratio, "accuracy"))
    return found.scaled(100.0) if found is not None else None


def training_macs(setting: Setting, label: str, ratio: float) -> Summary | None:
    """Total training MACs (dense up to the ticket + retraining) of ``label`` at ``ratio``."""
    return summarise(_values(setting, label, ratio, "total_training_flops"))


def training_energy(setting: Setting, label: str, ratio: float) -> Summary | None:
    return summarise(_values(setting, label, ratio, "total_energy_j"))


def dense_accuracy(setting: Setting) -> Summary | None:
    found = summarise([(run.dense_result() or {}).get("accuracy") for run in setting.runs])
    return found.scaled(100.0) if found is not None else None


def _dense_value(setting: Setting, key: str) -> Summary | None:
    return summarise([(run.dense_result() or {}).get(key) for run in setting.runs])


def _has_energy(setting: Setting) -> bool:
    return any(r.get("total_energy_j") is not None for run in setting.runs for r in run.results)


def _accuracy_cell(setting: Setting, label: str, ratio: float, best: set[str]) -> Cell:
    found = accuracy(setting, label, ratio)
    if found is None:
        return Cell(_failure(setting, label, ratio) or "-")
    return Cell.of(found, format_summary(found) + _n_suffix(found, setting), best=label in best)


def _best_label(labels: Sequence[str], score: Callable[[str], Summary | None], highest: bool = True) -> str | None:
    """The label with the best mean score (the first in ``labels`` order among ties)."""
    scored = [(s.mean, label) for label in labels if (s := score(label)) is not None]
    if not scored:
        return None
    target = max(v for v, _ in scored) if highest else min(v for v, _ in scored)
    return next(label for v, label in scored if v == target)


def _best_labels(labels: Sequence[str], score: Callable[[str], Summary | None], highest: bool = True) -> set[str]:
    """Every label that ties for the best mean score (all of them are shown in bold)."""
    scored = [(s.mean, label) for label in labels if (s := score(label)) is not None]
    if not scored:
        return set()
    target = max(v for v, _ in scored) if highest else min(v for v, _ in scored)
    return {label for v, label in scored if abs(v - target) <= 1e-9 * max(1.0, abs(target))}


def _signed(value: float, digits: int = 2) -> str:
    return f"{value:+.{digits}f}"


# --- Table 1 ---------------------------------------------------------------------------------------------------


def scope_of(setting: Setting, label: str) -> str:
    """A spline entry's scope (``layerwise`` when its options do not say)."""
    return str((setting.entry(label) or {}).get("options", {}).get("scope", "layerwise"))


def layerwise_spline_labels(setting: Setting) -> list[str]:
    return [label for label in setting.spline_labels() if scope_of(setting, label) != "global"]


def global_spline_labels(setting: Setting) -> list[str]:
    return [label for label in setting.spline_labels() if scope_of(setting, label) == "global"]


def table1_layerwise(setting: Setting) -> ReportTable | None:
    """Ratio x pruner -> accuracy for network slimming and the layerwise spline variants, with "Improv." over NS."""
    spline = layerwise_spline_labels(setting)
    if not spline:
        return None
    ns = setting.ns_label()
    labels = ([ns] if ns else []) + spline
    columns = list(labels) + (["Improv."] if ns else [])
    table = ReportTable(
        "table1", "Table 1: layerwise spline pruning vs network slimming, retrain accuracy (%)", setting.id,
        columns, row_header="pruning ratio",
    )
    dense = dense_accuracy(setting)
    dense_cells = [Cell.of(dense, format_summary(dense)) for _ in labels]
    table.rows.append(Row("Unpruned", dense_cells + ([Cell("-")] if ns else []), kind="dense"))
    for ratio in setting.ratios:
        best = _best_labels(labels, lambda label, q=ratio: accuracy(setting, label, q))
        cells = [_accuracy_cell(setting, label, ratio, best) for label in labels]
        if ns:
            spline_best = _best_label(spline, lambda label, q=ratio: accuracy(setting, label, q))
            cells.append(_paired_cell(paired_accuracy(setting, spline_best, ns, ratio) if spline_best else None))
        table.rows.append(Row(ratio_header(ratio), cells))
    if ns:
        table.notes.append(f"Improv.: the best layerwise spline variant ({', '.join(spline)}; best by mean) minus "
                           f"{ns}, in accuracy points, paired run by run.")
    else:
        table.notes.append("No network-slimming (ns) run in this setting, so no Improv. column.")
    table.notes.append(interval_note(setting))
    return table


# --- Table 2 ---------------------------------------------------------------------------------------------------


def _cost_text(macs: Summary | None, energy: Summary | None, with_energy: bool, partial: bool = False) -> str:
    text = format_macs(macs.mean if macs else None)
    if with_energy:
        mark = PARTIAL_MARK if partial and energy is not None else ""
        text = f"{format_energy(energy.mean if energy else None)}{mark} / {text}"
    return text


#: The baselines of the paper's Table 2, among which it picks its "strongest competitor".
PAPER_BASELINES = ("lt", "snip", "ns", "thinet")

#: After an energy figure that includes a window the meter covered too little (``results.energy_partial``).
PARTIAL_MARK = " (partial)"


def _energy_partial(setting: Setting, label: str, ratio: float) -> bool:
    return any(_values(setting, label, ratio, "energy_partial"))


def paper_baseline_labels(setting: Setting) -> list[str]:
    return [label for label in setting.baseline_labels() if setting.pruner_name(label) in PAPER_BASELINES]


def strongest_baseline(setting: Setting, ratio: float, among: Sequence[str] | None = None) -> str | None:
    """The baseline (of ``among``, default: every one) with the highest mean retrain accuracy at ``ratio``."""
    labels = setting.baseline_labels() if among is None else list(among)
    return _best_label(labels, lambda label: accuracy(setting, label, ratio))


def table2_comparison(setting: Setting) -> ReportTable:
    """Pruner x ratio -> accuracy and total training cost, with the "Spline Improv." row."""
    ratios = setting.ratios
    with_energy = _has_energy(setting)
    cost_name = f"kJ / {FLOP_UNIT}" if with_energy else FLOP_UNIT
    columns = [f"acc {ratio_header(q)}" for q in ratios] + [f"cost {ratio_header(q)}" for q in ratios]
    table = ReportTable(
        "table2", f"Table 2: retrain accuracy (%) and total training cost ({cost_name})", setting.id, columns,
        row_header="method",
    )
    spline, baselines = setting.spline_labels(), setting.baseline_labels()
    labels = baselines + spline
    dense_acc = dense_accuracy(setting)
    dense_partial = any((run.dense_result() or {}).get("energy_partial") for run in setting.runs)
    dense_cost = _cost_text(_dense_value(setting, "total_training_flops"), _dense_value(setting, "total_energy_j"),
                            with_energy, dense_partial)
    dense_macs = _dense_value(setting, "total_training_flops")
    table.rows.append(Row("Unpruned (dense)", [Cell.of(dense_acc, format_summary(dense_acc)) for _ in ratios]
                          + [Cell.of(dense_macs, dense_cost) for _ in ratios], kind="dense"))
    best_acc = {q: _best_labels(labels, lambda label, q=q: accuracy(setting, label, q)) for q in ratios}
    best_cost = {q: _best_labels(labels, lambda label, q=q: training_macs(setting, label, q), highest=False)
                 for q in ratios}
    any_partial = dense_partial
    for label in labels:
        cells = [_accuracy_cell(setting, label, q, best_acc[q]) for q in ratios]
        for q in ratios:
            macs = training_macs(setting, label, q)
            if macs is None:
                cells.append(Cell("-"))
                continue
            partial = _energy_partial(setting, label, q)
            any_partial = any_partial or partial
            text = _cost_text(macs, training_energy(setting, label, q), with_energy, partial)
            cells.append(Cell.of(macs, text, best=label in best_cost[q]))
        table.rows.append(Row(label, cells))
    ours = global_spline_labels(setting) or spline
    paper = paper_baseline_labels(setting)
    if ours and paper:
        table.rows.append(_improvement_row(setting, ours, paper, ratios, with_energy, table, "Spline Improv."))
    if ours and baselines and set(baselines) != set(paper):
        table.rows.append(_improvement_row(setting, ours, baselines, ratios, with_energy, table,
                                           "Spline Improv. (all baselines)"))
    table.notes.append(
        f"cost = total training {FLOP_UNIT}: dense training up to the ticket the pruner used plus retraining "
        "(masks of unstructured pruners do not save MACs, so LT and SNIP are charged dense retraining)."
    )
    table.notes.append(interval_note(setting))
    if with_energy and any_partial:
        table.notes.append(f"energy marked{PARTIAL_MARK} under-counts: a window it adds up had too few power samples "
                           "(below the profile's energy_min_coverage); see the run's energy table for the coverage.")
    return table


def _ratio_cell(setting: Setting, base: str | None, ours: str | None, ratio: float,
                key: str) -> tuple[Cell, str] | None:
    """``base``'s ``key`` (a cost) over ``ours``, run by run, and its verdict: > 1 (better) means ours is cheaper."""
    if base is None or ours is None:
        return None
    theirs_by_run, ours_by_run = by_run(setting, base, ratio, key), by_run(setting, ours, ratio, key)
    factors = {run: t / o for run, t in theirs_by_run.items()
               if t is not None and (o := ours_by_run.get(run)) is not None and o > 0}
    found = summarise(factors.values())
    if found is None:
        return None
    shifted = Summary(found.mean - 1, found.std, found.n, *((found.ci_low - 1, found.ci_high - 1)
                                                          if found.ci_low is not None and found.ci_high is not None
                                                          else (None, None)))
    verdict = verdict_of(shifted)
    text = f"{found.mean:.1f}x" + (f"±{found.half_width:.1f}" if found.half_width is not None else "")
    return Cell(text, found.mean, found.std, found.n, verdict == "better", found.ci_low, found.ci_high), verdict


def _improvement_row(setting: Setting, ours: list[str], baselines: list[str], ratios: list[float],
                     with_energy: bool, table: ReportTable, label: str) -> Row:
    """Best of ``ours`` against the most accurate of ``baselines``: paired accuracy gap and cost ratio per ratio."""
    acc_cells: list[Cell] = []
    cost_cells: list[Cell] = []
    picked = []
    for q in ratios:
        strongest = strongest_baseline(setting, q, baselines)
        best_ours = _best_label(ours, lambda label, q=q: accuracy(setting, label, q))
        cheapest = _best_label(ours, lambda label, q=q: training_macs(setting, label, q), highest=False)
        paired = paired_accuracy(setting, best_ours, strongest, q) if strongest and best_ours else None
        acc_cells.append(_paired_cell(paired))
        found = _ratio_cell(setting, strongest, cheapest, q, "total_training_flops")
        if found is None:
            cost_cells.append(Cell("-"))
        else:
            cell, verdict = found
            if with_energy:
                energy = _ratio_cell(setting, strongest, cheapest, q, "total_energy_j")
                cell.text = f"{energy[0].text if energy else 'n/a'}/{cell.text}"
            cell.text += " one seed" if verdict == ONE_SEED else f" {verdict}"
            cost_cells.append(cell)
        picked.append(f"{ratio_header(q)}: {strongest or '-'} vs {best_ours or '-'} (accuracy), "
                      f"{cheapest or '-'} (cost)")
    which = ("the paper's four (LT, SNIP, NS, ThiNet) present here" if label == "Spline Improv."
             else "every baseline here, the EB mask (You et al.) included")
    table.notes.append(
        f"{label}: best of {', '.join(ours)} (by mean accuracy) minus the strongest baseline among {which}: "
        f"{', '.join(baselines)} (highest mean accuracy at that ratio), paired run by run; cost: the strongest "
        "baseline's training MACs / the cheapest spline variant's, the ratio taken run by run (better: cheaper "
        "beyond the noise) (" + "; ".join(picked) + ")."
    )
    return Row(label, acc_cells + cost_cells, kind="improvement")


def reference_label(setting: Setting) -> str | None:
    """The spline variant trained on its early-bird ticket (EB Spline), the paper's cheapest method."""
    for label in setting.spline_labels():
        if (setting.entry(label) or {}).get("ticket") == "eb":
            return label
    return None


def cost_ratio_table(setting: Setting, reference: str | None = None) -> ReportTable | None:
    """Each other method's total training MACs divided by the reference's (EB spline), at equal ratio."""
    reference = reference or reference_label(setting)
    if reference is None:
        return None
    ratios = setting.ratios
    table = ReportTable(
        "cost-ratios", f"Total training {FLOP_UNIT} of each method / {reference}'s, at equal ratio "
        f"(> 1: {reference} trains for less)", setting.id, [ratio_header(q) for q in ratios], row_header="method",
    )
    for label in setting.labels():
        if label == reference:
            continue
        cells = []
        for q in ratios:
            theirs, ours = training_macs(setting, label, q), training_macs(setting, reference, q)
            if theirs is None or ours is None or ours.mean <= 0:
                cells.append(Cell("-"))
                continue
            factor = theirs.mean / ours.mean
            cells.append(Cell(f"{factor:.2f}x", factor, None, min(theirs.n, ours.n), best=factor >= 1))
        table.rows.append(Row(label, cells))
    table.notes.append("Ratios of mean costs over the seeds. The paper's claim (Table 2, Sec. 4.3): against the "
                       "strongest of LT, SNIP, NS and ThiNet, spline pruning needs 0.8x-3.5x fewer training FLOPs "
                       "(0.7x-1.5x less energy) at -0.67 to +0.69 points of accuracy; 1.16x-3.16x fewer than each "
                       "structured baseline (NS, ThiNet).")
    return table


def _method_by_ratio_table(setting: Setting, table_id: str, title: str,
                           cell: Callable[[str, float], Cell]) -> ReportTable:
    """One row per method of the setting, one column per ratio, each cell made by ``cell(label, ratio)``."""
    table = ReportTable(table_id, title, setting.id, [ratio_header(q) for q in setting.ratios], row_header="method")
    for label in setting.labels():
        table.rows.append(Row(label, [cell(label, q) for q in setting.ratios]))
    return table


def achieved_ratio_table(setting: Setting) -> ReportTable | None:
    """The pruning ratio each plan achieved (PEERS: layers silently left unpruned make asked != got)."""

    def achieved(label: str, q: float) -> Cell:
        found = summarise([(run.plan(label, q) or {}).get("achieved_ratio") for run in setting.runs])
        found = found.scaled(100.0) if found is not None else None
        return Cell.of(found, format_summary(found, digits=1))

    table = _method_by_ratio_table(setting, "achieved", "Achieved pruning ratio (%): units (structured) or weights "
                                   "(unstructured) removed", achieved)
    if all(c.value is None for r in table.rows for c in r.cells):
        return None
    table.notes.append("Structured pruners count channels of the layers they may prune; layers kept whole (a "
                       "residual stream's width, the classifier) are not counted, so a ratio is of the prunable "
                       "units. `splinebench runs show` and the store's plans table give the per-layer detail.")
    return table


def speedup_table(setting: Setting) -> ReportTable | None:
    """Measured inference speed-up against the dense model (dense / pruned latency), beside the FLOP counts."""

    def speedup(label: str, q: float) -> Cell:
        found = summarise(_values(setting, label, q, "speedup"))
        return Cell.of(found, format_summary(found) + "x" if found is not None else "-")

    table = _method_by_ratio_table(setting, "speedup", "Measured inference speed-up vs the dense model (dense / "
                                   "pruned latency)", speedup)
    timed = [r for run in setting.runs for r in run.results if r.get("speedup") is not None]
    if not timed:
        return None
    devices = sorted({run.row.device for run in setting.runs if run.row.device})
    table.notes.append(
        f"Inference latency measured on the run's device ({', '.join(devices) or '?'}), batch "
        f"{timed[0].get('latency_batch')}, {timed[0].get('latency_repeats')} alternating dense/pruned rounds "
        "(median ratio per run; mean ± sd over seeds). Masked (unstructured) models compute the dense work: ~1.0x "
        "is their honest value. Timings depend on the machine and its load; FLOPs do not.")
    return table


# --- Table 12 --------------------------------------------------------------------------------------------------


def _layer_names(run: RunData, phase: str = DENSE_PHASE) -> list[str]:
    names: dict[int, str] = {}
    for d in run.layer_distances:
        if d["phase"] == phase:
            names.setdefault(int(d["layer_index"]), d["layer"])
    return [names[i] for i in sorted(names)]


def layer_distance(run: RunData, layer: str, epoch: int, phase: str = DENSE_PHASE) -> float | None:
    for d in run.layer_distances:
        if d["phase"] == phase and d["layer"] == layer and int(d["epoch"]) == epoch:
            return float(d["distance"])
    return None


def table12_epochs(planned: int, fractions: Sequence[float] = TABLE12_FRACTIONS) -> list[tuple[float, int]]:
    """(epoch / planned, epoch) pairs: epoch = fraction x planned rounded half up, at least 1, each epoch once."""
    epochs: list[int] = []
    for f in fractions:
        epoch = max(1, math.floor(f * planned + 0.5))
        if epoch not in epochs:
            epochs.append(epoch)
    return [(e / planned, e) for e in epochs]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def table12_layer_distances(setting: Setting, fractions: Sequence[float] = TABLE12_FRACTIONS) -> ReportTable | None:
    """Distance between the partitions after epoch e and e-1 of the first, middle and last tracked layer."""
    names = _layer_names(setting.runs[0])
    planned = setting.runs[0].planned_dense_epochs()
    if not names or planned < 1:
        return None
    points = table12_epochs(planned, fractions)
    table = ReportTable(
        "table12", "Table 12: partition distance between consecutive epochs, per layer (fraction of bits)",
        setting.id, [f"epoch {e} ({f:.0%})" for f, e in points], row_header="layer",
    )
    picks = {"Early": 0, "Middle": (len(names) - 1) // 2, "Late": len(names) - 1}
    seen: set[int] = set()
    for role, index in picks.items():
        if index in seen:
            continue
        seen.add(index)
        cells = []
        for _, epoch in points:
            found = summarise([layer_distance(run, names[index], epoch) for run in setting.runs])
            cells.append(Cell.of(found, format_summary(found, digits=3)) if found else Cell("n/a"))
        table.rows.append(Row(f"{role} ({_ordinal(index + 1)}: {names[index]})", cells))
    table.notes.append(f"{len(names)} tracked layers; dense training planned for {planned} epochs. n/a: the epoch "
                       "was not trained (dense training stopped at the early bird) or not tracked.")
    return table


# --- early birds -----------------------------------------------------------------------------------------------


def _test_accuracy(run: RunData, phase: str, epoch: int) -> float | None:
    for e in run.epochs:
        if e["phase"] == phase and int(e["epoch"]) == epoch:
            return float(e["test_acc"])
    return None


def early_bird_table(setting: Setting) -> ReportTable | None:
    """When every early-bird detector fired (spline EB of Alg. 1, mask EBs of You et al.), per setting.

    The spline detector watches every dense phase, so it has a row per phase: the plain dense run and, where
    network slimming trains its own dense run, that one too (the run the mask early birds watch).
    """
    keys: list[tuple[str, str]] = []
    for run in setting.runs:
        for eb in run.early_birds:
            if (eb["detector"], eb["phase"]) not in keys:
                keys.append((eb["detector"], eb["phase"]))
    if ("spline", DENSE_PHASE) not in keys:
        keys.append(("spline", DENSE_PHASE))
    keys.sort(key=lambda k: (k[0] != "spline" or k[1] != DENSE_PHASE, k[0] != "spline", k))
    planned = setting.runs[0].planned_dense_epochs()
    table = ReportTable(
        "early-bird", "Early-bird epochs (the ticket is the model after that many epochs)", setting.id,
        ["fired (seeds)", "epoch", "% of dense epochs", "test acc at EB (%)"], row_header="detector",
    )
    for detector, phase in keys:
        epochs: list[float | None] = []
        accs: list[float | None] = []
        for run in setting.runs:
            fired = next((eb for eb in run.early_birds if (eb["detector"], eb["phase"]) == (detector, phase)), None)
            if fired is None:
                continue
            epochs.append(float(fired["epoch"]))
            acc = _test_accuracy(run, phase, int(fired["epoch"]))
            accs.append(None if acc is None else 100.0 * acc)
        epoch = summarise(epochs)
        fraction = epoch.scaled(100.0 / planned) if epoch and planned else None
        acc_summary = summarise(accs)
        label = detector if phase == DENSE_PHASE else f"{detector} ({phase})"
        table.rows.append(Row(label, [
            Cell(f"{len(epochs)}/{len(setting.runs)}", float(len(epochs)), None, len(setting.runs)),
            Cell.of(epoch, format_summary(epoch, digits=1)),
            Cell.of(fraction, format_summary(fraction, digits=0)),
            Cell.of(acc_summary, format_summary(acc_summary)),
        ]))
    dense = dense_accuracy(setting)
    table.rows.append(Row("dense (final)", [
        Cell("-"), Cell(str(planned), float(planned)), Cell("100", 100.0), Cell.of(dense, format_summary(dense)),
    ], kind="dense"))
    eps = sorted({float(eb["eps"]) for run in setting.runs for eb in run.early_birds if eb["detector"] == "spline"})
    eb_settings = setting.profile.get("early_bird", {})
    table.notes.append(
        f"spline EB: fires when the last {eb_settings.get('window', '?')} consecutive-epoch distances are all "
        f"< eps = {eps[0] if eps else eb_settings.get('eps', '?')} (Alg. 1); mask EB (You et al. 2020): "
        "network-slimming masks, one detector per ratio, watching network slimming's own dense run (its phase is "
        "named in brackets). The paper (Table 6, SGD): spline EBs at 15% (VGG-16, epoch 24 of 160) and 38% "
        "(PreResNet-101, 61 of 160) of the epochs; up to 55% with other optimisers (RMSprop, 88 of 160)."
    )
    return table


# --- rho ablation (Fig. 7) -------------------------------------------------------------------------------------


def rho_variants(setting: Setting) -> list[tuple[float, str]]:
    """(rho, label) of spline entries that differ only in rho (same ticket and scope), sorted by rho."""
    groups: dict[tuple[str, str], list[tuple[float, str]]] = {}
    for label in setting.spline_labels():
        entry = setting.entry(label) or {}
        options: dict[str, Any] = entry.get("options", {})
        key = (str(entry.get("ticket", "final")), str(options.get("scope", "layerwise")))
        groups.setdefault(key, []).append((float(options.get("rho", 0.05)), label))
    best = max(groups.values(), key=lambda v: len({rho for rho, _ in v}), default=[])
    if len({rho for rho, _ in best}) < 2:
        return []
    return sorted(best)


def rho_table(setting: Setting) -> ReportTable | None:
    """Fig. 7 as a table: spline retrain accuracy per rho and ratio, and the spread over rho."""
    variants = rho_variants(setting)
    if not variants:
        return None
    ratios = setting.ratios
    table = ReportTable("rho", "rho ablation (Fig. 7): spline retrain accuracy (%) per rho", setting.id,
                        [ratio_header(q) for q in ratios], row_header="rho")
    for rho, label in variants:
        cells = [_accuracy_cell(setting, label, q, set()) for q in ratios]
        table.rows.append(Row(f"{rho:g} ({label})", cells))
    spread_cells = []
    for q in ratios:
        means = [a.mean for _, label in variants if (a := accuracy(setting, label, q)) is not None]
        spread = max(means) - min(means) if len(means) > 1 else None
        spread_cells.append(Cell("-" if spread is None else f"{spread:.2f}", spread))
    table.rows.append(Row("max - min", spread_cells, kind="improvement"))
    table.notes.append("The paper (Fig. 7): spline pruning does well for every rho in 0.01-0.4.")
    return table


# --- global reduction: reducer and dimension (Sec. 4.3, App. C) --------------------------------------------------

#: What a global spline entry uses when its options do not say (``SplinePruner``'s defaults).
REDUCTION_DEFAULTS = {"reducer": "pca", "dim": "smallest"}


def _reduction(setting: Setting, label: str) -> tuple[str, str]:
    options = (setting.entry(label) or {}).get("options", {})
    return (str(options.get("reducer", REDUCTION_DEFAULTS["reducer"])),
            str(options.get("dim") if options.get("dim") is not None else REDUCTION_DEFAULTS["dim"]))


def reduction_variants(setting: Setting) -> tuple[str, list[str]] | None:
    """(reference label, the other labels) of global spline entries that differ only in reducer or dimension.

    The reference is the default reduction (PCA to the smallest filter size); None unless it and another variant
    with the same ticket and other options ran.
    """
    groups: dict[str, list[str]] = {}
    for label in global_spline_labels(setting):
        entry = setting.entry(label) or {}
        options = {k: v for k, v in entry.get("options", {}).items() if k not in REDUCTION_DEFAULTS}
        key = f"{entry.get('ticket', 'final')}|{sorted(options.items())}"
        groups.setdefault(key, []).append(label)
    default = (REDUCTION_DEFAULTS["reducer"], REDUCTION_DEFAULTS["dim"])
    for labels in sorted(groups.values(), key=len, reverse=True):
        reference = next((label for label in labels if _reduction(setting, label) == default), None)
        if reference is not None and len(labels) > 1:
            return reference, [label for label in labels if label != reference]
    return None


def reduction_table(setting: Setting) -> ReportTable | None:
    """Global spline accuracy per reducer / dimension, and each variant's paired difference from the default."""
    found = reduction_variants(setting)
    if found is None:
        return None
    reference, others = found
    ratios = setting.ratios
    table = ReportTable("reduction", "Global spline pruning: reduction method and dimension, retrain accuracy (%)",
                        setting.id, [ratio_header(q) for q in ratios], row_header="reducer, dim (entry)")
    for label in [reference, *others]:
        reducer, dim = _reduction(setting, label)
        best = set()
        table.rows.append(Row(f"{reducer.upper()}, {dim} ({label})",
                              [_accuracy_cell(setting, label, q, best) for q in ratios]))
    for label in others:
        table.rows.append(Row(f"{label} - {reference}",
                              [_paired_cell(paired_accuracy(setting, label, reference, q)) for q in ratios],
                              kind="improvement"))
    table.notes.append(
        f"{reference}: PCA to the smallest flattened filter size of the pruned layers (the default); an int projects "
        "every layer to that many dimensions (a layer with shorter filters is zero-padded, which changes nothing); "
        "none keeps each layer's own filters (its cosines exact, but a layer with longer filters then looks less "
        "redundant). The paper (App. C, Table 5): PCA and FA within about a point of each other; it names no "
        "dimension."
    )
    table.notes.append(interval_note(setting))
    return table


# --- runs ------------------------------------------------------------------------------------------------------


def runs_table(settings: Sequence[Setting]) -> ReportTable:
    """Which runs the report pools: id, setting, seed, status, dense epochs, spline EB epoch, wall time."""
    table = ReportTable("runs", "Runs in this report", "all",
                        ["setting", "seed", "model", "dataset", "images (train/test)", "epochs (dense/retrain)",
                         "status", "spline EB", "wall time"], row_header="run")
    for setting in settings:
        for run in setting.runs:
            row = run.row
            seconds = (row.finished_at or row.updated_at) - row.created_at
            options = run.profile.get("data", {}).get("options", {})
            subset, test_subset = options.get("subset"), options.get("test_subset")
            images = f"{_count(subset)}/{_count(test_subset)}"
            retrain = run.profile.get("retrain", {}).get("epochs", "?")
            table.rows.append(Row(run.id, [
                Cell(setting.id), Cell(str(row.seed), float(row.seed)), Cell(row.model), Cell(row.dataset),
                Cell(images, None if subset is None else float(subset)),
                Cell(f"{run.planned_dense_epochs()}/{retrain}"), Cell(row.status),
                Cell("-" if row.eb_epoch is None else str(row.eb_epoch),
                     None if row.eb_epoch is None else float(row.eb_epoch)),
                Cell(f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min", seconds),
            ]))
    return table


def _count(images: int | None) -> str:
    """A profile's subset size, or "all" when it keeps the whole split."""
    return "all" if images is None else f"{images:,}"


def setting_tables(setting: Setting, fractions: Sequence[float] = TABLE12_FRACTIONS) -> list[ReportTable]:
    """Every table one setting supports, in the order a report shows them."""
    built = [
        table1_layerwise(setting), table2_comparison(setting), cost_ratio_table(setting),
        achieved_ratio_table(setting), speedup_table(setting), early_bird_table(setting),
        table12_layer_distances(setting, fractions), rho_table(setting), reduction_table(setting),
    ]
    return [t for t in built if t is not None]


__all__ = [
    "PAPER_BASELINES", "SPLINE_PRUNER", "TABLE12_FRACTIONS", "accuracy", "achieved_ratio_table", "by_run",
    "cost_ratio_table", "dense_accuracy", "early_bird_table", "global_spline_labels", "interval_note",
    "layer_distance", "layerwise_spline_labels", "paired_accuracy", "paper_baseline_labels", "reduction_table",
    "reduction_variants", "reference_label", "rho_table", "rho_variants", "runs_table", "setting_tables",
    "speedup_table", "strongest_baseline", "table12_epochs", "table12_layer_distances", "table1_layerwise",
    "table2_comparison", "training_energy", "training_macs",
]
