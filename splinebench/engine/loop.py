"""One training phase — dense training or a branch's retraining — epoch by epoch. Everything else observes it.

The loop is the whole of training: for each epoch, train on batches shuffled by the (seed, phase, epoch) stream of
``engine.rng``, step the learning rate, charge the FLOPs, evaluate, emit ``EpochFinished``. What a phase does besides —
draw early-bird tickets, track the partition, cut energy windows, write the checkpoint — is a ``PhaseObserver`` called
at fixed points, in the order given (which is the order of the events they emit):

* ``stop_before(epoch)``: True ends the phase before ``epoch`` (Alg. 1: every EB ticket the phase needs is drawn);
* ``epoch_starting``: before the epoch trains (training hooks' early birds fire here);
* ``epoch_trained``: after the optimiser steps, before evaluation (the partition snapshot is taken here);
* ``epoch_finished``: after ``EpochFinished`` (energy window, distances, the spline EB ticket, then the checkpoint).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from splinebench.engine import rng
from splinebench.engine.events import EpochFinished, EventBus
from splinebench.engine.training import BatchSource, EpochStats, evaluate, train_epoch
from splinebench.measure.flops import TrainingFlopAccountant


@dataclass
class EpochEnd:
    """What observers learn when an epoch is over."""

    epoch: int
    train: EpochStats
    test: EpochStats
    t0: float
    t1: float


class PhaseObserver:
    """Something that watches a phase; every method does nothing unless overridden."""

    #: its key in the checkpoint's ``PhaseProgress.observers`` (empty: it keeps no state)
    name: str = ""

    def stop_before(self, epoch: int) -> bool:
        return False

    def epoch_starting(self, model: nn.Module, epoch: int) -> None:
        """Before ``epoch`` (1-based) trains."""

    def epoch_trained(self, model: nn.Module, epoch: int) -> None:
        """After the epoch's optimiser steps, before its evaluation."""

    def epoch_finished(self, model: nn.Module, end: EpochEnd) -> None:
        """After the epoch's ``EpochFinished`` event."""

    def state_dict(self) -> Any:
        return None

    def load_state_dict(self, state: Any) -> None:
        """Restore after a resume."""


@dataclass
class Phase:
    """One training stretch: what trains, on what, for how long."""

    name: str  # the run plan's phase name (it also seeds the batch order)
    epochs: int
    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any
    train: BatchSource
    test: BatchSource
    seed: int
    flops: TrainingFlopAccountant
    after_backward: Callable[[nn.Module], None] | None = None


def run_phase(phase: Phase, bus: EventBus, observers: list[PhaseObserver], start_epoch: int = 1) -> tuple[int, bool]:
    """Train ``phase`` from ``start_epoch``; returns (last epoch trained, whether an observer stopped it early)."""
    model, optimizer = phase.model, phase.optimizer
    epoch = start_epoch - 1
    for epoch in range(start_epoch, phase.epochs + 1):
        if any(o.stop_before(epoch) for o in observers):
            return epoch - 1, True
        for o in observers:
            o.epoch_starting(model, epoch)
        t0 = time.time()
        flops_before = phase.flops.total
        # the shuffle and any in-step draws (dropout) depend on (seed, phase, epoch) only: neither the pruners a
        # profile lists nor a resume at this epoch can change them
        batches = phase.train.batches(True, rng.stream_seed(phase.seed, rng.DATA_ORDER, phase.name, epoch))
        with rng.global_stream(phase.seed, rng.TRAIN_STEP, phase.name, epoch, device=phase.train.device):
            stats = train_epoch(model, optimizer, batches, phase.after_backward)
        lr = optimizer.param_groups[0]["lr"]
        phase.scheduler.step()
        phase.flops.training_step(stats.samples)
        for o in observers:
            o.epoch_trained(model, epoch)
        test = evaluate(model, phase.test.batches(False))
        t1 = time.time()
        bus.emit(EpochFinished, phase=phase.name, epoch=epoch, train_loss=stats.loss, train_acc=stats.accuracy,
                 test_loss=test.loss, test_acc=test.accuracy, lr=lr, seconds=t1 - t0, samples=stats.samples,
                 training_flops=phase.flops.total - flops_before)
        end = EpochEnd(epoch, stats, test, t0, t1)
        for o in observers:
            o.epoch_finished(model, end)
    return epoch, False
