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
from pathlib import Path
from typing import Any

import torch
from torch import nn

import splinebench
from splinebench.data import load_dataset
from splinebench.engine import checkpoints, rng
from splinebench.engine.branches import Branch
from splinebench.engine.energy_windows import EnergyWindows
from splinebench.engine.environment import fingerprint, set_deterministic
from splinebench.engine.events import (
    CheckpointSaved,
    DistanceMatrixRow,
    EarlyBirdFired,
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
from splinebench.engine.loop import Phase, PhaseObserver, run_phase
from splinebench.engine.observers import PartitionObserver
from splinebench.engine.phase_observers import (
    Checkpointer,
    DenseRecord,
    EnergyEpochs,
    HookTickets,
    PartitionWatch,
    StopAtEarlyBirds,
    hook_name,
)
from splinebench.engine.plan import INIT_TICKET, BranchPlan, BranchRun, DensePlan, RunPlan, resolve_plan, slug
from splinebench.engine.state import DenseResult, PhaseProgress, ResumeState
from splinebench.engine.training import (
    BatchSource,
    check_forward_backward,
    evaluate,
    make_optimizer,
    make_scheduler,
)
from splinebench.errors import RunAbortedError
from splinebench.measure.flops import TrainingFlopAccountant, density_weighted_flops, forward_cost
from splinebench.measure.latency import compare_latency, latency_batch
from splinebench.profiles import Profile, TrainSettings
from splinebench.prune import (
    PruneContext,
    apply_plan,
    prunable_layers,
    rebuild_structure,
    weight_density,
)
from splinebench.spline import canvas_probe
from splinebench.spline.activations import NotASplineError, require_spline
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


def run_started_fields(profile: Profile, plan: RunPlan, device: str, results_dir: str) -> dict[str, Any]:
    """What RunStarted says about a run (a sweep's recorder adds its driver's host and the sweep id)."""
    p = profile
    return {
        "name": p.name, "profile": p.model_dump(mode="json"), "versions": versions(), "model": p.model.name,
        "dataset": p.data.name, "seed": p.seed, "device": device, "results_dir": results_dir,
        "pruners": [b.label for b in plan.branches], "ratios": p.prune.ratios, "planned_epochs": p.train.epochs,
        "plan": plan.to_dict(),
    }


def early_bird_fields(info: dict[str, Any]) -> dict[str, Any]:
    """eps, window and FIFO of an EarlyBirdFired event from a training hook's ``early_bird_info()``; what the hook
    does not report stays None (the FIFO empty) rather than a made-up 0."""
    eps, window = info.get("eps"), info.get("window")
    return {
        "eps": None if eps is None else float(eps),
        "window": None if window is None else int(window),
        "fifo": [float(x) for x in info.get("fifo", [])],
    }


class Pipeline:
    def __init__(
        self,
        profile: Profile,
        run_id: str,
        run_dir: Path,
        bus: EventBus,
        energy: EnergyWindows | None = None,
        resume: ResumeState | None = None,
    ) -> None:
        self.profile = profile
        self.run_id = run_id
        self.run_dir = Path(run_dir)
        self.bus = bus
        self.energy = energy or EnergyWindows(None, bus)
        self.state = resume or ResumeState()
        self.seed = profile.seed
        self.device = resolve_device(profile.device)

    # ---------------------------------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        started = time.time()
        self.prepare()
        dense = {group: self.dense(group) for group in self.dense_groups()}
        for branch, run in self.branch_tasks():
            self.branch(branch, run, dense.get(branch.group))
        summary = {"seconds": time.time() - started}
        self.bus.emit(RunFinished, seconds=summary["seconds"], summary=summary)
        self._save_state()
        return summary

    # -- the steps, public so that a sweep can schedule them as separate tasks --------------------------------
    def prepare(self, emit_start: bool = True) -> None:
        """Data, model, initial state, probe set, the run plan and its pruners; emits RunStarted the first time."""
        self._setup()
        self.plan: RunPlan
        self.plan, self.branches = resolve_plan(self.profile)
        if emit_start and not self.state.started:
            self._emit_start()

    def dense_groups(self) -> list[str]:
        """Dense-training groups: the plain one first, then one per distinct training-hook key."""
        return [d.group for d in self.plan.dense]

    def dense(self, group: str) -> DenseResult:
        dense = self.plan.dense_group(group)
        return self._dense_phase(dense, [b for b in self.branches if b.label in dense.members])

    def branch_tasks(self) -> list[tuple[BranchPlan, BranchRun]]:
        return self.plan.tasks()

    def branch(self, branch: BranchPlan, run: BranchRun, dense: DenseResult | None) -> None:
        self._branch(self.branches[branch.index], branch, run, dense)

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
        if p.partition.enabled:
            _require_spline_for_tracking(self.model, p.model.name)
        self.init_state = checkpoints.cpu_state(self.model)
        init_file = self.run_dir / INIT_TICKET
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
        self.bus.emit(RunStarted, **run_started_fields(self.profile, self.plan, str(self.device), str(self.run_dir)),
                      environment=fingerprint(self.device), host=socket.gethostname(), pid=os.getpid())
        self.bus.emit(ModelFlops, tag="dense", params=self.dense_cost.params, flops=self.dense_cost.flops,
                      unsupported_ops=self.dense_cost.unsupported_ops)
        self.state.started = True
        self._save_state()

    # -- dense training ----------------------------------------------------------------------------------------
    def _dense_phase(self, dense: DensePlan, members: list[Branch]) -> DenseResult:
        phase, group = dense.phase, dense.group
        if phase in self.state.dense:
            return self.state.dense[phase]
        hooks = [b.hook for b in members if b.hook is not None]
        trainer_hook = hooks[0] if hooks else None  # hooks of one group share their training penalty
        settings = self.profile.train
        model = self._new_model()
        optimizer = make_optimizer(model, settings.lr, settings.momentum, settings.weight_decay)
        training = Phase(phase, settings.epochs, model, optimizer,
                         make_scheduler(optimizer, settings.epochs, settings.milestones, settings.gamma),
                         self.train, self.test, self.seed, TrainingFlopAccountant(self.dense_cost.flops),
                         trainer_hook.after_backward if trainer_hook else None)
        record = DenseRecord(DenseResult(phase, {"init": str(self.run_dir / INIT_TICKET)}, {"init": 0}, []),
                             training.flops, self.energy)

        def draw(detector: str, epoch: int, model: nn.Module, info: dict[str, Any]) -> None:
            self._draw_ticket(dense, detector, epoch, model, record.result, info)

        observers: list[PhaseObserver] = [HookTickets(hooks, draw), record]
        watch = None
        if self.profile.partition.enabled:
            tracker = PartitionObserver(model, self.probe, self.profile.partition, self.profile.early_bird,
                                        settings.epochs, self.seed)
            watch = PartitionWatch(tracker, training.flops, lambda obs: self._emit_partition(phase, obs, tracker),
                                   draw)
            observers.append(watch)
        observers.append(StopAtEarlyBirds(dense, record))
        checkpointer = Checkpointer(training, observers, self.profile.checkpoint_every, self._checkpoint)
        start_epoch = self._resume_phase(checkpointer)
        if start_epoch == 1:
            self.bus.emit(PhaseStarted, phase=phase, kind="dense", epochs=settings.epochs)
            if watch is not None:
                self._emit_partition(phase, watch.snapshot(model, 0), watch.observer)
            record.result.cum_flops.append(training.flops.total)
            record.result.epoch_energy.append(None)
        self.energy.phase_started(phase)
        phase_t0 = time.time()
        epoch, stopped_early = run_phase(training, self.bus, [*observers, checkpointer], start_epoch)
        result = record.result
        # the final dense model: the "Unpruned" row, and the fallback of an EB that never fired
        final = self.run_dir / dense.final_ticket
        checkpoints.atomic_save(checkpoints.cpu_state(model), final)
        result.tickets["final"] = str(final)
        result.ticket_epochs["final"] = epoch
        result.hook_states = {hook_name(h): h.state_dict() for h in hooks}
        self.bus.emit(PhaseFinished, phase=phase, epochs=epoch, seconds=time.time() - phase_t0,
                      training_flops=training.flops.total, stopped_early=stopped_early)
        self.energy.phase_finished(phase)
        if not group:
            self.bus.emit(
                Evaluated, pruner="dense", ratio=0.0, accuracy=result.accuracy, loss=result.loss, ticket="final",
                eb_epoch=result.ticket_epochs.get("eb:spline"), dense_phase=phase, phase=phase, ticket_epoch=epoch,
                dense_training_flops=training.flops.total,
                retrain_training_flops=0.0, total_training_flops=training.flops.total, params=self.dense_cost.params,
                flops=self.dense_cost.flops, dense_energy_j=_sum(result.epoch_energy[1:]), retrain_energy_j=None,
                total_energy_j=_sum(result.epoch_energy[1:]), **self._latency(model),
            )
        self.state.dense[phase] = result
        self.state.current = None
        self._save_state()
        return result

    def _resume_phase(self, checkpointer: Checkpointer) -> int:
        """The epoch to start from: 1, or the one after the checkpoint of this phase (everything restored)."""
        current = self.state.current
        if current is None or current.phase != checkpointer.phase.name:
            return 1
        checkpointer.restore(current)
        return current.epoch + 1

    def _draw_ticket(self, dense: DensePlan, detector: str, epoch: int, model: nn.Module, result: DenseResult,
                     info: dict[str, Any]) -> None:
        phase = dense.phase
        key = f"eb:{detector}"
        if key in result.tickets:
            return
        path = self.run_dir / dense.eb_ticket(detector)
        checkpoints.atomic_save(checkpoints.cpu_state(model), path)
        result.tickets[key] = str(path)
        result.ticket_epochs[key] = epoch
        self.bus.emit(EarlyBirdFired, detector=detector, phase=phase, epoch=epoch, **early_bird_fields(info))

    def _emit_partition(self, phase: str, obs: Any, observer: PartitionObserver) -> None:
        if obs.per_layer is not None:
            self.bus.emit(PartitionDistances, phase=phase, epoch=obs.epoch, per_layer=obs.per_layer,
                          mean_of_layers=obs.mean_of_layers, bit_weighted=obs.bit_weighted)
        self.bus.emit(DistanceMatrixRow, phase=phase, epoch=obs.epoch, distances=[float(d) for d in obs.matrix_row],
                      subsampled=bool(observer.recorder.subsampled))

    # -- branches -------------------------------------------------------------------------------------------------
    def _branch(self, branch: Branch, spec: BranchPlan, run: BranchRun, dense: DenseResult | None) -> None:
        phase, ratio = run.phase, run.ratio
        if self.state.finished(phase):
            return
        if branch.pruner is None:
            self.bus.emit(PrunerFailed, pruner=branch.label, ratio=ratio, error=branch.error or "?", stage="import",
                          phase=phase)
            self._mark_done(phase)
            return
        stage = "plan"
        try:
            model, plan_info = self._pruned_model(branch, spec, run, dense)
            stage = "retrain"
            self._retrain_and_evaluate(branch, spec, run, dense, model, plan_info)
        except RunAbortedError:
            raise  # the store or the disk failed, not the pruner: the whole run stops
        except Exception as exc:  # noqa: BLE001 - one pruner's failure must not stop the others
            self.bus.emit(PrunerFailed, pruner=branch.label, ratio=ratio, error=f"{type(exc).__name__}: {exc}",
                          stage=stage, phase=phase)
            (self.run_dir / "errors").mkdir(exist_ok=True)
            (self.run_dir / "errors" / f"{slug(phase)}.txt").write_text(traceback.format_exc())
            self.state.current = None
        self._mark_done(phase)

    def _ticket(self, spec: BranchPlan, run: BranchRun, dense: DenseResult | None) -> tuple[str, str, int]:
        """(ticket kind actually used, file, epoch); an EB ticket whose detector never fired falls back to final."""
        assert dense is not None
        if spec.ticket == "init":
            return "init", dense.tickets["init"], 0
        if spec.ticket == "eb":
            key = f"eb:{run.detector}"
            if key in dense.tickets:
                return "eb", dense.tickets[key], dense.ticket_epochs[key]
            return "final (no EB)", dense.tickets["final"], dense.ticket_epochs["final"]
        return "final", dense.tickets["final"], dense.ticket_epochs["final"]

    def _pruned_model(self, branch: Branch, spec: BranchPlan, run: BranchRun,
                      dense: DenseResult | None) -> tuple[nn.Module, dict[str, Any]]:
        phase, ratio = run.phase, run.ratio
        current = self.state.current
        if current is not None and current.phase == phase and current.branch is not None:  # resuming its retraining
            model = self._new_model()
            structure = current.branch["structure"]
            rebuild_structure(model, self.example, structure["history"], structure.get("masks"))
            model.load_state_dict(current.model)
            return model.to(self.device), current.branch
        ticket, path, ticket_epoch = self._ticket(spec, run, dense)
        model = self._new_model()
        model.load_state_dict(checkpoints.load(Path(path)))
        assert branch.pruner is not None and dense is not None
        ctx = PruneContext(
            example_input=self.example, batches=self._calibration_batches, init_state=self.init_state,
            device=self.device, seed=rng.stream_seed(self.seed, rng.PRUNE, branch.label, ratio),
            num_classes=self.bundle.num_classes,
            prunable=[layer.name for layer in prunable_layers(model, self.example) if layer.independent],
            hook=branch.hook, model_name=self.profile.model.name,
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
                      asked_ratio=report.asked_ratio, achieved_ratio=report.achieved_ratio, seconds=plan_seconds,
                      phase=phase)
        check_forward_backward(pruned, next(self._calibration_batches(1)))
        cost = forward_cost(pruned, self.example)
        sparse = None if plan.structured else density_weighted_flops(cost, weight_density(pruned))
        self.bus.emit(ModelPruned, pruner=branch.label, ratio=ratio, params_before=self.dense_cost.params,
                      params_after=cost.params, flops_before=self.dense_cost.flops, flops_after=cost.flops,
                      sparse_flops_after=sparse, unsupported_ops=cost.unsupported_ops, phase=phase)
        if spec.retrain_settings().mode == "scratch":
            with rng.global_stream(self.seed, rng.SCRATCH_INIT, branch.label, run.ratio, device=self.device):
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

    def _retrain_and_evaluate(self, branch: Branch, spec: BranchPlan, run: BranchRun, dense: DenseResult | None,
                              model: nn.Module, info: dict[str, Any]) -> None:
        phase, ratio = run.phase, run.ratio
        settings: TrainSettings = spec.retrain_settings()  # [retrain] with this pruner's own keys over it
        hook = branch.hook if branch.hook is not None and branch.hook.during_retrain else None
        optimizer = make_optimizer(model, settings.lr, settings.momentum, settings.weight_decay)
        training = Phase(phase, settings.epochs, model, optimizer,
                         make_scheduler(optimizer, max(settings.epochs, 1), settings.milestones, settings.gamma),
                         self.train, self.test, self.seed, TrainingFlopAccountant(info["flops"]),
                         hook.after_backward if hook else None)
        energy = EnergyEpochs(self.energy, phase)
        checkpointer = Checkpointer(training, [energy], self.profile.checkpoint_every, self._checkpoint, branch=info)
        start_epoch = self._resume_phase(checkpointer)
        if start_epoch == 1:
            self.bus.emit(PhaseStarted, phase=phase, kind="retrain", epochs=settings.epochs, pruner=branch.label,
                          ratio=ratio)
        self.energy.phase_started(phase)
        phase_t0 = time.time()
        run_phase(training, self.bus, [energy, checkpointer], start_epoch)
        accountant = training.flops
        test = evaluate(model, self.test.batches(False))
        self._save_pruned(run, model, info)
        self.bus.emit(PhaseFinished, phase=phase, epochs=settings.epochs, seconds=time.time() - phase_t0,
                      training_flops=accountant.total)
        self.energy.phase_finished(phase)
        assert dense is not None
        ticket_key = {"eb": f"eb:{run.detector}", "init": "init"}.get(info["ticket"], "final")
        ticket_epoch = dense.ticket_epochs.get(ticket_key, info["ticket_epoch"])
        dense_flops = 0.0 if info["ticket"] == "init" else dense.cum_flops[ticket_epoch]
        dense_energy = None if info["ticket"] == "init" else _sum(dense.epoch_energy[1 : ticket_epoch + 1])
        retrain_energy = _sum(energy.joules)
        self.bus.emit(
            Evaluated, pruner=branch.label, ratio=ratio, accuracy=test.accuracy, loss=test.loss,
            ticket=info["ticket"], eb_epoch=dense.ticket_epochs.get(f"eb:{run.detector}"),
            dense_phase=dense.phase, phase=phase, ticket_epoch=ticket_epoch,
            dense_training_flops=dense_flops, retrain_training_flops=accountant.total,
            total_training_flops=dense_flops + accountant.total, params=info["params"], flops=info["flops"],
            sparse_flops=info["sparse_flops"], dense_energy_j=dense_energy, retrain_energy_j=retrain_energy,
            total_energy_j=None if retrain_energy is None else (dense_energy or 0.0) + retrain_energy,
            **self._latency(model),
        )
        self.state.current = None

    def _latency(self, model: nn.Module) -> dict[str, Any]:
        """Measured latency of ``model`` against a freshly built dense twin on the run's device (the dense row:
        against itself, which shows the measurement's own noise around 1.0x); nothing when [latency] is off."""
        settings = self.profile.latency
        if not settings.enabled:
            return {}
        with torch.random.fork_rng(devices=[]):  # building the twin must not move the run's random stream
            dense = self._new_model()
        comparison = compare_latency(dense, model, latency_batch(self.example, settings.batch),
                                     repeats=settings.repeats, warmup=settings.warmup)
        return comparison.event_fields()

    def _save_pruned(self, run: BranchRun, model: nn.Module, info: dict[str, Any]) -> None:
        """The retrained model as (registry name, pruning history, masks, state_dict): no pickled class needed."""
        checkpoints.atomic_save(
            {"model": self.profile.model.name, "options": self.profile.model.options,
             "num_classes": self.bundle.num_classes, "in_channels": self.bundle.in_channels,
             "example_shape": list(self.example.shape), **info["structure"],
             "state_dict": checkpoints.cpu_state(model)},
            self.run_dir / run.model_file,
        )

    # -- checkpoints -------------------------------------------------------------------------------------------
    def _checkpoint(self, progress: PhaseProgress) -> None:
        path = checkpoints.state_path(self.run_dir)
        self.bus.emit(CheckpointSaved, phase=progress.phase, epoch=progress.epoch, path=str(path))
        self.state.current = progress
        self._save_state()

    def _mark_done(self, phase: str) -> None:
        self.state.branches.append(phase)
        self.state.current = None
        self._save_state()

    def _save_state(self) -> None:
        self.before_checkpoint()
        self.state.seq = self.bus.seq
        checkpoints.save_state(self.state, self.run_dir)
        self.after_checkpoint()

    # -- extension points: what a caller adds around every write of the resume state ------------------------------
    def before_checkpoint(self) -> None:
        """Runs before the resume state is written; the state counts ``bus.seq`` events, so an event sink that
        must never hold fewer (a sweep task's event log) makes them durable here."""

    def after_checkpoint(self) -> None:
        """Runs after the resume state is written (a sweep task publishes its files and honours a hold here);
        ``self.state.current`` is the phase and epoch just saved, or None between phases."""


def _require_spline_for_tracking(model: nn.Module, name: str) -> None:
    """Refuse partition tracking of a non-ReLU net before anything is recorded, saying how to run it anyway."""
    try:
        require_spline(model, "partition tracking", name)
    except NotASplineError as error:
        raise NotASplineError(f"{error}. Set partition.enabled = false to train it with the structured baselines "
                              "(spline pruning and the spline EB need a ReLU net)") from None


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

