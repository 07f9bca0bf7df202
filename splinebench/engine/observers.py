"""Observers of dense training: the partition tracker with its spline early-bird detector (Sec. 3.2, Alg. 1).

The observer owns everything partition-related for one dense phase — the probe set's codes at the previous epoch,
the EB detector's FIFO, the bounded epoch x epoch matrix — and hands back plain numbers for the pipeline to emit.
Its state is part of every checkpoint, so a resumed run makes the same EB decision as an uninterrupted one.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from splinebench.profiles import EarlyBirdSettings, PartitionSettings
from splinebench.spline import (
    DistanceMatrixRecorder,
    EarlyBirdDetector,
    PartitionCodes,
    PartitionTracker,
    partition_distance,
)
from splinebench.spline.early_bird import SnapshotWindow


@dataclass
class PartitionObservation:
    epoch: int
    per_layer: dict[str, float] | None  # None at epoch 0 (nothing to compare with yet)
    mean_of_layers: float | None
    bit_weighted: float | None
    matrix_row: list[float]
    eb_fired_now: bool


class PartitionObserver:
    """Captures codes after each epoch (and at initialisation), measures distances, runs the spline EB detector."""

    def __init__(
        self,
        model: nn.Module,
        probe: torch.Tensor,
        partition: PartitionSettings,
        early_bird: EarlyBirdSettings,
        max_epochs: int,
        seed: int,
    ) -> None:
        self.tracker = PartitionTracker(model, probe, layers=partition.layers)
        self.early_bird = early_bird
        self.eb_layers = [
            name for name in self.tracker.tracked_layers
            if any(fnmatch.fnmatchcase(name, p) for p in early_bird.layers)
        ]
        self.detector = EarlyBirdDetector(early_bird.eps, early_bird.window, early_bird.anchor)
        # the seed-code rule compares exact snapshots of trained epochs (never matrix rows, never the initial one)
        self.window = SnapshotWindow(early_bird.window, early_bird.distance,
                                     None if self.eb_layers == self.layers else self.eb_layers)
        self.recorder = DistanceMatrixRecorder(partition.matrix_budget_mib, max_snapshots=max_epochs + 1, seed=seed)
        self.previous: PartitionCodes | None = None
        self.probe_size = probe.shape[0]

    @property
    def layers(self) -> list[str]:
        return self.tracker.tracked_layers

    def observe(self, model: nn.Module, epoch: int) -> PartitionObservation:
        codes = self.tracker.capture(model)
        row = self.recorder.add(codes)
        fired_now = False
        per_layer = mean = weighted = None
        if self.previous is not None:
            distance = partition_distance(self.previous, codes)
            per_layer = distance.per_layer
            mean, weighted = distance.mean_of_layers, distance.bit_weighted
            if self.early_bird.enabled and not self.detector.fired:
                fired_now = self._update_detector(codes, distance, row)
        self.previous = codes
        return PartitionObservation(epoch, per_layer, mean, weighted, row, fired_now)

    def _update_detector(self, codes: PartitionCodes, distance: Any, row: list[float]) -> bool:
        if self.early_bird.anchor == "current":
            return self.window.update(self.detector, codes)
        if self.eb_layers != self.layers:  # a chosen layer subset: the same two definitions over those layers
            assert self.previous is not None
            distance = partition_distance(self.previous.subset(self.eb_layers), codes.subset(self.eb_layers))
        value = distance.mean_of_layers if self.early_bird.distance == "mean-of-layers" else distance.bit_weighted
        return self.detector.update(value)

    def state_dict(self) -> dict[str, Any]:
        """Plain data (the codes as their arrays), so the checkpoint loads with ``weights_only=True``."""
        previous = self.previous
        return {
            "previous": None if previous is None else {
                "layers": dict(previous.layers), "bits": dict(previous.bits), "n_samples": previous.n_samples,
            },
            "detector": self.detector.state_dict(),
            "recorder": self.recorder.state_dict(),
            "window": self.window.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        previous = state["previous"]
        self.previous = None if previous is None else PartitionCodes(**previous)
        self.detector.load_state_dict(state["detector"])
        self.recorder.load_state_dict(state["recorder"])
        if state.get("window") is not None:
            self.window.load_state_dict(state["window"])
