"""The benchmark pipeline of the paper: dense training (observed) -> tickets -> plan -> prune -> retrain -> evaluate.

Read top to bottom, ``Pipeline.run`` is the whole experiment:

1. set up data, the seeded model, its initial state and the probe set;
2. train dense once per *dense group* (pruners whose training hooks agree share a dense run: the plain one, or network
   slimming's L1-on-BN run), observing the partition after every epoch and keeping tickets: ``init``, ``final`` and
   one per early-bird detector when it fires (the spline EB of Alg. 1, the mask EB of You et al. 2020);
3. for every (pruner, ratio): plan on its ticket, apply the plan, check one forward/backward pass, retrain, evaluate.
   A pruner that fails is recorded and the others go on.

Every step emits events (``engine.events``); nothing here writes the store or the terminal. Each epoch ends with a
checkpoint, and each step is seeded from (seed, phase, epoch), so a resumed run ends with the same numbers.
"""

from __future__ import annotations

import os
import platform
import socket
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

import splinebench
from splinebench.data import load_dataset
from splinebench.engine import checkpoints, rng
from splinebench.engine.branches import (
    Branch,
    branch_order,
    dense_groups,
    dense_phase_name,
    group_members,
    resolve_branches,
    stop_detectors,
)
from splinebench.engine.energy_windows import EnergyWindows
from splinebench.engine.environment import fingerprint, set_deterministic
from splinebench.engine.events import (
    CheckpointSaved,
    DistanceMatrixRow,
    EarlyBirdFired,
    EpochFinished,
    Evaluated,
    EventBus,
    ModelFlops,
    ModelPruned,
    PartitionDistances,
    PhaseFinished,
    PhaseStarted,
    PlanMade,
    PrunerFailed,
    RunFinished,
    RunStarted,
)
from splinebench.engine.observers import PartitionObserver
from splinebench.engine.training import (
    BatchSource,
    EpochStats,
    check_forward_backward,
    evaluate,
    make_optimizer,
    make_scheduler,
    train_epoch,
)
from splinebench.measure.flops import TrainingFlopAccountant, density_weighted_flops, forward_cost
from splinebench.profiles import Profile, RetrainSettings, TrainSettings
from splinebench.prune import (
    PruneContext,
    TrainingHook,
    apply_plan,
    prunable_layers,
    rebuild_structure,
    weight_density,
)
from splinebench.spline import canvas_probe
from splinebench.zoo import create_model


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        from splinebench.errors import BadInputError

        raise BadInputError("device = 'cuda' but no CUDA device is available here (use device = 'auto' or 'cpu')")
    return torch.device(name)


def versions() -> dict[str, str]:
    import torchvision

    return {
        "splinebench": splinebench.__version__, "schema": str(splinebench.SCHEMA_VERSION),
        "torch": torch.__version__, "torchvision": torchvision.__version__, "python": platform.python_version(),
    }


@dataclass
class DenseResult:
    """What a dense phase leaves for its branches."""

    phase: str
    tickets: dict[str, str]  # "init" | "final" | "eb:<detector>" -> file
    ticket_epochs: dict[str, int]
    cum_flops: list[float]  # cumulative training MACs after epoch e (index 0: the initial probe pass)
    epoch_energy: list[float | None] = field(default_factory=list)  # joules of epoch e (index 0 unused)
    accuracy: float = 0.0
    loss: float = 0.0
    hook_states: dict[str, Any] = field(default_factory=dict)


