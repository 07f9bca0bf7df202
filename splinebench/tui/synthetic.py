"""A synthetic run written event by event, as the engine would write it: for the benchmark, tests and demos.

The events are plain dicts in the engine's wire format (``splinebench.engine.events``), handed to
``StoreWriter.write`` so every projection table fills exactly as in a real run. Distances shrink like a
training run's do (large at first, then settling), so the EB rule fires at a believable epoch. Nothing here
imports torch or the engine.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

Event = dict[str, Any]


class SyntheticRun:
    """Yields the events of one run with ``layers`` tracked layers over ``epochs`` dense epochs."""

    def __init__(self, run_id: str = "synthetic-run", layers: int = 100, epochs: int = 160, eps: float = 0.05,
                 window: int = 2, ratios: tuple[float, ...] = (0.3, 0.5, 0.7), seed: int = 0,
                 t0: float = 1_700_000_000.0, pid: int = 0, host: str = "synthetic-host") -> None:
        self.run_id = run_id
        self.layers = [f"features.{n // 2}.conv{n % 2}" for n in range(layers)]
        self.epochs = epochs
        self.eps = eps
        self.window = window
        self.ratios = ratios
        self.rng = random.Random(seed)
        self.t = t0
        self.pid = pid
        self.host = host
        self.seq = 0
        self.fifo: list[float] = []
        self.fired: int | None = None

    def _event(self, type_: str, **fields: Any) -> Event:
        self.seq += 1
        self.t += 0.5
        return {"run_id": self.run_id, "seq": self.seq, "ts": self.t, "type": type_, **fields}

    def profile(self) -> dict[str, Any]:
        return {
            "name": "synthetic", "model": {"name": "synthetic-net"}, "data": {"name": "synthetic"},
            "train": {"epochs": self.epochs},
            "early_bird": {"enabled": True, "eps": self.eps, "window": self.window, "anchor": "consecutive",
                           "distance": "mean-of-layers", "layers": ["*"]},
            "prune": {"ratios": list(self.ratios)},
        }

    def plan(self) -> dict[str, Any]:
        """The run plan its RunStarted carries (``engine.plan.RunPlan.to_dict()``'s shape): the branches, their
        phases; the events below take every phase name from here."""
        branches = []
        for index, (label, ticket) in enumerate((("spline", "final"), ("eb-spline", "eb"))):
            runs = [{"ratio": r, "name": f"{label}@{r:g}", "phase": f"retrain:{label}@{r:g}",
                     "model_file": f"models/{label}@{r:g}.pt", "detector": "spline"} for r in self.ratios]
            branches.append({"index": index, "pruner": "spline", "label": label, "ticket": ticket,
                             "ratios": list(self.ratios), "retrain": {"epochs": 1}, "options": {}, "group": "",
                             "dense_phase": "dense", "error": None, "runs": runs})
        return {"dense": [{"group": "", "phase": "dense", "members": ["spline", "eb-spline"], "stop_after": None,
                           "final_ticket": "tickets/dense-final.pt"}],
                "branches": branches, "branch_count": sum(len(b["runs"]) for b in branches)}

    def start(self) -> Iterator[Event]:
        yield self._event(
            "run_started", name="synthetic", profile=self.profile(), versions={"splinebench": "synthetic"},
            model="synthetic-net", dataset="synthetic", seed=0, device="cpu", host=self.host, pid=self.pid,
            results_dir="", pruners=["spline", "eb-spline"], ratios=list(self.ratios),
            planned_epochs=self.epochs, plan=self.plan(),
        )
        yield self._event("model_flops", tag="dense", params=1_000_000, flops=5.0e8, unsupported_ops={})
        yield self._event("phase_started", phase="dense", kind="dense", epochs=self.epochs)
        yield self._event("distance_matrix_row", phase="dense", epoch=0, distances=[], subsampled=False)

    def _distance(self, layer: int, epoch: int) -> float:
        settle = math.exp(-epoch / (12 + layer % 7))
        return max(0.0, 0.5 * settle + 0.01 * self.rng.random())

    def epoch(self, epoch: int) -> Iterator[Event]:
        """The events of one dense epoch: metrics, per-layer distances, a matrix row, maybe the EB ticket."""
        acc = 0.95 - 0.85 * math.exp(-epoch / 20)
        yield self._event(
            "epoch_finished", phase="dense", epoch=epoch, train_loss=2.3 * (1 - acc), train_acc=acc,
            test_loss=2.4 * (1 - acc), test_acc=acc - 0.02, lr=0.1, seconds=1.0, samples=50_000,
            training_flops=1.5e14,
        )
        per_layer = {name: self._distance(i, epoch) for i, name in enumerate(self.layers)}
        mean = sum(per_layer.values()) / len(per_layer)
        yield self._event("partition_distances", phase="dense", epoch=epoch, per_layer=per_layer,
                          mean_of_layers=mean, bit_weighted=mean * 1.05)
        row = [0.5 * abs(math.exp(-j / 15) - math.exp(-epoch / 15)) + 0.5 * mean for j in range(epoch)]
        yield self._event("distance_matrix_row", phase="dense", epoch=epoch, distances=row, subsampled=False)
        self.fifo = [*self.fifo, mean][-self.window:]
        if self.fired is None and len(self.fifo) == self.window and max(self.fifo) < self.eps:
            self.fired = epoch
            yield self._event("early_bird_fired", detector="spline", phase="dense", epoch=epoch, eps=self.eps,
                              window=self.window, fifo=list(self.fifo))

    def finish(self) -> Iterator[Event]:
        """Dense phase end, pruning, one retrain epoch per branch, results."""
        yield self._event("phase_finished", phase="dense", epochs=self.epochs, seconds=160.0,
                          training_flops=1.5e14 * self.epochs)
        dense_total = 1.5e14 * self.epochs
        yield self._event("evaluated", pruner="dense", ratio=0.0, accuracy=0.93, loss=0.2, ticket="final",
                          eb_epoch=self.fired, dense_training_flops=dense_total, retrain_training_flops=0.0,
                          total_training_flops=dense_total, params=1_000_000, flops=5.0e8)
        for branch in self.plan()["branches"]:
            label = branch["label"]
            for run in branch["runs"]:
                ratio, phase = run["ratio"], run["phase"]
                dense_epochs = self.fired if label == "eb-spline" and self.fired else self.epochs
                yield self._event("model_pruned", pruner=label, ratio=ratio, params_before=1_000_000,
                                  params_after=int(1_000_000 * (1 - ratio)), flops_before=5.0e8,
                                  flops_after=5.0e8 * (1 - ratio), phase=phase)
                yield self._event("phase_started", phase=phase, kind="retrain", epochs=1, pruner=label,
                                  ratio=ratio)
                yield self._event("epoch_finished", phase=phase, epoch=1, train_loss=0.3, train_acc=0.9,
                                  test_loss=0.35, test_acc=0.9 - ratio / 10, lr=0.01, seconds=1.0,
                                  samples=50_000, training_flops=1.5e14 * (1 - ratio))
                yield self._event("phase_finished", phase=phase, epochs=1, seconds=1.0,
                                  training_flops=1.5e14 * (1 - ratio))
                dense = 1.5e14 * dense_epochs
                retrain = 1.5e14 * (1 - ratio)
                yield self._event("evaluated", pruner=label, ratio=ratio, accuracy=0.9 - ratio / 10,
                                  loss=0.35,
                                  ticket="eb" if label == "eb-spline" else "final",
                                  eb_epoch=self.fired if label == "eb-spline" else None,
                                  dense_training_flops=dense, retrain_training_flops=retrain,
                                  total_training_flops=dense + retrain, params=int(1_000_000 * (1 - ratio)),
                                  flops=5.0e8 * (1 - ratio), phase=phase)
        yield self._event("run_finished", seconds=200.0, summary={})

    def dense_energy(self) -> Event:
        """What a meter's phase window for dense training looks like (``EnergyWindows`` emits these)."""
        return self._event("energy_measured", window="phase", phase="dense", epoch=None, t0=self.t - 100,
                           t1=self.t, joules=1234.5, mean_power_w=12.3, idle_power_w=4.0, net_joules=834.5,
                           provenance={"meter": "synthetic", "method": "integrated samples"})

    def power_samples(self, count: int) -> list[SimpleNamespace]:
        """Raw meter samples for ``StoreWriter.write_power_samples``: two rails and their total, in mW."""
        return [SimpleNamespace(t=self.t + n * 0.1, total_mw=9000.0 + 100 * (n % 5),
                                rails_mw={"VDD_CPU": 5000.0 + 100 * (n % 5), "VDD_GPU": 4000.0})
                for n in range(count)]

    def all_events(self) -> Iterator[Event]:
        yield from self.start()
        for epoch in range(1, self.epochs + 1):
            yield from self.epoch(epoch)
        yield from self.finish()
