"""The typed events a run emits — the one interface between the engine and everything that watches it.

The engine never talks to the store, the progress bar, the dashboard or a remote peer directly: it emits these events
on an :class:`EventBus`, and each consumer subscribes. Every event carries

* ``run_id`` — the run it belongs to,
* ``seq`` — a per-run sequence number starting at 1 with no holes, so that a remote run or a sweep worker can be
  replayed into a store *exactly once* (the store's primary key is ``(run_id, seq)``), and
* ``ts`` — wall-clock seconds (``time.time()``) on the machine that ran the step; energy windows are cut on this clock.

Events are plain frozen dataclasses that round-trip through JSON (``to_dict``/``event_from_dict``): the ``--json``
output, the remote JSONL event log and the store's ``events`` table all use that one encoding. Adding a field with a
default keeps old logs readable; renaming or removing one needs a ``SCHEMA_VERSION`` bump.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from splinebench.errors import RunAbortedError

EVENT_TYPES: dict[str, type[Event]] = {}


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of all events; ``type`` is the registered name used on the wire."""

    type: ClassVar[str] = "event"
    run_id: str
    seq: int = 0
    ts: float = 0.0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        EVENT_TYPES[cls.type] = cls

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["type"] = self.type
        return data


def event_from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from its JSON form; unknown keys (from a newer writer) are ignored."""
    cls = EVENT_TYPES.get(data.get("type", ""))
    if cls is None:
        raise ValueError(f"unknown event type {data.get('type')!r}")
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


# --- run lifecycle ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RunStarted(Event):
    """First event of a run: everything needed to reproduce it."""

    type: ClassVar[str] = "run_started"
    name: str
    profile: dict[str, Any]
    versions: dict[str, str]
    model: str
    dataset: str
    seed: int
    device: str
    host: str = ""
    pid: int = 0
    results_dir: str = ""
    pruners: list[str] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    planned_epochs: int = 0
    sweep_id: str | None = None
    plan: dict[str, Any] = field(default_factory=dict)  # the run plan (engine.plan.RunPlan.to_dict())
    #: versions, threads, CPU model, CUDA/GPU and deterministic flags (engine.environment.fingerprint); None in
    #: runs recorded before it existed
    environment: dict[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class RunResumed(Event):
    type: ClassVar[str] = "run_resumed"
    from_seq: int
    pid: int = 0


@dataclass(frozen=True, kw_only=True)
class RunFinished(Event):
    type: ClassVar[str] = "run_finished"
    seconds: float
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class RunFailed(Event):
    type: ClassVar[str] = "run_failed"
    error: str
    traceback: str = ""


# --- phases and epochs -----------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PhaseStarted(Event):
    """A phase is one training stretch: ``dense`` (or ``dense:<group>``) or ``retrain:<pruner>@<ratio>``."""

    type: ClassVar[str] = "phase_started"
    phase: str
    kind: str  # "dense" | "retrain"
    epochs: int
    pruner: str | None = None
    ratio: float | None = None


@dataclass(frozen=True, kw_only=True)
class EpochFinished(Event):
    type: ClassVar[str] = "epoch_finished"
    phase: str
    epoch: int  # 1-based: epoch 1 is the first pass over the data
    train_loss: float
    train_acc: float
    test_loss: float
    test_acc: float
    lr: float
    seconds: float
    samples: int
    training_flops: float  # this epoch's training MACs (fvcore convention), tracker passes included


@dataclass(frozen=True, kw_only=True)
class PartitionDistances(Event):
    """Distances between the partition codes after ``epoch`` and after ``epoch - 1`` (Sec. 3.2)."""

    type: ClassVar[str] = "partition_distances"
    phase: str
    epoch: int
    per_layer: dict[str, float]
    mean_of_layers: float
    bit_weighted: float


@dataclass(frozen=True, kw_only=True)
class DistanceMatrixRow(Event):
    """Row ``epoch`` of the epoch x epoch distance matrix (Fig. 5): distances to snapshots 0..epoch-1."""

    type: ClassVar[str] = "distance_matrix_row"
    phase: str
    epoch: int
    distances: list[float]
    subsampled: bool = False


@dataclass(frozen=True, kw_only=True)
class EarlyBirdFired(Event):
    type: ClassVar[str] = "early_bird_fired"
    detector: str  # "spline" | "mask" | a plug-in's name
    phase: str
    epoch: int
    eps: float | None  # None: a plug-in detector's hook did not say (0.0 would read as a threshold)
    window: int | None
    fifo: list[float]


@dataclass(frozen=True, kw_only=True)
class PhaseFinished(Event):
    type: ClassVar[str] = "phase_finished"
    phase: str
    epochs: int
    seconds: float
    training_flops: float
    stopped_early: bool = False


@dataclass(frozen=True, kw_only=True)
class CheckpointSaved(Event):
    type: ClassVar[str] = "checkpoint_saved"
    phase: str
    epoch: int
    path: str


# --- pruning ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PlanMade(Event):
    """A pruner's answer: which units of which layers go (structured) or the kept density (unstructured)."""

    type: ClassVar[str] = "plan_made"
    pruner: str
    ratio: float
    ticket: str  # "eb" | "final" | "init"
    ticket_epoch: int
    structured: bool
    layers: list[dict[str, Any]]  # per layer: name, units_before, units_after, asked, achieved, reason
    asked_ratio: float
    achieved_ratio: float
    seconds: float
    phase: str = ""  # the branch's phase in the run plan (the dense phase for the "dense" result)


