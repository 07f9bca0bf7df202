"""Engine overhead: one epoch through the engine (observers off) vs a bare PyTorch loop, same model and data.

Prints the wall-time ratio measured in this run (goal <= 1.03). Both loops see the same batches in the same order,
run on the same number of threads, and are timed over several repetitions (the median is used).

    .venv/bin/python benchmarks/engine_overhead.py [--model convnet-small] [--dataset mnist-5k] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from splinebench.data import load_dataset
from splinebench.engine.training import BatchSource, epoch_seed, make_optimizer, train_epoch
from splinebench.zoo import create_model


def bare_epoch(model, optimizer, x, y, batch_size, seed):
    model.train()
    order = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(seed))
    for start in range(0, x.shape[0], batch_size):
        idx = order[start : start + batch_size]
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x[idx]), y[idx])
        loss.backward()
        optimizer.step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="convnet-small")
    parser.add_argument("--dataset", default="mnist-5k")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    bundle = load_dataset(args.dataset)
    source = BatchSource(bundle.train, args.batch_size, torch.device("cpu"))
    x, y = bundle.train.tensors
    torch.manual_seed(0)
    model = create_model(args.model, bundle.num_classes, bundle.in_channels)
    optimizer = make_optimizer(model, 0.01, 0.9, 1e-4)
    engine_times, bare_times = [], []
    for rep in range(args.repeats + 1):  # the first round warms up both paths
        seed = epoch_seed(0, "dense", rep)
        timed = {}
        # alternate which path goes first, so drift in machine load does not favour either
        order = ("bare", "engine") if rep % 2 else ("engine", "bare")
        for path in order:
            t0 = time.perf_counter()
            if path == "bare":
                bare_epoch(model, optimizer, x, y, args.batch_size, seed)
            else:
                train_epoch(model, optimizer, source.batches(True, seed))
            timed[path] = time.perf_counter() - t0
        if rep:
            bare_times.append(timed["bare"])
            engine_times.append(timed["engine"])
    bare, engine = statistics.median(bare_times), statistics.median(engine_times)
    print(
        f"model {args.model} on {args.dataset}, {len(source)} samples, batch {args.batch_size}, "
        f"{torch.get_num_threads()} threads"
    )
    print(f"bare PyTorch epoch: {bare:.3f} s   engine epoch (observers off): {engine:.3f} s")
    print(f"engine / bare = {engine / bare:.3f}   (goal <= 1.03)")


if __name__ == "__main__":
    main()
