"""The run plan: the whole shape of a run, resolved once from a validated profile.

Which dense trainings a run has, every branch (pruner, label, ticket, ratios, retraining settings, options, dense
group), and what every phase, ticket file and model file is called. Names are made here and nowhere else: the
pipeline, the sweep planner and recorder, the store writer, reports and the dashboard read them from the plan (or
from the events that carry it: ``RunStarted.plan``, and ``phase`` on every per-branch event), and never format or
parse phase strings of their own.

``resolve_plan`` is what ``preflight`` calls, so a mistake in any branch (a ticket the pruner cannot use, a bad
per-pruner retraining key) is found before anything runs. The plan is plain data: ``to_dict`` gives the JSON that
``RunStarted`` carries, ``RunPlan.from_dict`` reads it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from splinebench.engine.branches import (
    Branch,
    dense_groups,
    group_members,
    ratios_of,
    resolve_branches,
    stop_detectors,
)
from splinebench.errors import BadInputError
from splinebench.profiles import Profile, RetrainSettings

INIT_TICKET = "tickets/init.pt"


def dense_phase(group: str) -> str:
    """The phase of a dense training: ``dense`` (plain) or ``dense:<training-hook key>``."""
    return "dense" if not group else f"dense:{group}"


def slug(text: str) -> str:
    """A phase or label as a file name."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)


@dataclass(frozen=True)
class BranchRun:
    """One (branch, ratio): its name, phase and the file its retrained model is saved to (relative to the run dir)."""

    ratio: float
    name: str  # "<label>@<ratio>": how tables, task keys and file names call it
    phase: str
    model_file: str
    detector: str  # the early bird whose ticket an "eb" branch uses at this ratio


@dataclass(frozen=True)
class BranchPlan:
    """One pruner entry of the profile, resolved."""

    index: int  # position in ``prune.pruners``
    pruner: str  # registered name
    label: str
    ticket: str  # "eb" | "final" | "init" (a pruner that acts at initialisation always gets "init")
    ratios: tuple[float, ...]
    retrain: dict[str, Any]  # the resolved RetrainSettings, as JSON: [retrain] with this entry's own keys over it
    options: dict[str, Any]
    group: str  # dense group: "" or the training hook's key
    runs: tuple[BranchRun, ...]
    error: str | None = None  # the plug-in could not be created: recorded as a failure of every ratio

    @property
    def dense_phase(self) -> str:
        return dense_phase(self.group)

    def retrain_settings(self) -> RetrainSettings:
        return RetrainSettings.model_validate(self.retrain)

    def run_at(self, ratio: float) -> BranchRun:
        return next(r for r in self.runs if r.ratio == ratio)


@dataclass(frozen=True)
class DensePlan:
    """One dense training: its group, phase, members and ticket files."""

    group: str
    phase: str
    members: tuple[str, ...]  # labels of the branches that start from its tickets
    stop_after: tuple[str, ...] | None  # early birds whose tickets end it early (Alg. 1); None: all epochs

    @property
    def final_ticket(self) -> str:
        return f"tickets/{slug(self.phase)}-final.pt"

    def eb_ticket(self, detector: str) -> str:
        return f"tickets/{slug(self.phase)}-eb-{slug(detector)}.pt"


