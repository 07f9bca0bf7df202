"""The task graph of a sweep: which trials share a dense training, and the branches that hang off each one.

A run is a graph: dense training (with EB detection) -> tickets -> one prune + retrain + evaluate branch per
(pruner, ratio). Trials whose dense phases would emit the same events share one *dense task*: equal profiles outside
``prune.*``/``retrain.*`` (and the name, the sweep table, remote and energy settings), the same dense group (training
hook key), and the same say in the dense phase from the group's pruners — their hooks (name, options, ratios) and when
dense training may stop early (``early_bird.stop_dense``: only when no member needs the final model, after the EB
tickets the members need). So a seed's dense run is trained once for every pruner, ratio and retraining schedule
of the grid, and each trial still gets exactly the dense events a plain ``splinebench run`` of it would emit.

Each trial's event stream is a fixed sequence of *units* (RunStarted; each dense group's events; each branch's
events; RunFinished) in the order ``Pipeline.run`` emits them; the driver numbers them from that order, which is what
makes a resumed sweep write every event exactly once.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from splinebench.engine.branches import Branch, group_members, ratios_of, stop_detectors
from splinebench.engine.plan import RunPlan, resolve_plan
from splinebench.profiles import Profile
from splinebench.prune import discover
from splinebench.sweep.grid import Trial

#: profile keys that do not change a dense phase's events
NOT_DENSE = ("name", "description", "sweep", "prune", "retrain", "remote", "remote_cmd", "energy")


@dataclass(frozen=True)
class DenseTask:
    key: str
    group: str  # "" (plain) or a training-hook key
    phase: str  # "dense" or "dense:<group>"
    profile: dict[str, Any]  # the first sharing trial's profile: any of them would emit the same events
    run_ids: tuple[str, ...]  # trials that share it


@dataclass(frozen=True)
class BranchTask:
    key: str
    run_id: str
    label: str
    ratio: float
    dense_key: str
    profile: dict[str, Any]
    phase: str = ""  # the branch's phase in the trial's run plan


@dataclass(frozen=True)
class Unit:
    """A block of a trial's events, written in one transaction, in plan order."""

    kind: str  # "start" | "dense" | "branch" | "import_failed" | "finish"
    task: str = ""  # the dense or branch task whose events fill it
    label: str = ""
    ratio: float = 0.0
    phase: str = ""  # the dense phase, or the branch's retrain phase (names from the run plan)
    error: str = ""
    branch: str = ""  # branch units: the plan's "<label>@<ratio>"

    @property
    def name(self) -> str:
        if self.kind == "dense":
            return self.phase
        return self.branch if self.kind in ("branch", "import_failed") else self.kind


@dataclass
class TrialPlan:
    trial: Trial
    units: list[Unit]
    plan: RunPlan | None = None  # the trial's run plan (its RunStarted carries it)

    @property
    def run_id(self) -> str:
        return self.trial.run_id

    def dense_keys(self) -> list[str]:
        return [u.task for u in self.units if u.kind == "dense"]

    def branch_keys(self) -> list[str]:
        return [u.task for u in self.units if u.kind == "branch"]


@dataclass
class TaskGraph:
    sweep_id: str
    trials: list[TrialPlan]
    dense: dict[str, DenseTask] = field(default_factory=dict)
    branches: dict[str, BranchTask] = field(default_factory=dict)

    def trial(self, run_id: str) -> TrialPlan:
        return next(t for t in self.trials if t.run_id == run_id)

    def branches_of(self, dense_key: str) -> list[BranchTask]:
        return [b for b in self.branches.values() if b.dense_key == dense_key]


def dense_signature(profile: Profile, group: str, branches: list[Branch]) -> dict[str, Any]:
    """Everything that decides the events of the dense phase of ``group`` (see the module docstring)."""
    settings = {k: v for k, v in profile.model_dump(mode="json").items() if k not in NOT_DENSE}
    members = group_members(branches, group)
    hooked = sorted(
        json.dumps([b.entry.name, b.entry.options, ratios_of(profile, b), b.ticket], sort_keys=True)
        for b in members if b.hook is not None
    )
    return {"settings": settings, "group": group, "hooks": hooked, "stop_after": stop_detectors(profile, members)}


def dense_key(profile: Profile, group: str, branches: list[Branch]) -> str:
    text = json.dumps(dense_signature(profile, group, branches), sort_keys=True, default=str)
    digest = hashlib.sha1(text.encode()).hexdigest()[:10]
    return f"dense-seed{profile.seed}-{digest}"


def slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_.@" else "_" for c in text)


def build_graph(sweep_id: str, trials: list[Trial]) -> TaskGraph:
    """Trials -> dense tasks (shared where the signature agrees) and one branch task per (trial, pruner, ratio)."""
    registry = discover()
    graph = TaskGraph(sweep_id, [])
    for trial in trials:
        profile = trial.profile
        plan, branches = resolve_plan(profile, registry)
        units = [Unit("start")]
        for dense in plan.dense:
            group, phase = dense.group, dense.phase
            key = dense_key(profile, group, branches)
            known = graph.dense.get(key)
            run_ids = (known.run_ids if known else ()) + (trial.run_id,)
            graph.dense[key] = DenseTask(key, group, phase, known.profile if known else profile.model_dump(mode="json"),
                                         run_ids)
            units.append(Unit("dense", task=key, phase=phase))
        tag = trial.run_id.rsplit("-", 1)[-1]
        for branch, run in plan.tasks():
            if branch.error is not None:
                units.append(Unit("import_failed", label=branch.label, ratio=run.ratio, phase=run.phase,
                                  error=branch.error, branch=run.name))
                continue
            key = slug(f"{tag}-{run.name}")
            dense_task = next(u.task for u in units if u.kind == "dense" and u.phase == branch.dense_phase)
            graph.branches[key] = BranchTask(key, trial.run_id, branch.label, run.ratio, dense_task,
                                             profile.model_dump(mode="json"), run.phase)
            units.append(Unit("branch", task=key, label=branch.label, ratio=run.ratio, phase=run.phase,
                              branch=run.name))
        units.append(Unit("finish"))
        graph.trials.append(TrialPlan(trial, units, plan))
    return graph