@dataclass(frozen=True, kw_only=True)
class ModelPruned(Event):
    type: ClassVar[str] = "model_pruned"
    pruner: str
    ratio: float
    params_before: int
    params_after: int
    flops_before: float  # per-sample forward MACs (fvcore)
    flops_after: float  # structured: of the smaller model; unstructured: dense count (masks do not speed up)
    sparse_flops_after: float | None = None  # unstructured only: density-weighted MACs, labelled as such
    unsupported_ops: dict[str, int] = field(default_factory=dict)
    checked_forward_backward: bool = True
    phase: str = ""  # the branch's phase in the run plan (the dense phase for the "dense" result)


@dataclass(frozen=True, kw_only=True)
class PrunerFailed(Event):
    type: ClassVar[str] = "pruner_failed"
    pruner: str
    ratio: float | None
    error: str
    stage: str  # "import" | "plan" | "apply" | "check" | "retrain"
    phase: str = ""  # the branch's phase in the run plan (the dense phase for the "dense" result)


@dataclass(frozen=True, kw_only=True)
class Evaluated(Event):
    """Final result of one (pruner, ratio) branch, or of the dense model (pruner "dense", ratio 0)."""

    type: ClassVar[str] = "evaluated"
    pruner: str
    ratio: float
    accuracy: float
    loss: float
    ticket: str
    eb_epoch: int | None
    dense_training_flops: float  # charged to this branch: dense training up to its ticket
    retrain_training_flops: float
    total_training_flops: float
    params: int
    flops: float
    sparse_flops: float | None = None
    dense_phase: str = "dense"  # the dense training this branch's ticket came from
    ticket_epoch: int | None = None
    dense_energy_j: float | None = None  # None: no meter (or the meter could not say; see the energy table)
    retrain_energy_j: float | None = None
    total_energy_j: float | None = None
    phase: str = ""  # the branch's phase in the run plan (the dense phase for the "dense" result)
    # measured inference latency on the run's device (measure.latency), None when [latency] is off: ms per batch
    latency_ms: float | None = None  # median over rounds; pruned model (dense row: the dense model)
    latency_iqr_ms: float | None = None
    dense_latency_ms: float | None = None
    speedup: float | None = None  # median of per-round dense / pruned latency ratios
    speedup_iqr: float | None = None
    latency_batch: int | None = None
    latency_repeats: int | None = None
    latency_method: str | None = None


@dataclass(frozen=True, kw_only=True)
class ModelFlops(Event):
    type: ClassVar[str] = "model_flops"
    tag: str
    params: int
    flops: float
    unsupported_ops: dict[str, int] = field(default_factory=dict)


# --- energy ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class EnergyMeasured(Event):
    """Energy of one window (a phase or an epoch) from the run's meter; ``joules`` is None with ``why`` when unknown."""

    type: ClassVar[str] = "energy_measured"
    window: str  # "phase" | "epoch" | "idle" | "run"
    phase: str
    epoch: int | None
    t0: float
    t1: float
    joules: float | None
    mean_power_w: float | None
    idle_power_w: float | None = None
    net_joules: float | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    why: str | None = None
    coverage: float | None = None  # fraction of [t0, t1] covered by samples
    partial: bool = False  # joules under-count: coverage below min_coverage, or (a phase) it holds a partial epoch
    min_coverage: float | None = None


# --- delivery --------------------------------------------------------------------------------------------------

Subscriber = Callable[[Event], None]


class EventLostError(RunAbortedError):
    """A required subscriber (the store) could not take an event: the run stops rather than lose it."""


class EventBus:
    """Numbers, timestamps and delivers events to subscribers, in order.

    Two kinds of subscriber. A *watcher* (progress bar, ``--json``, an event log) that raises is a bug in that
    watcher; it is not allowed to break training, so the error is kept in ``errors`` and the others still get the
    event. A *required* subscriber (the store writer) is where the run's record lives: when it raises, the event
    is not delivered to anyone else, its sequence number is given back (so the ``run_failed`` written in its place
    leaves no hole) and :class:`EventLostError` stops the run. The bus is then closed: every later ``emit`` raises
    too, so a ``try``/``except`` somewhere in the pipeline cannot carry on past a lost event.
    """

    def __init__(self, run_id: str, start_seq: int = 0, clock: Callable[[], float] = time.time) -> None:
        self.run_id = run_id
        self.seq = start_seq
        self.clock = clock
        self._subscribers: list[tuple[Subscriber, bool]] = []
        self.errors: list[tuple[Subscriber, BaseException]] = []
        self.lost: EventLostError | None = None

    def subscribe(self, subscriber: Subscriber, *, required: bool = False) -> None:
        self._subscribers.append((subscriber, required))

    def emit(self, event_type: type[Event], **fields: Any) -> Event:
        if self.lost is not None:
            raise self.lost
        self.seq += 1
        event = event_type(run_id=self.run_id, seq=self.seq, ts=self.clock(), **fields)
        try:
            self.deliver(event)
        except EventLostError:
            self.seq -= 1
            raise
        return event

    def deliver(self, event: Event) -> None:
        """Hand an already-numbered event (e.g. replayed from a remote log) to every subscriber."""
        if self.lost is not None:
            raise self.lost
        for subscriber, required in self._subscribers:
            try:
                subscriber(event)
            except Exception as exc:  # noqa: BLE001 - a watcher must never stop training; a required sink must
                if required:
                    self.lost = EventLostError(f"event {event.seq} ({event.type}) of run {event.run_id} could not "
                                               f"be stored: {exc}")
                    raise self.lost from exc
                self.errors.append((subscriber, exc))
