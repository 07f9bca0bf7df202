"""Partition tracking cost against one training epoch of the same model (goal: tracking <= 1% of an epoch).

Trains one epoch on Fashion-MNIST-sized random data (60,000 x 1 x 28 x 28, 10 classes, batch 128, SGD with
momentum) and, around it, captures the partition codes of a fixed 1,000-sample probe set twice and compares them
(``partition_distance``) and adds them to a ``DistanceMatrixRecorder``, the work an epoch-end observer does.
The ratio printed is (capture + distance) / epoch, both measured in this run; the tracker's one-off setup is shown
apart.

    .venv/bin/python benchmarks/spline_tracking.py [--model convnet-small] [--samples 60000] [--threads N]
        [--device cuda --warmup-samples 6000]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from splinebench.spline import DistanceMatrixRecorder, PartitionTracker, partition_distance
from splinebench.zoo import create_model


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train_one_epoch(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int) -> float:
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    order = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(1)).to(x.device)
    model.train()
    synchronize(x.device)
    start = time.perf_counter()
    for first in range(0, x.shape[0], batch_size):
        index = order[first : first + batch_size]
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(x[index]), y[index]).backward()
        optimizer.step()
    synchronize(x.device)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="convnet-small", help="a splinebench.zoo model name")
    parser.add_argument("--samples", type=int, default=60_000, help="training samples in the epoch")
    parser.add_argument("--probes", type=int, default=1_000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (data, model and probes live there)")
    parser.add_argument("--repeats", type=int, default=5, help="captures timed (median)")
    parser.add_argument("--warmup-samples", type=int, default=0, help="train this many samples untimed first")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(args.samples, 1, 28, 28, generator=generator)
    y = torch.randint(0, 10, (args.samples,), generator=generator)
    probes = x[torch.randperm(args.samples, generator=generator)[: args.probes]].clone().to(device)
    x, y = x.to(device), y.to(device)
    torch.manual_seed(0)
    model = create_model(args.model, num_classes=10, in_channels=1).to(device)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{torch.get_num_threads()} threads"
    print(f"torch {torch.__version__}, {where}, model {args.model}")
    if args.warmup_samples:
        train_one_epoch(model, x[: args.warmup_samples], y[: args.warmup_samples], args.batch_size)

    start = time.perf_counter()
    tracker = PartitionTracker(model, probes)
    setup = time.perf_counter() - start
    recorder = DistanceMatrixRecorder()
    before = tracker.capture()
    recorder.add(before)

    epoch_cpu = time.process_time()
    epoch = train_one_epoch(model, x, y, args.batch_size)
    epoch_cpu = time.process_time() - epoch_cpu

    # The observer's work, repeated: short timings on a shared machine are noisy, so take the median.
    captures, compares, cpu_times = [], [], []
    for _ in range(args.repeats):
        cpu = time.process_time()
        start = time.perf_counter()
        after = tracker.capture()  # returns host arrays, so the device work is finished when it does
        middle = time.perf_counter()
        distance = partition_distance(before, after)
        captures.append(middle - start)
        compares.append(time.perf_counter() - middle)
        cpu_times.append(time.process_time() - cpu)
    start = time.perf_counter()
    recorder.add(after)
    matrix_row = time.perf_counter() - start
    capture, compare = statistics.median(captures), statistics.median(compares)
    tracking = statistics.median(c + d for c, d in zip(captures, compares, strict=True))

    print(
        f"probe set: {args.probes} samples, {len(tracker.tracked_layers)} layers, "
        f"{after.bits_per_sample:,} bits/sample, {after.nbytes / 2**20:.2f} MiB/snapshot packed"
    )
    print(f"distance after one epoch: mean of layers {float(distance):.4f}, bit-weighted {distance.bit_weighted:.4f}")
    print(f"one training epoch ({args.samples} samples, batch {args.batch_size}): {epoch:.2f} s wall")
    print(f"tracker setup (once): {setup * 1e3:.1f} ms; matrix row (64 MiB recorder): {matrix_row * 1e3:.2f} ms")
    print(f"capture: {capture * 1e3:.1f} ms, distance: {compare * 1e3:.2f} ms (median of {args.repeats})")
    print(f"tracking / epoch = {tracking / epoch:.4%} wall   (goal <= 1%)")
    if device.type == "cpu":
        print(f"tracking / epoch = {statistics.median(cpu_times) / epoch_cpu:.4%} process CPU time")


if __name__ == "__main__":
    main()
