"""Local executor: 2 worker processes vs 1 on the same grid (goal >= 1.7x on 2 cores).

Workers x torch threads stay within the cores (1 worker gets 2 threads, 2 workers 1 each), as the executor sets them.
Both sweeps are timed from planning to summary, worker start-up included; the ratio printed is measured in this run.

    .venv/bin/python benchmarks/sweep_workers.py [--seeds 0,1] [--ratios [0.3],[0.5]] [--epochs 4]
"""

from __future__ import annotations

from sweep_common import arguments, timed_sweep


def main() -> None:
    args = arguments(__doc__.splitlines()[0], seeds="0,1", ratios="[0.3],[0.5]", retrain_epochs=2)
    one, outcome, _ = timed_sweep(args, workers=1)
    two, _, _ = timed_sweep(args, workers=2)
    tasks = len(outcome.summary["dense_tasks"]) + len(outcome.summary["branch_tasks"])
    print(f"{len(outcome.summary['trials'])} trials, {tasks} tasks on {args.dataset}")
    print(f"1 worker {one:.1f}s, 2 workers {two:.1f}s -> speed-up {one / two:.2f}x (goal >= 1.7x on 2 cores)")


if __name__ == "__main__":
    main()
