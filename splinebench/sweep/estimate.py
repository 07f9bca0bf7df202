"""Training-MAC estimates for ``--dry-run``: what the sweep will cost before it starts.

Training MACs = forward MACs per sample (fvcore, of the dense model) x training samples x 3 (forward + backward, the
engine's ``BACKWARD_FACTOR``) x epochs, plus the partition tracker's forward passes over the probe set once per
epoch (and once at initialisation). Dense phases are counted at their full epochs (an early-bird stop can only make
them cheaper); branches at the dense model's MACs (pruning can only make them cheaper): both are upper bounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from splinebench.measure.flops import BACKWARD_FACTOR, forward_cost
from splinebench.profiles import Profile, profile_from_dict
from splinebench.sweep.plan import TaskGraph


@dataclass
class Estimate:
    dense: dict[str, float] = field(default_factory=dict)  # dense task key -> training MACs
    branches: dict[str, float] = field(default_factory=dict)  # branch task key -> training MACs
    trials: dict[str, float] = field(default_factory=dict)  # run id -> dense phases in full + its branches

    @property
    def charged_once(self) -> float:
        """The sweep's cost: each shared dense phase once."""
        return sum(self.dense.values()) + sum(self.branches.values())

    @property
    def in_full(self) -> float:
        """The trials' costs added up, each with its dense phases in full (as the paper counts a single run)."""
        return sum(self.trials.values())


def _model_cost(profile: Profile, cache: dict[str, tuple[float, int]]) -> tuple[float, int]:
    """(forward MACs per sample, training samples) of the profile's model on its data."""
    from splinebench.data import load_dataset
    from splinebench.zoo import create_model

    key = repr((profile.model.model_dump(mode="json"), profile.data.model_dump(mode="json")))
    if key not in cache:
        bundle = load_dataset(profile.data.name, root=profile.data.root, **profile.data.options)
        torch.manual_seed(profile.seed)
        model = create_model(profile.model.name, num_classes=bundle.num_classes, in_channels=bundle.in_channels,
                             **profile.model.options)
        example = bundle.train[0][0].unsqueeze(0)
        cache[key] = (forward_cost(model, example).flops, len(bundle.train))
    return cache[key]


def estimate(graph: TaskGraph) -> Estimate:
    cache: dict[str, tuple[float, int]] = {}
    out = Estimate()
    step = 1.0 + BACKWARD_FACTOR
    for key, task in graph.dense.items():
        profile = profile_from_dict(task.profile)
        forward, samples = _model_cost(profile, cache)
        tracker = forward * profile.partition.probe_size * (profile.train.epochs + 1) \
            if profile.partition.enabled else 0.0
        out.dense[key] = forward * samples * step * profile.train.epochs + tracker
    for key, task in graph.branches.items():
        profile = profile_from_dict(task.profile)
        forward, samples = _model_cost(profile, cache)
        out.branches[key] = forward * samples * step * profile.retrain.epochs
    for plan in graph.trials:
        out.trials[plan.run_id] = sum(out.dense[k] for k in plan.dense_keys()) + sum(
            out.branches[k] for k in plan.branch_keys())
    return out


def macs_text(value: float) -> str:
    for unit, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.2f} {unit}MACs"
    return f"{value:.0f} MACs"


def as_dict(est: Estimate) -> dict[str, Any]:
    return {"dense": est.dense, "branches": est.branches, "trials": est.trials,
            "charged_once": est.charged_once, "in_full": est.in_full}