@dataclass(frozen=True)
class RunPlan:
    """The run's shape: dense trainings in the order they run, then the branches in profile order."""

    dense: tuple[DensePlan, ...]
    branches: tuple[BranchPlan, ...]

    def tasks(self) -> list[tuple[BranchPlan, BranchRun]]:
        """(branch, ratio) in the order the run executes and reports them."""
        return [(b, r) for b in self.branches for r in b.runs]

    def dense_of(self, branch: BranchPlan) -> DensePlan | None:
        return next((d for d in self.dense if d.group == branch.group), None)

    def dense_group(self, group: str) -> DensePlan:
        return next(d for d in self.dense if d.group == group)

    def task(self, phase: str) -> tuple[BranchPlan, BranchRun]:
        return next((b, r) for b, r in self.tasks() if r.phase == phase)

    @property
    def branch_count(self) -> int:
        """How many (pruner, ratio) branches the run has (each entry over its own ratios)."""
        return sum(len(b.runs) for b in self.branches)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (RunStarted carries it)."""
        return {
            "dense": [{"group": d.group, "phase": d.phase, "members": list(d.members),
                       "stop_after": None if d.stop_after is None else list(d.stop_after),
                       "final_ticket": d.final_ticket} for d in self.dense],
            "branches": [{"index": b.index, "pruner": b.pruner, "label": b.label, "ticket": b.ticket,
                          "ratios": list(b.ratios), "retrain": b.retrain, "options": b.options, "group": b.group,
                          "dense_phase": b.dense_phase, "error": b.error,
                          "runs": [{"ratio": r.ratio, "name": r.name, "phase": r.phase, "model_file": r.model_file,
                                    "detector": r.detector} for r in b.runs]} for b in self.branches],
            "branch_count": self.branch_count,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunPlan:
        dense = tuple(DensePlan(d["group"], d["phase"], tuple(d["members"]),
                                None if d["stop_after"] is None else tuple(d["stop_after"])) for d in data["dense"])
        branches = tuple(
            BranchPlan(b["index"], b["pruner"], b["label"], b["ticket"], tuple(b["ratios"]), b["retrain"],
                       b["options"], b["group"], tuple(BranchRun(**r) for r in b["runs"]), b.get("error"))
            for b in data["branches"]
        )
        return cls(dense, branches)


def plan_branches(profile: Profile, branches: list[Branch]) -> RunPlan:
    """The plan of already-resolved branches (the pipeline keeps the branches: they hold live pruners and hooks)."""
    base = profile.retrain.model_dump(mode="json")
    planned = []
    for index, b in enumerate(branches):
        ratios = tuple(ratios_of(profile, b))
        retrain = RetrainSettings.model_validate({**base, **b.entry.retrain}).model_dump(mode="json")
        runs = tuple(_branch_run(b, r) for r in ratios)
        planned.append(BranchPlan(index, b.entry.name, b.label, b.ticket, ratios, retrain, dict(b.entry.options),
                                  b.group if b.pruner is not None else "", runs, b.error))
    dense = []
    for group in dense_groups(branches):
        members = group_members(branches, group)
        stop = stop_detectors(profile, members)
        dense.append(DensePlan(group, dense_phase(group), tuple(m.label for m in members),
                               None if stop is None else tuple(stop)))
    return RunPlan(tuple(dense), tuple(planned))


def _branch_run(branch: Branch, ratio: float) -> BranchRun:
    name = f"{branch.label}@{ratio:g}"
    return BranchRun(ratio, name, f"retrain:{name}", f"models/{slug(name)}.pt", branch.detector(ratio))


def resolve_plan(profile: Profile, registry: Any = None) -> tuple[RunPlan, list[Branch]]:
    """Resolve every branch of ``profile`` and check what only a resolved branch can tell (bad input: exit 2)."""
    branches = resolve_branches(profile, registry)
    for index, b in enumerate(branches):
        where = f"prune.pruners[{index}] ({b.label})"
        if b.pruner is not None and b.pruner.acts_on == "init" and b.entry.ticket == "eb":
            raise BadInputError(f"{where}: ticket = 'eb', but pruner {b.entry.name!r} acts at initialisation and "
                                "never uses a trained ticket (drop `ticket`, or use a pruner that acts on a "
                                "trained model)")
        if b.pruner is not None and b.entry.ticket == "eb" and not profile.early_bird.enabled and (
                b.hook is None or b.hook.detector is None):
            raise BadInputError(f"{where}: ticket = 'eb' needs an early bird, but early_bird.enabled = false and "
                                f"pruner {b.entry.name!r} has none of its own (enable it or use ticket = 'final')")
    return plan_branches(profile, branches), branches
