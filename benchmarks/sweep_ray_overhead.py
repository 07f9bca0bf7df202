"""Ray executor vs local executor on the same grid and parallelism (goal: Ray overhead <= 10%).

A private Ray instance (127.0.0.1, as many CPUs as workers) is started first and its start-up timed apart; then the
same sweep runs on the local pool and on Ray, each with cold workers (both pay their processes' imports). Prints the
wall-time overhead of Ray over local measured in this run.

    .venv/bin/python benchmarks/sweep_ray_overhead.py [--workers 2] [--seeds 0,1] [--ratios [0.3],[0.5]]
"""

from __future__ import annotations

import os
import sys
import time

from sweep_common import arguments, best_of, warm_up


def main() -> None:
    args = arguments(__doc__.splitlines()[0], seeds="0,1", ratios="[0.3],[0.5]", retrain_epochs=2, repeats=2)
    workers = args.workers
    warm_up(args)
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        import ray
    except ImportError:
        sys.exit("this benchmark needs Ray: pip install splinebench[ray]")
    t0 = time.perf_counter()
    ray.init(address="local", num_cpus=workers, include_dashboard=False, _node_ip_address="127.0.0.1",
             log_to_driver=False, logging_level="warning")
    start_s = time.perf_counter() - t0
    try:
        times = best_of(args, {"local": {"workers": workers}, "ray": {"workers": workers, "executor": "ray"}})
    finally:
        ray.shutdown()
    local, on_ray = times["local"], times["ray"]
    print(f"grid {args.seeds} x {args.ratios} on {args.dataset}, {workers} workers, best of {args.repeats}; "
          f"Ray instance start {start_s:.1f}s (not counted below)")
    print(f"local {local:.1f}s, ray {on_ray:.1f}s -> ray overhead {100 * (on_ray / local - 1):+.1f}% (goal <= 10%)")


if __name__ == "__main__":
    main()
