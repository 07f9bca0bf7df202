"""Local executor: 2 worker processes vs 1 on the same grid (goal >= 1.7x on 2 cores).

Workers x torch threads stay within the cores (1 worker gets 2 threads, 2 workers 1 each), as the executor sets them.
Both sweeps are timed from planning to summary, worker start-up included; the ratio printed is measured in this run.

    .venv/bin/python benchmarks/sweep_workers.py [--seeds 0,1] [--ratios [0.3],[0.5]] [--epochs 4]
"""

from __future__ import annotations

from sweep_common import arguments, best_of, warm_up


def main() -> None:
    args = arguments(__doc__.splitlines()[0], seeds="0,1", ratios="[0.3],[0.5]", retrain_epochs=2, repeats=2)
    warm_up(args)
    times = best_of(args, {"one": {"workers": 1}, "two": {"workers": 2}})
    one, two = times["one"], times["two"]
    print(f"grid {args.seeds} x {args.ratios} on {args.dataset}, best of {args.repeats}; threads per task: "
          f"{args.threads or 'cores / workers'}")
    print(f"1 worker {one:.1f}s, 2 workers {two:.1f}s -> speed-up {one / two:.2f}x (goal >= 1.7x on 2 cores)")


if __name__ == "__main__":
    main()
