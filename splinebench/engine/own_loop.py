"""Bring your own training loop: stream partition codes, distances and the spline EB from *your* loop into the store.

Most researchers already have a training script. ``splinebench.track(model, probe=..., store=...)`` gives it the same
partition observer the engine's dense phase uses (Sec. 3.2: codes of a fixed probe batch after every epoch, the
distance to the previous epoch, Alg. 1's early-bird FIFO) and emits the same typed events on an ``EventBus`` whose
sink is the same ``StoreWriter``: ``splinebench tui`` watches the run live, and ``runs show`` / ``report`` table it
like any run (one "dense" phase and its final accuracy). Use it as a context manager or call ``epoch()`` once per
epoch and ``finish()`` at the end::

    with splinebench.track(model, probe=x_probe, store="results.sqlite", name="my-resnet") as tracker:
        for epoch in range(1, epochs + 1):
            train_one_epoch(model)
            if tracker.epoch(train_loss=loss, test_acc=acc, samples=n):   # True once the spline EB fires
                break                                                      # or just record it and go on
        tracker.result(accuracy=acc)

The EB can stop training (``stop_at_early_bird=True`` makes ``should_stop`` true and the loop reads it) or just be
recorded. Nothing here trains, prunes or checkpoints: the loop stays yours.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

import torch
from torch import nn

from splinebench.engine.events import (
    DistanceMatrixRow,
    EarlyBirdFired,
    EpochFinished,
    Evaluated,
    EventBus,
    ModelFlops,
    PartitionDistances,
    PhaseFinished,
    PhaseStarted,
    RunFailed,
    RunFinished,
    RunStarted,
)
from splinebench.engine.observers import PartitionObserver
from splinebench.engine.run import Sink, new_run_id
from splinebench.errors import BadInputError
from splinebench.profiles import Profile
from splinebench.store import StoreWriter

PHASE = "dense"


class TrackedLoop:
    """One run recorded from a user's own loop (see the module docstring)."""

    def __init__(self, model: nn.Module, probe: torch.Tensor, store: str | os.PathLike[str], *, name: str = "own-loop",
                 epochs: int = 0, seed: int = 0, eps: float = 0.15, window: int = 2, early_bird: bool = True,
                 stop_at_early_bird: bool = False, layers: list[str] | None = None, dataset: str = "own",
                 run_id: str | None = None, sinks: list[Sink] = ()) -> None:
        if not isinstance(probe, torch.Tensor) or probe.ndim < 2 or probe.shape[0] < 1:
            raise BadInputError("splinebench.track: probe must be a batch of inputs (a tensor of shape [N, ...])")
        self.model = model
        self.stop_at_early_bird = stop_at_early_bird
        self.profile = Profile.model_validate({
            "name": name, "seeds": [seed], "device": "cpu" if probe.device.type == "cpu" else "auto",
            "model": {"name": f"own:{type(model).__name__}"}, "data": {"name": dataset},
            "train": {"epochs": max(epochs, 1)}, "partition": {"probe_size": probe.shape[0],
                                                                "layers": layers or ["*"]},
            "early_bird": {"enabled": early_bird, "eps": eps, "window": window, "stop_dense": stop_at_early_bird},
            "prune": {"pruners": []},
        })
        self.observer = PartitionObserver(model, probe, self.profile.partition, self.profile.early_bird,
                                          max_epochs=max(epochs, 1) * 4 + 16, seed=seed)
        from splinebench.measure.flops import TrainingFlopAccountant, forward_cost

        self.cost = forward_cost(model, probe)
        self.flops = TrainingFlopAccountant(self.cost.flops)
        self.run_id = run_id or new_run_id()
        self.writer = StoreWriter(store)
        self.bus = EventBus(self.run_id)
        self.bus.subscribe(self.writer)
        for sink in sinks:
            self.bus.subscribe(sink)
        self.epochs_done = 0
        self.early_bird_epoch: int | None = None
        self.should_stop = False
        self.accuracy: float | None = None
        self.loss: float | None = None
        self._t0 = self._epoch_t0 = time.time()
        self._closed = False
        self._start(probe, epochs)

    def _start(self, probe: torch.Tensor, epochs: int) -> None:
        from splinebench.engine.pipeline import versions

        p = self.profile
        self.bus.emit(RunStarted, name=p.name, profile=p.model_dump(mode="json"), versions=versions(),
                      model=p.model.name, dataset=p.data.name, seed=p.seeds[0], device=str(probe.device),
                      host=socket.gethostname(), pid=os.getpid(), pruners=[], ratios=[], planned_epochs=epochs)
        self.bus.emit(ModelFlops, tag="dense", params=self.cost.params, flops=self.cost.flops,
                      unsupported_ops=self.cost.unsupported_ops)
        self.bus.emit(PhaseStarted, phase=PHASE, kind="dense", epochs=epochs)
        self.flops.forward_only(self.observer.probe_size)
        self._emit_partition(self.observer.observe(self.model, 0))

    # -- once per epoch ---------------------------------------------------------------------------------------
    def epoch(self, *, train_loss: float | None = None, train_acc: float | None = None,
              test_loss: float | None = None, test_acc: float | None = None, lr: float | None = None,
              samples: int = 0) -> bool:
        """Record one finished epoch of the user's training; returns True when the spline EB fired just now.

        Metrics not given are stored as unknown (NULL); ``samples`` (training samples seen this epoch) lets the
        training-MAC column count this epoch's optimisation cost (3x forward per sample, as for engine runs).
        """
        self._check_open()
        self.epochs_done += 1
        epoch = self.epochs_done
        before = self.flops.total
        self.flops.training_step(samples)
        self.flops.forward_only(self.observer.probe_size)
        observation = self.observer.observe(self.model, epoch)
        now = time.time()
        self.bus.emit(EpochFinished, phase=PHASE, epoch=epoch, train_loss=train_loss, train_acc=train_acc,
                      test_loss=test_loss, test_acc=test_acc, lr=lr, seconds=now - self._epoch_t0,
                      samples=samples, training_flops=self.flops.total - before)
        self._epoch_t0 = now
        self._emit_partition(observation)
        if test_acc is not None:
            self.accuracy, self.loss = test_acc, test_loss
        if observation.eb_fired_now:
            detector = self.observer.detector
            self.early_bird_epoch = epoch
            self.bus.emit(EarlyBirdFired, detector="spline", phase=PHASE, epoch=epoch, eps=detector.eps,
                          window=detector.window, fifo=[float(x) for x in detector.fifo])
            self.should_stop = self.stop_at_early_bird
        return bool(observation.eb_fired_now)

    def _emit_partition(self, obs: Any) -> None:
        if obs.per_layer is not None:
            self.bus.emit(PartitionDistances, phase=PHASE, epoch=obs.epoch, per_layer=obs.per_layer,
                          mean_of_layers=obs.mean_of_layers, bit_weighted=obs.bit_weighted)
        self.bus.emit(DistanceMatrixRow, phase=PHASE, epoch=obs.epoch, distances=[float(d) for d in obs.matrix_row],
                      subsampled=bool(self.observer.recorder.subsampled))

    # -- the end ----------------------------------------------------------------------------------------------
    def result(self, accuracy: float, loss: float | None = None) -> None:
        """The trained model's final test accuracy (the run's "dense" row); default: the last epoch's test_acc."""
        self.accuracy, self.loss = accuracy, loss

    def finish(self, error: BaseException | None = None) -> None:
        """Close the run: its phase, its result row and its status (failed with the error when one is given)."""
        if self._closed:
            return
        self._closed = True
        try:
            self.bus.emit(PhaseFinished, phase=PHASE, epochs=self.epochs_done, seconds=time.time() - self._t0,
                          training_flops=self.flops.total, stopped_early=self.should_stop)
            if error is not None:
                self.bus.emit(RunFailed, error=f"{type(error).__name__}: {error}")
                return
            if self.accuracy is not None:
                self.bus.emit(Evaluated, pruner="dense", ratio=0.0, accuracy=self.accuracy, loss=self.loss,
                              ticket="final", eb_epoch=self.early_bird_epoch, dense_phase=PHASE,
                              ticket_epoch=self.epochs_done, dense_training_flops=self.flops.total,
                              retrain_training_flops=0.0, total_training_flops=self.flops.total,
                              params=self.cost.params, flops=self.cost.flops)
            self.bus.emit(RunFinished, seconds=time.time() - self._t0,
                          summary={"epochs": self.epochs_done, "eb_epoch": self.early_bird_epoch,
                                   "accuracy": self.accuracy, "own_loop": True})
        finally:
            self.writer.close()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"run {self.run_id} is finished; start another with splinebench.track(...)")

    def __enter__(self) -> TrackedLoop:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self.finish(exc)  # an exception (Ctrl-C included) records the run as failed, with why


def track(model: nn.Module, probe: torch.Tensor, store: str | os.PathLike[str], **options: Any) -> TrackedLoop:
    """Start recording a run from your own training loop (see :class:`TrackedLoop` for the options)."""
    return TrackedLoop(model, probe, store, **options)
