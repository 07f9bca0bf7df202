"""What the comparison screen draws: several runs as experiments, a sweep's seeds pooled into one.

Runs are grouped into experiments before anything is drawn: the trials of one sweep that differ only in their
seed are one experiment (its seeds pooled: per epoch the mean and the Student-t 95% interval of
``report.stats.summarise``), every other run is an experiment of its own. Everything is read through
``StoreReader`` and summarised with the report's statistics, so the screen and ``splinebench report`` agree.
Nothing here imports Textual.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from splinebench.report.stats import Summary, summarise
from splinebench.store import RunRow, StoreReader

DENSE = "dense"


@dataclass
class Experiment:
    """One line on every comparison plot: a run, or a sweep's runs that differ only in their seed."""

    label: str
    runs: list[RunRow]
    test_acc: list[tuple[int, Summary]] = field(default_factory=list)  # dense epoch -> accuracy (%)
    net: list[tuple[int, Summary]] = field(default_factory=list)  # dense epoch -> whole-net distance
    layers: list[tuple[str, Summary]] = field(default_factory=list)  # layer -> distance at each run's EB epoch
    eb_epochs: list[int] = field(default_factory=list)  # one per run that drew a spline EB ticket
    results: dict[tuple[str, float], tuple[Summary | None, Summary | None]] = field(default_factory=dict)
    # (pruner label, ratio) -> (accuracy %, total training MACs)

    @property
    def seeds(self) -> list[int]:
        return sorted(r.seed for r in self.runs)

    @property
    def eb(self) -> Summary | None:
        return summarise(self.eb_epochs)


def experiment_key(run: RunRow) -> tuple:
    """Runs with the same key are pooled: one sweep, same name, model, data, pruners and ratios; seed free."""
    if run.sweep_id is None:
        return ("run", run.id)
    return ("sweep", run.sweep_id, run.name, run.model, run.dataset, tuple(run.pruners), tuple(run.ratios))


def group_runs(runs: Iterable[RunRow]) -> list[list[RunRow]]:
    groups: dict[tuple, list[RunRow]] = {}
    for run in runs:
        groups.setdefault(experiment_key(run), []).append(run)
    return list(groups.values())


def _label(runs: list[RunRow]) -> str:
    first = runs[0]
    if len(runs) == 1:
        return f"{first.name} {first.id[-6:]}"
    return f"{first.name} sweep {first.sweep_id} ({len(runs)} seeds)"


def _pool(per_run: list[dict]) -> list[tuple]:
    keys = sorted({k for values in per_run for k in values})
    out = []
    for key in keys:
        summary = summarise(values.get(key) for values in per_run)
        if summary is not None:
            out.append((key, summary))
    return out


def load_experiments(reader: StoreReader, run_ids: Iterable[str]) -> list[Experiment]:
    """The runs named (ids or unique parts of ids), grouped and pooled."""
    runs = [reader.run(run_id) for run_id in run_ids]
    unique = list({r.id: r for r in runs}.values())
    return [_experiment(reader, group) for group in group_runs(unique)]


def _experiment(reader: StoreReader, runs: list[RunRow]) -> Experiment:
    exp = Experiment(_label(runs), runs)
    accs, nets, layers = [], [], []
    results: dict[tuple[str, float], tuple[list, list]] = {}
    names: dict[int, str] = {}
    for run in runs:
        accs.append({r["epoch"]: 100 * r["test_acc"] for r in reader.epochs(run.id) if r["phase"] == DENSE})
        nets.append({r["epoch"]: r["mean_of_layers"] for r in reader.net_distances(run.id) if r["phase"] == DENSE})
        eb = next((e["epoch"] for e in reader.early_birds(run.id) if e["detector"] == "spline"), None)
        if eb is not None:
            exp.eb_epochs.append(int(eb))
        distances = [d for d in reader.layer_distances(run.id) if d["phase"] == DENSE]
        at = eb if eb is not None else max((d["epoch"] for d in distances), default=None)
        layers.append({d["layer_index"]: d["distance"] for d in distances if d["epoch"] == at})
        names.update({d["layer_index"]: d["layer"] for d in distances})
        for row in reader.results(run.id):
            if row["status"] != "ok":
                continue
            accs_macs = results.setdefault((row["pruner"], float(row["ratio"])), ([], []))
            accs_macs[0].append(100 * row["accuracy"])
            accs_macs[1].append(row["total_training_flops"])
    exp.test_acc = _pool(accs)
    exp.net = _pool(nets)
    exp.layers = [(names.get(index, str(index)), summary) for index, summary in _pool(layers)]
    exp.results = {key: (summarise(a), summarise(m)) for key, (a, m) in sorted(results.items())}
    return exp


def leaderboard(experiments: list[Experiment]) -> tuple[list[str], list[list[str]]]:
    """One table for all experiments: a row per experiment and pruner, accuracy then MACs per ratio; pooled
    cells show ``mean ±half-width`` of the 95% interval."""
    from splinebench.report.tables import format_macs

    ratios = sorted({q for exp in experiments for (p, q) in exp.results if p != DENSE})
    columns = ["experiment", "pruner", *[f"acc p={q:.0%}" for q in ratios], *[f"MACs p={q:.0%}" for q in ratios]]
    rows = []
    for exp in experiments:
        pruners = sorted({p for (p, _) in exp.results}, key=lambda p: (p != DENSE, p))
        for pruner in pruners:
            accs, macs = [], []
            for q in ratios:
                acc, cost = exp.results.get((pruner, 0.0 if pruner == DENSE else q), (None, None))
                accs.append(_cell(acc, "{:.2f}"))
                macs.append("-" if cost is None else format_macs(cost.mean))
            rows.append([exp.label, "dense (unpruned)" if pruner == DENSE else pruner, *accs, *macs])
    return columns, rows


def _cell(summary: Summary | None, fmt: str) -> str:
    if summary is None:
        return "-"
    text = fmt.format(summary.mean)
    if summary.ci_high is not None:
        text += "±" + fmt.format(summary.ci_high - summary.mean)
    return text
