"""The observers a run attaches to its training phases (``engine.loop``): each does one job and keeps its own state.

Dense training gets ``HookTickets`` (training hooks' early birds), ``DenseRecord`` (FLOPs per epoch, energy, the
final accuracy), ``PartitionWatch`` (distances, the spline EB ticket) and a ``Checkpointer``; retraining gets
``EnergyEpochs`` and a ``Checkpointer``. The checkpointer goes last, so a checkpoint holds everything its epoch did.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from splinebench.engine.checkpoints import cpu_state
from splinebench.engine.energy_windows import EnergyWindows
from splinebench.engine.loop import EpochEnd, Phase, PhaseObserver
from splinebench.engine.observers import PartitionObservation, PartitionObserver
from splinebench.engine.plan import DensePlan
from splinebench.engine.state import DenseResult, PhaseProgress
from splinebench.measure.flops import TrainingFlopAccountant
from splinebench.prune import TrainingHook

#: draw(detector, epoch, model, info): keep the model as the detector's early-bird ticket
DrawTicket = Callable[[str, int, nn.Module, dict[str, Any]], None]


def hook_name(hook: TrainingHook) -> str:
    return hook.detector or hook.key


class HookTickets(PhaseObserver):
    """Training hooks' early birds (e.g. the mask EB) fire before an epoch trains: the model then is the ticket."""

    name = "hooks"

    def __init__(self, hooks: list[TrainingHook], draw: DrawTicket) -> None:
        self.hooks = hooks
        self.draw = draw

    def epoch_starting(self, model: nn.Module, epoch: int) -> None:
        for hook in self.hooks:
            fired = hook.on_epoch_start(model, epoch)
            names = [hook_name(hook)] if fired is True else list(fired or [])
            for name in names:
                self.draw(name, epoch - 1, model, hook.early_bird_info())

    def state_dict(self) -> dict[str, Any]:
        return {hook_name(h): h.state_dict() for h in self.hooks}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for hook in self.hooks:
            hook.load_state_dict(state.get(hook_name(hook), {}))


class DenseRecord(PhaseObserver):
    """What a dense phase leaves for its branches: cumulative FLOPs and energy per epoch, the last test result."""

    name = "dense"

    def __init__(self, result: DenseResult, flops: TrainingFlopAccountant, energy: EnergyWindows) -> None:
        self.result = result
        self.flops = flops
        self.energy = energy

    def epoch_finished(self, model: nn.Module, end: EpochEnd) -> None:
        self.result.cum_flops.append(self.flops.total)
        self.result.epoch_energy.append(self.energy.epoch(self.result.phase, end.epoch, end.t0, end.t1))
        self.result.accuracy, self.result.loss = end.test.accuracy, end.test.loss

    def state_dict(self) -> dict[str, Any]:
        return self.result.to_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.result = DenseResult.from_dict(state)


class PartitionWatch(PhaseObserver):
    """The partition after every epoch (Sec. 3.2): its distances as events, and the spline EB ticket (Alg. 1)."""

    name = "partition"

    def __init__(self, observer: PartitionObserver, flops: TrainingFlopAccountant,
                 emit: Callable[[PartitionObservation], None], draw: DrawTicket) -> None:
        self.observer = observer
        self.flops = flops
        self.emit = emit
        self.draw = draw
        self.observation: PartitionObservation | None = None

    def snapshot(self, model: nn.Module, epoch: int) -> PartitionObservation:
        self.flops.forward_only(self.observer.probe_size)  # the tracker's pass is training cost too
        return self.observer.observe(model, epoch)

    def epoch_trained(self, model: nn.Module, epoch: int) -> None:
        self.observation = self.snapshot(model, epoch)

    def epoch_finished(self, model: nn.Module, end: EpochEnd) -> None:
        observation = self.observation
        assert observation is not None
        self.emit(observation)
        if observation.eb_fired_now:
            detector = self.observer.detector
            self.draw("spline", end.epoch, model, {"eps": detector.eps, "window": detector.window,
                                                   "fifo": detector.fifo})

    def state_dict(self) -> dict[str, Any]:
        return self.observer.state_dict()

    def load_state_dict(self, state: Any) -> None:
        if state:
            self.observer.load_state_dict(state)


class StopAtEarlyBirds(PhaseObserver):
    """Ends dense training once every EB ticket its branches need is drawn and none needs the final model (Alg. 1;
    which detectors, if any, is the run plan's ``stop_after``)."""

    def __init__(self, dense: DensePlan, record: DenseRecord) -> None:
        self.needed = dense.stop_after
        self.record = record

    def stop_before(self, epoch: int) -> bool:
        return self.needed is not None and all(f"eb:{name}" in self.record.result.tickets for name in self.needed)


class EnergyEpochs(PhaseObserver):
    """Joules of each retraining epoch (None where the meter cannot say)."""

    name = "energy"

    def __init__(self, energy: EnergyWindows, phase: str) -> None:
        self.energy = energy
        self.phase = phase
        self.joules: list[float | None] = []

    def epoch_finished(self, model: nn.Module, end: EpochEnd) -> None:
        self.joules.append(self.energy.epoch(self.phase, end.epoch, end.t0, end.t1))

    def state_dict(self) -> list[float | None]:
        return list(self.joules)

    def load_state_dict(self, state: list[float | None]) -> None:
        self.joules = list(state)


class Checkpointer(PhaseObserver):
    """Every ``every`` epochs: the phase's training state and each other observer's state, handed to ``save``."""

    def __init__(self, phase: Phase, observers: list[PhaseObserver], every: int,
                 save: Callable[[PhaseProgress], None], branch: dict[str, Any] | None = None) -> None:
        self.phase = phase
        self.observers = observers
        self.every = every
        self.save = save
        self.branch = branch

    def epoch_finished(self, model: nn.Module, end: EpochEnd) -> None:
        if end.epoch % self.every:
            return
        p = self.phase
        self.save(PhaseProgress(
            phase=p.name, epoch=end.epoch, model=cpu_state(model), optimizer=p.optimizer.state_dict(),
            scheduler=p.scheduler.state_dict(), flops_total=p.flops.total,
            observers={o.name: o.state_dict() for o in self.observers if o.name}, branch=self.branch,
        ))

    def restore(self, progress: PhaseProgress) -> None:
        """Put the phase and its observers back where ``progress`` left them."""
        p = self.phase
        p.model.load_state_dict(progress.model)
        p.optimizer.load_state_dict(progress.optimizer)
        p.scheduler.load_state_dict(progress.scheduler)
        p.flops.total = progress.flops_total
        for o in self.observers:
            if o.name:
                o.load_state_dict(progress.observers.get(o.name))
