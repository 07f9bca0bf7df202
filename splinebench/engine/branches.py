"""How a profile's pruner entries become the run's graph: branches, dense groups, branch order, early dense stop.

These are the rules that decide which events a run emits and in which order, so they live in one place: the
run plan (``engine/plan.py``) is resolved from them, the ``Pipeline`` keeps the live pruners and hooks they create,
and a sweep (``sweep/plan.py``) follows the same plan to split runs into shared dense tasks and branch tasks without
loading data or a model. Nothing here needs a device; names of phases and files are the plan's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from splinebench.profiles import Profile, PrunerEntry
from splinebench.prune import PluginError, Pruner, TrainingHook, create_pruner, discover


@dataclass
class Branch:
    """One pruner entry of the profile, resolved (``pruner`` is None when the plug-in failed to load)."""

    entry: PrunerEntry
    label: str
    pruner: Pruner | None
    hook: TrainingHook | None
    error: str | None = None

    @property
    def group(self) -> str:
        """The dense group: "" (plain dense training) or the key of the training hook it needs."""
        return self.hook.key if self.hook is not None else ""

    @property
    def ticket(self) -> str:
        if self.pruner is not None and self.pruner.acts_on == "init":
            return "init"
        return self.entry.ticket

    def detector(self, ratio: float) -> str:
        """Which early-bird draws this branch's "eb" ticket: the hook's own detector, else the spline EB."""
        name = self.hook.detector_for(ratio) if self.hook is not None else None
        return name or "spline"


def ratios_of(profile: Profile, branch: Branch) -> list[float]:
    """The entry's own ratios, else the profile's."""
    return list(branch.entry.ratios or profile.prune.ratios)


def resolve_branches(profile: Profile, registry: Any = None) -> list[Branch]:
    """One branch per pruner entry, in profile order; a plug-in that fails to load becomes a branch with its error.

    Each training hook is told the ratios its branch serves (a mask early bird keeps one detector per ratio).
    """
    registry = registry or discover()
    branches = []
    for entry in profile.prune.pruners:
        try:
            pruner = create_pruner(entry.name, registry, **entry.options)
            branch = Branch(entry, entry.display, pruner, pruner.training_hook())
        except (PluginError, TypeError, ValueError) as exc:
            branches.append(Branch(entry, entry.display, None, None, str(exc)))
            continue
        if branch.hook is not None:
            branch.hook.ratios = ratios_of(profile, branch)
        branches.append(branch)
    return branches


def dense_groups(branches: list[Branch]) -> list[str]:
    """Dense-training groups: the plain one first, then one per distinct training-hook key."""
    return sorted({b.group for b in branches if b.pruner is not None}, key=lambda g: (g != "", g)) or [""]


def group_members(branches: list[Branch], group: str) -> list[Branch]:
    return [b for b in branches if b.group == group and b.pruner is not None]


def branch_order(profile: Profile, branches: list[Branch]) -> list[tuple[Branch, float]]:
    """(branch, ratio) in the order the run executes and reports them."""
    return [(b, r) for b in branches for r in ratios_of(profile, b)]


def stop_detectors(profile: Profile, members: list[Branch]) -> list[str] | None:
    """The early birds whose tickets end this dense phase early (Alg. 1), or None when it runs all its epochs.

    A phase stops early only when ``early_bird.stop_dense`` is on and no member needs the final model; then it
    stops once every detector listed here has drawn its ticket (an empty list: all members act at initialisation).
    """
    if not members or not profile.early_bird.stop_dense:
        return None
    if any(b.ticket == "final" for b in members):
        return None
    return sorted({b.detector(r) for b in members if b.ticket != "init" for r in ratios_of(profile, b)})
