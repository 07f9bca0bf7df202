"""Hand-written event streams for the report tests: runs whose every number a test states.

They let a test say exactly what a table must show (two seeds, NS next to spline, a rho sweep) without training;
``conftest.py`` adds real tiny runs to check the tables against what the engine itself stores.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from splinebench.store import StoreWriter

PRUNERS = [
    {"name": "spline", "ticket": "final", "label": "spline", "options": {"scope": "layerwise", "rho": 0.05}},
    {"name": "spline", "ticket": "eb", "label": "eb-spline", "options": {"scope": "layerwise", "rho": 0.05}},
    {"name": "ns", "ticket": "final", "options": {}},
    {"name": "thinet", "ticket": "final", "options": {}},
]
LAYERS = ["features.relu1", "features.relu2", "features.relu3", "features.relu4", "features.relu5"]


def synthetic_profile(name: str = "synthetic", seed: int = 0, pruners: list[dict[str, Any]] | None = None,
                      epochs: int = 20, **extra: Any) -> dict[str, Any]:
    return {"name": name, "seeds": [seed], "model": {"name": "vgg16"}, "data": {"name": "fashion-mnist"},
            "train": {"epochs": epochs}, "early_bird": {"eps": 0.15, "window": 2},
            "prune": {"ratios": [0.3, 0.5], "pruners": pruners if pruners is not None else PRUNERS}, **extra}


class RunWriter:
    """Writes one run's events with consecutive sequence numbers."""

    def __init__(self, writer: StoreWriter, run_id: str, profile: dict[str, Any]) -> None:
        self.writer, self.run_id, self.profile = writer, run_id, profile
        self.seq = itertools.count(1)
        labels = [p.get("label") or (f"eb-{p['name']}" if p["ticket"] == "eb" else p["name"])
                  for p in profile["prune"]["pruners"]]
        self.emit("run_started", name=profile["name"], profile=profile, versions={}, model=profile["model"]["name"],
                  dataset=profile["data"]["name"], seed=profile["seeds"][0], device="cpu", host="test", pid=0,
                  results_dir="", pruners=labels, ratios=profile["prune"]["ratios"],
                  planned_epochs=profile["train"]["epochs"])
        self.emit("phase_started", phase="dense", kind="dense", epochs=profile["train"]["epochs"])

    def emit(self, event_type: str, **payload: Any) -> None:
        self.writer.write({"run_id": self.run_id, "seq": next(self.seq), "ts": 1000.0, "type": event_type,
                           **payload})

    def result(self, pruner: str, ratio: float, accuracy: float, macs: float, energy: float | None = None,
               ticket: str = "final") -> None:
        self.emit("evaluated", pruner=pruner, ratio=ratio, accuracy=accuracy, loss=0.1, ticket=ticket, eb_epoch=None,
                  dense_training_flops=macs / 2, retrain_training_flops=macs / 2, total_training_flops=macs,
                  params=100, flops=10.0, total_energy_j=energy)

    def epoch(self, epoch: int, test_acc: float, phase: str = "dense") -> None:
        self.emit("epoch_finished", phase=phase, epoch=epoch, train_loss=0.5, train_acc=0.5, test_loss=0.5,
                  test_acc=test_acc, lr=0.1, seconds=1.0, samples=10, training_flops=1.0)

    def distances(self, epoch: int, per_layer: dict[str, float]) -> None:
        mean = sum(per_layer.values()) / len(per_layer)
        self.emit("partition_distances", phase="dense", epoch=epoch, per_layer=per_layer, mean_of_layers=mean,
                  bit_weighted=mean)

    def matrix_row(self, epoch: int, distances: list[float]) -> None:
        self.emit("distance_matrix_row", phase="dense", epoch=epoch, distances=distances)

    def early_bird(self, detector: str, epoch: int, phase: str = "dense") -> None:
        self.emit("early_bird_fired", detector=detector, phase=phase, epoch=epoch, eps=0.15, window=2,
                  fifo=[0.1, 0.12])

    def finish(self) -> None:
        self.emit("run_finished", seconds=1.0, summary={})


def write_run(store: Path, run_id: str, profile: dict[str, Any],
              results: Iterable[tuple[str, float, float, float]], dense: tuple[float, float] = (0.92, 1e12),
              energy: bool = False) -> RunWriter:
    """A finished run: results are (pruner, ratio, accuracy, total MACs); dense is (accuracy, MACs)."""
    writer = StoreWriter(store)
    run = RunWriter(writer, run_id, profile)
    run.result("dense", 0.0, dense[0], dense[1], energy=5000.0 if energy else None)
    for pruner, ratio, acc, macs in results:
        run.result(pruner, ratio, acc, macs, energy=macs / 1e9 if energy else None)
    run.finish()
    writer.close()
    return run
