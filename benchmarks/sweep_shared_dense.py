"""Shared dense phase vs independent runs: the same trials as one sweep and as separate `splinebench run`s.

Trials differing only in their pruning ratios share one dense training in a sweep. Prints, measured in this run:
the training-MAC ratio (independent runs / sweep, MACs charged once) and the wall-time ratio (independent / sweep),
with the sweep on one worker so that only sharing, not parallelism, separates them. The independent runs are timed
twice: as `splinebench run` processes (what a user would type) and in this process (no start-up cost at all).

    .venv/bin/python benchmarks/sweep_shared_dense.py [--dataset mnist-5k] [--epochs 4] [--ratios [0.3],[0.5],[0.7]]
"""

from __future__ import annotations

import subprocess
import sys
import time

from sweep_common import QUICKSTART, arguments, fresh_dir, grid, overrides, phase_macs, timed_sweep, warm_up

from splinebench.engine.run import execute
from splinebench.sweep.driver import SweepRequest, plan_sweep


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    threads = args.threads or 2
    args.threads = threads  # the same torch threads for the sweep's one worker and every independent run
    warm_up(args)
    sweep_s, outcome, _ = timed_sweep(args, workers=1)
    charged = outcome.summary["training_macs"]["charged_once"]

    plan = plan_sweep(SweepRequest(store=str(fresh_dir("plan-") / "p.sqlite"), profile=QUICKSTART,
                                   overrides=overrides(args), grid=grid(args)))
    cli_store = str(fresh_dir("indep-cli-") / "store.sqlite")
    t0 = time.perf_counter()
    for trial in plan.trials:
        sets = [*overrides(args), f"seeds=[{trial.profile.seed}]", f"prune.ratios={trial.profile.prune.ratios}"]
        command = [sys.executable, "-m", "splinebench.cli.app", "run", QUICKSTART, "--store", cli_store]
        for s in sets:
            command += ["--set", s]
        subprocess.run(command, check=True, capture_output=True)
    cli_s = time.perf_counter() - t0

    inproc_store = str(fresh_dir("indep-inproc-") / "store.sqlite")
    t0 = time.perf_counter()
    for trial in plan.trials:
        execute(trial.profile, inproc_store)
    inproc_s = time.perf_counter() - t0

    independent = phase_macs(cli_store)
    print(f"{len(plan.trials)} trials, {len(plan.graph.dense)} shared dense phase(s), {len(plan.graph.branches)} "
          f"branches; {args.dataset}, {args.epochs} dense + {args.retrain_epochs} retrain epoch(s), "
          f"{threads} thread(s)")
    print(f"training MACs: independent runs {independent:.4g}, sweep (dense charged once) {charged:.4g} "
          f"-> ratio {independent / charged:.2f}x  (sweep's in-full sum: "
          f"{outcome.summary['training_macs']['trials_in_full']:.4g})")
    print(f"wall time: sweep (1 worker) {sweep_s:.1f}s; independent `splinebench run`s {cli_s:.1f}s -> "
          f"{cli_s / sweep_s:.2f}x; independent in-process {inproc_s:.1f}s -> {inproc_s / sweep_s:.2f}x")


if __name__ == "__main__":
    main()
