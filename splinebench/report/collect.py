"""Runs read from the store and pooled into *settings*: runs of one profile that differ only in their seed.

The paper averages every number over several runs of one setting. A run records its fully resolved profile, so two
runs belong to the same setting exactly when their stored profiles are equal once ``seeds`` is removed (the CLI
runs each seed of a profile as its own run, with ``seeds = [that seed]``; a sweep also records its trial bookkeeping,
which is not part of the setting either). Everything here reads the store only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from splinebench.errors import BadInputError
from splinebench.store import StoreReader
from splinebench.store.reader import RunRow

#: The pruner whose labels form "our" family in the tables (Spline, EB Spline, rho variants).
SPLINE_PRUNER = "spline"
#: Network slimming, the reference of Table 1's "Improv." column.
NS_PRUNER = "ns"
#: The plain dense phase: the spline EB detector and the partition distances live here.
DENSE_PHASE = "dense"


def entry_label(entry: dict[str, Any]) -> str:
    """The label a profile's pruner entry is stored under (``PrunerEntry.display``)."""
    if entry.get("label"):
        return str(entry["label"])
    name = str(entry["name"])
    return f"eb-{name}" if entry.get("ticket", "final") == "eb" and not name.startswith("eb-") else name


@dataclass
class RunData:
    """One run: its row, resolved profile and the projections the tables and figures need."""

    row: RunRow
    profile: dict[str, Any]
    results: list[dict[str, Any]]
    layer_distances: list[dict[str, Any]]
    early_birds: list[dict[str, Any]]
    phases: list[dict[str, Any]]
    epochs: list[dict[str, Any]]
    net_distances: list[dict[str, Any]] = field(default_factory=list)
    plans: list[dict[str, Any]] = field(default_factory=list)
    environment: dict[str, Any] | None = None  # RunStarted's fingerprint; None for runs recorded before it

    @property
    def id(self) -> str:
        return self.row.id

    @property
    def seed(self) -> int:
        return self.row.seed

    def result(self, pruner: str, ratio: float) -> dict[str, Any] | None:
        for r in self.results:
            if r["pruner"] == pruner and abs(r["ratio"] - ratio) < 1e-9:
                return r
        for r in self.results:  # a pruner that failed before any ratio is stored once, at ratio -1
            if r["pruner"] == pruner and r["ratio"] < 0:
                return r
        return None

    def plan(self, pruner: str, ratio: float) -> dict[str, Any] | None:
        return next((p for p in self.plans if p["pruner"] == pruner and abs(p["ratio"] - ratio) < 1e-9), None)

    def dense_result(self) -> dict[str, Any] | None:
        return next((r for r in self.results if r["pruner"] == "dense"), None)

    def planned_dense_epochs(self) -> int:
        for phase in self.phases:
            if phase["phase"] == DENSE_PHASE and phase.get("planned_epochs"):
                return int(phase["planned_epochs"])
        return int(self.row.planned_epochs or self.profile.get("train", {}).get("epochs") or 0)


def load_run(reader: StoreReader, run_id: str) -> RunData:
    """Everything one run contributes; an unknown or ambiguous id raises the reader's BadInputError."""
    row = reader.run(run_id)
    return RunData(
        row=row, profile=reader.profile(row.id), results=reader.results(row.id),
        layer_distances=reader.layer_distances(row.id), early_birds=reader.early_birds(row.id),
        phases=reader.phases(row.id), epochs=reader.epochs(row.id), net_distances=reader.net_distances(row.id),
        plans=reader.plans(row.id), environment=reader.environment(row.id),
    )


#: Profile keys that say which seed or sweep trial a run was, not what was run: left out of a setting's key.
NOT_SETTING = ("seeds", "sweep")


def setting_key(profile: dict[str, Any]) -> str:
    """The profile without its seeds (and sweep bookkeeping), as canonical JSON: equal keys mean one setting.

    A sweep trial's profile carries ``sweep = {id, trial, point}``, whose trial index and point (seed included)
    differ from seed to seed; the grid point's values are already applied to the profile (and its name), so
    dropping the table pools a grid point's seeds, also across sweeps (part runs, a re-run).
    """
    rest = {k: v for k, v in profile.items() if k not in NOT_SETTING}
    return json.dumps(rest, sort_keys=True, default=str)


