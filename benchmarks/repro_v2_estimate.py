"""Estimate the idle-machine wall time of the reproduction v2 sweeps (issue 18) from a timed trial.

The trial (benchmarks/data/repro-v2-trial-cpu.json) measured CPU seconds per epoch of every phase of the v2 setting
on a loaded machine. This script counts, per profile, the epochs each sweep will train (dense phases once per seed
and dense group, as the sweep shares them; each pruner entry's retraining at each of its ratios), prices them with
the trial's per-epoch CPU, and turns CPU into idle wall time with one factor: the v1 profile (repro-fmnist-vgg-cpu),
priced the same way, took 15.1 minutes on 2 idle cores. That factor folds in both the contention that inflates the
trial's CPU time and the speed of two threads; the sweep's two one-thread workers are assumed no faster than one
two-thread process (docs/sweeps.md measured 1.22x on a small model, less on larger ones), so the estimate errs long.

    .venv/bin/python benchmarks/repro_v2_estimate.py [PROFILE...]
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from splinebench.profiles import Profile, PrunerEntry, load_profile  # noqa: E402
from splinebench.sweep.grid import expand, grid_axes  # noqa: E402

COSTS = ROOT / "benchmarks" / "data" / "repro-v2-trial-cpu.json"
CALIBRATION_PROFILE = ROOT / "profiles" / "repro-fmnist-vgg-cpu.toml"
DEFAULT_PROFILES = [ROOT / "profiles" / "repro-v2-fmnist-vgg-cpu.toml",
                    ROOT / "profiles" / "repro-v2-ablation-cpu.toml"]
#: pruners that train their own dense run (network slimming's L1 on BN gamma)
OWN_DENSE = ("ns", "eb-mask")


def cost_key(entry: PrunerEntry) -> str:
    """Which measured method an entry's retraining costs like: a pruned model's size depends on the method.

    Every PCA dimension is priced like the measured one (the smallest): a dimension changes which channels go,
    not how many, so the pruned model's MACs move a little either way.
    """
    if entry.name != "spline":
        return "eb-mask" if entry.name == "eb-mask" else entry.name
    options = entry.options
    if options.get("scope", "layerwise") != "global":
        return "spline"
    return "spline-global-fa" if options.get("reducer", "pca") == "fa" else "spline-global"


def trial_profiles(profile: Profile, source: str) -> list[Profile]:
    return [trial.profile for trial in expand(profile, grid_axes(profile, [], source), "estimate", source)]


def cpu_seconds(profiles: Iterable[Profile], costs: dict) -> tuple[float, dict[str, float]]:
    """CPU seconds of the profiles' trials run as one sweep (dense phases shared per seed and group)."""
    dense_groups: set[tuple[int, str]] = set()
    parts = {"dense": 0.0, "retrain": 0.0}
    for profile in profiles:
        for seed in profile.seeds:
            for entry in profile.prune.pruners:
                group = f"l1:{entry.options.get('sparsity', 1e-4)}" if entry.name in OWN_DENSE else "plain"
                if (seed, group) not in dense_groups:
                    dense_groups.add((seed, group))
                    parts["dense"] += profile.train.epochs * costs["dense_epoch_cpu_s"]
                epochs = int(entry.retrain.get("epochs", profile.retrain.epochs))
                per_ratio = costs["retrain_epoch_cpu_s"][cost_key(entry)]
                for ratio in entry.ratios or profile.prune.ratios:
                    parts["retrain"] += epochs * per_ratio[f"{ratio:g}"]
    return sum(parts.values()), parts


def estimate(path: Path, costs: dict, factor: float) -> str:
    profile = load_profile(path)
    trials = trial_profiles(profile, str(path))
    total, parts = cpu_seconds(trials, costs)
    minutes = total * factor / 60
    return (f"{path.name}: {len(trials)} trials; trial-CPU {total:,.0f} s (dense {parts['dense']:,.0f}, retrain "
            f"{parts['retrain']:,.0f}) -> about {minutes:.0f} min on 2 idle cores "
            f"({minutes / 1.22:.0f} min if two workers gain the 1.22x of docs/sweeps.md)")


def main(argv: list[str]) -> None:
    costs = json.loads(COSTS.read_text())
    calibration, _ = cpu_seconds([load_profile(CALIBRATION_PROFILE)], costs)
    factor = costs["calibration"]["idle_wall_s"] / calibration
    print(f"calibration: {CALIBRATION_PROFILE.name} priced at {calibration:,.0f} trial-CPU s, measured "
          f"{costs['calibration']['idle_wall_s'] / 60:.1f} min idle -> {factor:.3f} idle wall s per trial-CPU s")
    for path in [Path(p) for p in argv] or DEFAULT_PROFILES:
        print(estimate(path, costs, factor))


if __name__ == "__main__":
    main(sys.argv[1:])