class Pipeline:
    def __init__(
        self,
        profile: Profile,
        run_id: str,
        run_dir: Path,
        bus: EventBus,
        energy: EnergyWindows | None = None,
        resume: dict[str, Any] | None = None,
    ) -> None:
        self.profile = profile
        self.run_id = run_id
        self.run_dir = Path(run_dir)
        self.bus = bus
        self.energy = energy or EnergyWindows(None, bus)
        self.state: dict[str, Any] = resume or {"seq": 0, "done": {}, "current": None}
        self.seed = profile.seed
        self.device = resolve_device(profile.device)

    # ---------------------------------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        started = time.time()
        self.prepare()
        dense = {group: self.dense(group) for group in self.dense_groups()}
        for branch, ratio in self.branch_tasks():
            self.branch(branch, ratio, dense.get(branch.group))
        summary = {"seconds": time.time() - started}
        self.bus.emit(RunFinished, seconds=summary["seconds"], summary=summary)
        self._save_state()
        return summary

    # -- the steps, public so that a sweep can schedule them as separate tasks --------------------------------
    def prepare(self, emit_start: bool = True) -> None:
        """Data, model, initial state, probe set and pruners; emits RunStarted the first time."""
        self._setup()
        if emit_start and not self.state["done"].get("started"):
            self._emit_start()
        self.branches = resolve_branches(self.profile)

    def dense_groups(self) -> list[str]:
        """Dense-training groups: the plain one first, then one per distinct training-hook key."""
        return dense_groups(self.branches)

    def dense(self, group: str) -> DenseResult:
        return self._dense_phase(group, group_members(self.branches, group))

    def branch_tasks(self) -> list[tuple[Branch, float]]:
        return branch_order(self.profile, self.branches)

    def branch(self, branch: Branch, ratio: float, dense: DenseResult | None) -> None:
        self._branch(branch, ratio, dense)

    # -- set-up ----------------------------------------------------------------------------------------------
    def _setup(self) -> None:
        p = self.profile
        if p.threads:
            torch.set_num_threads(p.threads)
        set_deterministic(p.deterministic)
        data_options = dict(p.data.options)
        self.bundle = load_dataset(p.data.name, root=p.data.root, **data_options)
        self.train = BatchSource(self.bundle.train, p.data.batch_size, self.device, p.data.num_workers)
        self.test = BatchSource(self.bundle.test, p.data.test_batch_size, self.device, p.data.num_workers)
        self.model = self._new_model()
        self.init_state = checkpoints.cpu_state(self.model)
        init_file = self.run_dir / "tickets" / "init.pt"
        if not init_file.is_file():
            checkpoints.atomic_save(self.init_state, init_file)
        self.example = next(self.train.batches(shuffle=False))[0][: min(p.data.batch_size, 64)]
        self.dense_cost = forward_cost(self.model, self.example)
        self.probe = self._probe()

    def _new_model(self) -> nn.Module:
        with rng.global_stream(self.seed, rng.MODEL_INIT, device=self.device):
            model = create_model(
                self.profile.model.name, num_classes=self.bundle.num_classes, in_channels=self.bundle.in_channels,
                **self.profile.model.options,
            )
        return model.to(self.device)

    def _probe(self) -> torch.Tensor:
        part = self.profile.partition
        if part.probe == "canvas":
            x, y = self.test.tensors if self.test.tensors is not None else (None, None)
            if x is None:
                x = torch.stack([self.bundle.test[i][0] for i in range(2)])
                y = torch.tensor([self.bundle.test[i][1] for i in range(2)])
            first = int((y != y[0]).nonzero()[0]) if bool((y != y[0]).any()) else 1
            return canvas_probe(x[0], x[first], grid=part.canvas_grid).to(self.device)
        size = min(part.probe_size, len(self.train))
        return self.train.first_inputs(size, seed=rng.stream_seed(self.seed, rng.PROBE))

    def _emit_start(self) -> None:
        p = self.profile
        self.bus.emit(
            RunStarted, name=p.name, profile=p.model_dump(mode="json"), versions=versions(), model=p.model.name,
            environment=fingerprint(self.device),
            dataset=p.data.name, seed=self.seed, device=str(self.device), host=socket.gethostname(), pid=os.getpid(),
            results_dir=str(self.run_dir), pruners=[e.display for e in p.prune.pruners], ratios=p.prune.ratios,
            planned_epochs=p.train.epochs,
        )
        self.bus.emit(ModelFlops, tag="dense", params=self.dense_cost.params, flops=self.dense_cost.flops,
                      unsupported_ops=self.dense_cost.unsupported_ops)
        self.state["done"]["started"] = True
        self._save_state()

    # -- dense training ----------------------------------------------------------------------------------------
    def _dense_phase(self, group: str, members: list[Branch]) -> DenseResult:
        phase = dense_phase_name(group)
        if phase in self.state["done"]:
            return self.state["done"][phase]
        hooks = [b.hook for b in members if b.hook is not None]
        trainer_hook = hooks[0] if hooks else None  # hooks of one group share their training penalty
        settings = self.profile.train
        model = self._new_model()
        optimizer = make_optimizer(model, settings.lr, settings.momentum, settings.weight_decay)
        scheduler = make_scheduler(optimizer, settings.epochs, settings.milestones, settings.gamma)
        observer = None
        if self.profile.partition.enabled:
            observer = PartitionObserver(model, self.probe, self.profile.partition, self.profile.early_bird,
                                         settings.epochs, self.seed)
        accountant = TrainingFlopAccountant(self.dense_cost.flops)
        result = DenseResult(phase, {"init": str(self.run_dir / "tickets" / "init.pt")}, {"init": 0}, [])
        current = self.state.get("current")
        start_epoch = 1
        if current and current["phase"] == phase:
            model.load_state_dict(current["model"])
            optimizer.load_state_dict(current["optimizer"])
            scheduler.load_state_dict(current["scheduler"])
            for hook in hooks:
                hook.load_state_dict(current["hooks"].get(hook.detector or hook.key, {}))
            if observer is not None and current.get("observer"):
                observer.load_state_dict(current["observer"])
            accountant.total = current["flops_total"]
            result = current["result"]
            start_epoch = current["epoch"] + 1
        else:
            self.bus.emit(PhaseStarted, phase=phase, kind="dense", epochs=settings.epochs)
            if observer is not None:
                accountant.forward_only(observer.probe_size)
                self._emit_partition(phase, observer.observe(model, 0), observer)
            result.cum_flops.append(accountant.total)
            result.epoch_energy.append(None)
        self.energy.phase_started(phase)
        phase_t0 = time.time()
        epoch = start_epoch - 1
        stopped_early = False
        for epoch in range(start_epoch, settings.epochs + 1):
            if self._dense_stop_due(members, result):
                stopped_early = True
                epoch -= 1
                break
            for hook in hooks:
                fired = hook.on_epoch_start(model, epoch)
                names = [hook.detector or hook.key] if fired is True else list(fired or [])
                for name in names:
                    self._draw_ticket(phase, name, epoch - 1, model, result, hook.early_bird_info())
            t0 = time.time()
            stats = self._train_epoch(phase, epoch, model, optimizer, trainer_hook)
            lr = optimizer.param_groups[0]["lr"]
            scheduler.step()
            accountant.training_step(stats.samples)
            observation = None
            if observer is not None:
                accountant.forward_only(observer.probe_size)
                observation = observer.observe(model, epoch)
            test = evaluate(model, self.test.batches(False))
            t1 = time.time()
            epoch_flops = accountant.total - result.cum_flops[-1]
            result.cum_flops.append(accountant.total)
            self.bus.emit(EpochFinished, phase=phase, epoch=epoch, train_loss=stats.loss, train_acc=stats.accuracy,
                          test_loss=test.loss, test_acc=test.accuracy, lr=lr, seconds=t1 - t0, samples=stats.samples,
                          training_flops=epoch_flops)
            result.epoch_energy.append(self.energy.epoch(phase, epoch, t0, t1))
            if observation is not None:
                self._emit_partition(phase, observation, observer)
                if observation.eb_fired_now:
                    info = {"eps": observer.detector.eps, "window": observer.detector.window,
                            "fifo": observer.detector.fifo}
                    self._draw_ticket(phase, "spline", epoch, model, result, info)
            result.accuracy, result.loss = test.accuracy, test.loss
            self._checkpoint(phase, epoch, model, optimizer, scheduler, hooks, observer, accountant, result)
        # the final dense model: the "Unpruned" row, and the fallback of an EB that never fired
        final = self.run_dir / "tickets" / f"{_slug(phase)}-final.pt"
        checkpoints.atomic_save(checkpoints.cpu_state(model), final)
        result.tickets["final"] = str(final)
        result.ticket_epochs["final"] = epoch
        result.hook_states = {(h.detector or h.key): h.state_dict() for h in hooks}
        self.bus.emit(PhaseFinished, phase=phase, epochs=epoch, seconds=time.time() - phase_t0,
                      training_flops=accountant.total, stopped_early=stopped_early)
        self.energy.phase_finished(phase)
        if not group:
            self.bus.emit(
                Evaluated, pruner="dense", ratio=0.0, accuracy=result.accuracy, loss=result.loss, ticket="final",
                eb_epoch=result.ticket_epochs.get("eb:spline"), dense_phase=phase, ticket_epoch=epoch,
                dense_training_flops=accountant.total,
                retrain_training_flops=0.0, total_training_flops=accountant.total, params=self.dense_cost.params,
                flops=self.dense_cost.flops, dense_energy_j=_sum(result.epoch_energy[1:]), retrain_energy_j=None,
                total_energy_j=_sum(result.epoch_energy[1:]),
            )
        self.state["done"][phase] = result
        self.state["current"] = None
        self._save_state()
        return result

    def _dense_stop_due(self, members: list[Branch], result: DenseResult) -> bool:
        """Stop dense training once every member's EB ticket is drawn and none needs the final model (Alg. 1)."""
        needed = stop_detectors(self.profile, members)
        return needed is not None and all(f"eb:{name}" in result.tickets for name in needed)

    def _draw_ticket(self, phase: str, detector: str, epoch: int, model: nn.Module, result: DenseResult,
                     info: dict[str, Any]) -> None:
        key = f"eb:{detector}"
        if key in result.tickets:
            return
        path = self.run_dir / "tickets" / f"{_slug(phase)}-eb-{_slug(detector)}.pt"
        checkpoints.atomic_save(checkpoints.cpu_state(model), path)
        result.tickets[key] = str(path)
        result.ticket_epochs[key] = epoch
        self.bus.emit(EarlyBirdFired, detector=detector, phase=phase, epoch=epoch, eps=float(info.get("eps", 0.0)),
                      window=int(info.get("window", 0)), fifo=[float(x) for x in info.get("fifo", [])])

    def _emit_partition(self, phase: str, obs: Any, observer: PartitionObserver) -> None:
        if obs.per_layer is not None:
            self.bus.emit(PartitionDistances, phase=phase, epoch=obs.epoch, per_layer=obs.per_layer,
                          mean_of_layers=obs.mean_of_layers, bit_weighted=obs.bit_weighted)
        self.bus.emit(DistanceMatrixRow, phase=phase, epoch=obs.epoch, distances=[float(d) for d in obs.matrix_row],
                      subsampled=bool(observer.recorder.subsampled))

    def _train_epoch(self, phase: str, epoch: int, model: nn.Module, optimizer: Any,
                     hook: TrainingHook | None) -> EpochStats:
        """One epoch on its own streams: the shuffle and any in-step draws (dropout) depend on (seed, phase, epoch)
        only, so neither the pruners listed nor a resume at this epoch can change them."""
        order = rng.stream_seed(self.seed, rng.DATA_ORDER, phase, epoch)
        with rng.global_stream(self.seed, rng.TRAIN_STEP, phase, epoch, device=self.device):
            return train_epoch(model, optimizer, self.train.batches(True, order), hook.after_backward if hook else None)

    # -- branches -------------------------------------------------------------------------------------------------
    def _branch(self, branch: Branch, ratio: float, dense: DenseResult | None) -> None:
        phase = f"retrain:{branch.label}@{ratio:g}"
        if phase in self.state["done"]:
            return
        if branch.pruner is None:
            self.bus.emit(PrunerFailed, pruner=branch.label, ratio=ratio, error=branch.error or "?", stage="import")
            self._mark_done(phase)
            return
        stage = "plan"
        try:
            model, plan_info = self._pruned_model(branch, ratio, dense, phase)
            stage = "retrain"
            self._retrain_and_evaluate(branch, ratio, dense, phase, model, plan_info)
        except Exception as exc:  # noqa: BLE001 - one pruner's failure must not stop the others
            self.bus.emit(PrunerFailed, pruner=branch.label, ratio=ratio, error=f"{type(exc).__name__}: {exc}",
                          stage=stage)
            (self.run_dir / "errors").mkdir(exist_ok=True)
            (self.run_dir / "errors" / f"{_slug(phase)}.txt").write_text(traceback.format_exc())
            self.state["current"] = None
        self._mark_done(phase)

    def _ticket(self, branch: Branch, ratio: float, dense: DenseResult | None) -> tuple[str, str, int]:
        """(ticket kind actually used, file, epoch); an EB ticket whose detector never fired falls back to final."""
        assert dense is not None
        if branch.ticket == "init":
            return "init", dense.tickets["init"], 0
        if branch.ticket == "eb":
            key = f"eb:{branch.detector(ratio)}"
            if key in dense.tickets:
                return "eb", dense.tickets[key], dense.ticket_epochs[key]
            return "final (no EB)", dense.tickets["final"], dense.ticket_epochs["final"]
        return "final", dense.tickets["final"], dense.ticket_epochs["final"]

    def _pruned_model(self, branch: Branch, ratio: float, dense: DenseResult | None,
                      phase: str) -> tuple[nn.Module, dict[str, Any]]:
        current = self.state.get("current")
        if current and current["phase"] == phase:  # resuming inside this branch's retraining
            model = self._new_model()
            structure = current["structure"]
            rebuild_structure(model, self.example, structure["history"], structure.get("masks"))
            model.load_state_dict(current["model"])
            return model.to(self.device), current["plan_info"]
        ticket, path, ticket_epoch = self._ticket(branch, ratio, dense)
        model = self._new_model()
        model.load_state_dict(checkpoints.load(Path(path)))
        assert branch.pruner is not None and dense is not None
        ctx = PruneContext(
            example_input=self.example, batches=self._calibration_batches, init_state=self.init_state,
            device=self.device, seed=rng.stream_seed(self.seed, rng.PRUNE, branch.label, ratio),
            num_classes=self.bundle.num_classes,
            prunable=[layer.name for layer in prunable_layers(model, self.example) if layer.independent],
            hook=branch.hook,
        )
        if branch.hook is not None and dense.hook_states.get(branch.hook.detector or branch.hook.key):
            branch.hook.load_state_dict(dense.hook_states[branch.hook.detector or branch.hook.key])
        t0 = time.time()
        with rng.global_stream(self.seed, rng.PRUNE, branch.label, ratio, device=self.device):
            plan = branch.pruner.plan(model, ratio, ctx)
        plan_seconds = time.time() - t0
        pruned, report = apply_plan(model, plan, self.example, self.init_state)
        self.bus.emit(PlanMade, pruner=branch.label, ratio=ratio, ticket=ticket, ticket_epoch=ticket_epoch,
                      structured=plan.structured, layers=[r.to_dict() for r in report.layers],
                      asked_ratio=report.asked_ratio, achieved_ratio=report.achieved_ratio, seconds=plan_seconds)
        check_forward_backward(pruned, next(self._calibration_batches(1)))
        cost = forward_cost(pruned, self.example)
        sparse = None if plan.structured else density_weighted_flops(cost, weight_density(pruned))
        self.bus.emit(ModelPruned, pruner=branch.label, ratio=ratio, params_before=self.dense_cost.params,
                      params_after=cost.params, flops_before=self.dense_cost.flops, flops_after=cost.flops,
                      sparse_flops_after=sparse, unsupported_ops=cost.unsupported_ops)
        if branch.entry.retrain.get("mode", self.profile.retrain.mode) == "scratch":
            with rng.global_stream(self.seed, rng.SCRATCH_INIT, branch.label, ratio, device=self.device):
                _reinitialise(pruned)
        info = {
            "ticket": ticket, "ticket_epoch": ticket_epoch, "params": cost.params, "flops": cost.flops,
            "sparse_flops": sparse,
            "structure": {"history": report.history, "masks": {k: v.cpu() for k, v in plan.masks.items()}},
        }
        return pruned, info

    def _calibration_batches(self, n: int):
        for i, batch in enumerate(self.train.batches(True, rng.stream_seed(self.seed, rng.CALIBRATION))):
            if i >= n:
                return
            yield batch

    def _retrain_and_evaluate(self, branch: Branch, ratio: float, dense: DenseResult | None, phase: str,
                              model: nn.Module, info: dict[str, Any]) -> None:
        settings: TrainSettings = self.profile.retrain
        if branch.entry.retrain:  # this pruner's own retraining schedule (e.g. LT/SNIP train from initialisation)
            settings = RetrainSettings.model_validate({**settings.model_dump(), **branch.entry.retrain})
        hook = branch.hook if branch.hook is not None and branch.hook.during_retrain else None
        optimizer = make_optimizer(model, settings.lr, settings.momentum, settings.weight_decay)
        scheduler = make_scheduler(optimizer, max(settings.epochs, 1), settings.milestones, settings.gamma)
        accountant = TrainingFlopAccountant(info["flops"])
        energy: list[float | None] = []
        start_epoch = 1
        current = self.state.get("current")
        if current and current["phase"] == phase:
            optimizer.load_state_dict(current["optimizer"])
            scheduler.load_state_dict(current["scheduler"])
            accountant.total = current["flops_total"]
            energy = current["result"]
            start_epoch = current["epoch"] + 1
        else:
            self.bus.emit(PhaseStarted, phase=phase, kind="retrain", epochs=settings.epochs, pruner=branch.label,
                          ratio=ratio)
        self.energy.phase_started(phase)
        phase_t0 = time.time()
        for epoch in range(start_epoch, settings.epochs + 1):
            t0 = time.time()
            stats = self._train_epoch(phase, epoch, model, optimizer, hook)
            lr = optimizer.param_groups[0]["lr"]
            scheduler.step()
            flops = accountant.training_step(stats.samples)
            test = evaluate(model, self.test.batches(False))
            t1 = time.time()
            self.bus.emit(EpochFinished, phase=phase, epoch=epoch, train_loss=stats.loss, train_acc=stats.accuracy,
                          test_loss=test.loss, test_acc=test.accuracy, lr=lr, seconds=t1 - t0, samples=stats.samples,
                          training_flops=flops)
            energy.append(self.energy.epoch(phase, epoch, t0, t1))
            self._checkpoint(phase, epoch, model, optimizer, scheduler, [], None, accountant, energy,
                             structure=info["structure"], plan_info=info)
        test = evaluate(model, self.test.batches(False))
        self._save_pruned(phase, model, info)
        self.bus.emit(PhaseFinished, phase=phase, epochs=settings.epochs, seconds=time.time() - phase_t0,
                      training_flops=accountant.total)
        self.energy.phase_finished(phase)
        assert dense is not None
        ticket_key = {"eb": f"eb:{branch.detector(ratio)}", "init": "init"}.get(info["ticket"], "final")
        ticket_epoch = dense.ticket_epochs.get(ticket_key, info["ticket_epoch"])
        dense_flops = 0.0 if info["ticket"] == "init" else dense.cum_flops[ticket_epoch]
        dense_energy = None if info["ticket"] == "init" else _sum(dense.epoch_energy[1 : ticket_epoch + 1])
        retrain_energy = _sum(energy)
        self.bus.emit(
            Evaluated, pruner=branch.label, ratio=ratio, accuracy=test.accuracy, loss=test.loss,
            ticket=info["ticket"], eb_epoch=dense.ticket_epochs.get(f"eb:{branch.detector(ratio)}"),
            dense_phase=dense.phase, ticket_epoch=ticket_epoch,
            dense_training_flops=dense_flops, retrain_training_flops=accountant.total,
            total_training_flops=dense_flops + accountant.total, params=info["params"], flops=info["flops"],
            sparse_flops=info["sparse_flops"], dense_energy_j=dense_energy, retrain_energy_j=retrain_energy,
            total_energy_j=None if retrain_energy is None else (dense_energy or 0.0) + retrain_energy,
        )
        self.state["current"] = None

    def _save_pruned(self, phase: str, model: nn.Module, info: dict[str, Any]) -> None:
        """The retrained model as (registry name, pruning history, masks, state_dict): no pickled class needed."""
        checkpoints.atomic_save(
            {"model": self.profile.model.name, "options": self.profile.model.options,
             "num_classes": self.bundle.num_classes, "in_channels": self.bundle.in_channels,
             "example_shape": list(self.example.shape), **info["structure"],
             "state_dict": checkpoints.cpu_state(model)},
            self.run_dir / "models" / f"{_slug(phase.removeprefix('retrain:'))}.pt",
        )

    # -- checkpoints -------------------------------------------------------------------------------------------
    def _checkpoint(self, phase: str, epoch: int, model: nn.Module, optimizer: Any, scheduler: Any,
                    hooks: list[TrainingHook], observer: PartitionObserver | None,
                    accountant: TrainingFlopAccountant, result: Any, **extra: Any) -> None:
        if epoch % self.profile.checkpoint_every:
            return
        path = checkpoints.state_path(self.run_dir)
        self.bus.emit(CheckpointSaved, phase=phase, epoch=epoch, path=str(path))
        self.state["current"] = {
            "phase": phase, "epoch": epoch, "model": checkpoints.cpu_state(model),
            "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
            "hooks": {(h.detector or h.key): h.state_dict() for h in hooks},
            "observer": observer.state_dict() if observer is not None else None,
            "flops_total": accountant.total, "result": result, **extra,
        }
        self._save_state()

    def _mark_done(self, phase: str) -> None:
        self.state["done"][phase] = True
        self.state["current"] = None
        self._save_state()

    def _save_state(self) -> None:
        self.before_checkpoint()
        self.state["seq"] = self.bus.seq
        checkpoints.atomic_save(self.state, checkpoints.state_path(self.run_dir))
        self.after_checkpoint()

    # -- extension points: what a caller adds around every write of the resume state ------------------------------
    def before_checkpoint(self) -> None:
        """Runs before the resume state is written; the state counts ``bus.seq`` events, so an event sink that
        must never hold fewer (a sweep task's event log) makes them durable here."""

    def after_checkpoint(self) -> None:
        """Runs after the resume state is written (a sweep task publishes its files and honours a hold here);
        ``self.state["current"]`` is the phase and epoch just saved, or None between phases."""


def _reinitialise(model: nn.Module) -> None:
    """Retrain from scratch: fresh default initialisation of the pruned architecture (masks stay); the caller
    chooses the random stream."""
    for module in model.modules():
        reset = getattr(module, "reset_parameters", None)
        if callable(reset) and not hasattr(module, "weight_mask"):
            reset()


def _sum(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known and len(known) == len(values) else None


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)
