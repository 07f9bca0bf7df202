"""Measured inference latency of a pruned model against its dense twin: the speed-up FLOPs only promise.

FLOPs are not speed (a masked model computes every zero; a thinner conv may not map to faster kernels), so every
result also gets a wall-clock comparison on the run's own device. Both models run in eval mode under ``no_grad`` on
the same batch; after ``warmup`` calls each, they are timed in *alternating* rounds (dense, pruned, dense, ...), so a
neighbour's load on a shared machine hits both alike. Each round times ``number`` calls with
``torch.utils.benchmark.Timer`` on a CPU (it fixes the thread count and synchronises as needed) and with CUDA events
on a GPU. The median over rounds is the latency, the inter-quartile range its spread, and the speed-up is the median
of the per-round ratios dense / pruned, with its IQR. A masked (unstructured) model does the dense work plus the
masking, so it honestly shows about 1.0x (or below).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class LatencyComparison:
    """Per-batch latencies (ms) of the dense and the pruned model, and the speed-up, each with its IQR."""

    dense_ms: float
    dense_iqr_ms: float
    pruned_ms: float
    pruned_iqr_ms: float
    speedup: float
    speedup_iqr: float
    batch: int
    repeats: int
    device: str
    method: str

    def event_fields(self) -> dict[str, float | int | str]:
        """The optional fields of an ``Evaluated`` event."""
        return {
            "latency_ms": self.pruned_ms, "latency_iqr_ms": self.pruned_iqr_ms, "dense_latency_ms": self.dense_ms,
            "speedup": self.speedup, "speedup_iqr": self.speedup_iqr, "latency_batch": self.batch,
            "latency_repeats": self.repeats, "latency_method": self.method,
        }


def latency_batch(example: torch.Tensor, batch: int) -> torch.Tensor:
    """``batch`` inputs shaped like ``example``'s rows (rows repeated when the example has fewer)."""
    reps = -(-batch // example.shape[0])
    return example.repeat(reps, *([1] * (example.dim() - 1)))[:batch].contiguous()


def _iqr(values: list[float]) -> float:
    if len(values) < 2:
        return 0.0
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[2] - q[0]


def _round_timer(model: nn.Module, x: torch.Tensor, number: int) -> Callable[[], float]:
    """One timed round: seconds per call, averaged over ``number`` calls."""
    if x.device.type == "cuda":
        def cuda_round() -> float:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(number):
                model(x)
            end.record()
            torch.cuda.synchronize(x.device)
            return start.elapsed_time(end) / 1000.0 / number

        return cuda_round
    from torch.utils.benchmark import Timer

    timer = Timer(stmt="model(x)", globals={"model": model, "x": x}, num_threads=torch.get_num_threads())
    return lambda: timer.timeit(number).mean


def compare_latency(dense: nn.Module, pruned: nn.Module, x: torch.Tensor, *, repeats: int = 5, warmup: int = 2,
                    round_seconds: float = 0.05) -> LatencyComparison:
    """Time ``dense`` and ``pruned`` on batch ``x`` in ``repeats`` alternating rounds after ``warmup`` calls."""
    models = (dense, pruned)
    states = [m.training for m in models]
    for m in models:
        m.eval()
    try:
        with torch.no_grad():
            for m in models:
                for _ in range(warmup):
                    m(x)
            if x.device.type == "cuda":
                torch.cuda.synchronize(x.device)
            t0 = time.perf_counter()
            dense(x)
            if x.device.type == "cuda":
                torch.cuda.synchronize(x.device)
            one_call = max(time.perf_counter() - t0, 1e-6)
            number = max(1, min(50, round(round_seconds / one_call)))
            rounds = [_round_timer(m, x, number) for m in models]
            times: tuple[list[float], list[float]] = ([], [])
            for _ in range(repeats):
                for i, timed in enumerate(rounds):
                    times[i].append(timed())
    finally:
        for m, state in zip(models, states, strict=True):
            m.train(state)
    ratios = [d / p for d, p in zip(times[0], times[1], strict=True)]
    ms = [[1000.0 * t for t in series] for series in times]
    method = "cuda-events" if x.device.type == "cuda" else "torch.utils.benchmark.Timer"
    return LatencyComparison(
        dense_ms=statistics.median(ms[0]), dense_iqr_ms=_iqr(ms[0]),
        pruned_ms=statistics.median(ms[1]), pruned_iqr_ms=_iqr(ms[1]),
        speedup=statistics.median(ratios), speedup_iqr=_iqr(ratios),
        batch=int(x.shape[0]), repeats=repeats, device=str(x.device), method=f"{method} x{number}/round",
    )