@dataclass
class Setting:
    """Runs of one profile (seeds pooled), in the order they were asked for."""

    key: str
    runs: list[RunData] = field(default_factory=list)
    id: str = ""

    @property
    def profile(self) -> dict[str, Any]:
        return self.runs[0].profile

    @property
    def name(self) -> str:
        return str(self.profile.get("name", "unnamed"))

    @property
    def title(self) -> str:
        first = self.runs[0].row
        seeds = ", ".join(str(r.seed) for r in self.runs)
        plural = "s" if len(self.runs) > 1 else ""
        return f"{self.name}: {first.model} on {first.dataset}, seed{plural} {seeds}"

    @property
    def entries(self) -> list[dict[str, Any]]:
        return list(self.profile.get("prune", {}).get("pruners", []))

    @property
    def ratios(self) -> list[float]:
        found: set[float] = set()
        for run in self.runs:
            found.update(r["ratio"] for r in run.results if r["pruner"] != "dense" and r["ratio"] > 0)
        if not found:
            found.update(float(r) for r in self.profile.get("prune", {}).get("ratios", []))
        return sorted(found)

    def labels(self) -> list[str]:
        """Pruner labels in profile order, then any the store holds that the profile does not name."""
        labels = [entry_label(e) for e in self.entries]
        for run in self.runs:
            for r in run.results:
                if r["pruner"] != "dense" and r["pruner"] not in labels:
                    labels.append(r["pruner"])
        return labels

    def pruner_name(self, label: str) -> str:
        """The registered pruner behind a label (``eb-spline`` -> ``spline``); the label itself if unknown."""
        for entry in self.entries:
            if entry_label(entry) == label:
                return str(entry["name"])
        return label

    def entry(self, label: str) -> dict[str, Any] | None:
        return next((e for e in self.entries if entry_label(e) == label), None)

    def spline_labels(self) -> list[str]:
        return [label for label in self.labels() if self.pruner_name(label) == SPLINE_PRUNER]

    def baseline_labels(self) -> list[str]:
        return [label for label in self.labels() if self.pruner_name(label) != SPLINE_PRUNER]

    def ns_label(self) -> str | None:
        """The network-slimming label for Table 1's reference column (the final-model one if there are several)."""
        labels = [label for label in self.labels() if self.pruner_name(label) == NS_PRUNER]
        finals = [label for label in labels if (self.entry(label) or {}).get("ticket", "final") == "final"]
        return (finals or labels or [None])[0]


def group_settings(runs: Sequence[RunData]) -> list[Setting]:
    """Pool runs into settings, keeping the order in which each setting first appears."""
    settings: dict[str, Setting] = {}
    for run in runs:
        if any(run.id == other.id for s in settings.values() for other in s.runs):
            continue  # the same run named twice
        key = setting_key(run.profile)
        settings.setdefault(key, Setting(key)).runs.append(run)
    out = list(settings.values())
    names = [s.name for s in out]
    for s in out:
        digest = hashlib.sha1(s.key.encode()).hexdigest()[:6]
        s.id = s.name if names.count(s.name) == 1 else f"{s.name}-{digest}"
    return out


def expand_sweeps(reader: StoreReader, ids: Sequence[str]) -> list[str]:
    """Run ids, with a sweep id replaced by its trials' runs (in trial order): ``report SWEEP_ID`` reports a sweep."""
    by_sweep: dict[str, list[str]] = {}
    for row in reader.runs():
        if row.sweep_id:
            by_sweep.setdefault(row.sweep_id, []).append(row.id)
    out: list[str] = []
    for given in ids:
        out.extend(sorted(by_sweep[given]) if given in by_sweep else [given])
    return out


def load_settings(reader: StoreReader, run_ids: Sequence[str]) -> list[Setting]:
    """Read the runs (or every run of a sweep id) and pool them; at least one id is needed."""
    if not run_ids:
        raise BadInputError("give at least one RUN_ID (see `splinebench runs list`)")
    return group_settings([load_run(reader, run_id) for run_id in expand_sweeps(reader, run_ids)])
