"""Starting and resuming runs: wires a profile, the event bus, the store writer and any other sinks to the pipeline.

This is the only place that knows both the engine and the store; the CLI, the dashboard's launcher, remote runs and
sweeps all come through here (or replay events into a writer the same way).
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from splinebench.engine.energy_windows import EnergyWindows
from splinebench.engine.events import Event, EventBus, RunFailed, RunResumed
from splinebench.engine.run_lock import RunLock
from splinebench.errors import BadInputError, RunAbortedError
from splinebench.profiles import Profile, profile_from_dict
from splinebench.store import StoreReader, StoreWriter

if TYPE_CHECKING:  # the pipeline pulls in torch-pruning and timm: a profile refused by preflight never pays for them
    from splinebench.engine.pipeline import Pipeline

Sink = Callable[[Event], None]


def new_run_id() -> str:
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


def preflight(profile: Profile) -> None:
    """Check every name in the profile before anything starts, so bad input costs nothing (exit 2)."""
    from splinebench.data import list_datasets
    from splinebench.errors import BadInputError
    from splinebench.prune import PluginError, check_names, check_options, create_pruner, discover
    from splinebench.zoo import (
        create_model,  # noqa: F401  (import errors surface here, not mid-run)
        list_models,
    )

    if profile.model.name not in list_models(profile.model.name):
        from splinebench.zoo import model_info

        model_info(profile.model.name)  # raises UnknownNameError with suggestions
    if profile.data.name not in list_datasets():
        from splinebench.data import load_dataset

        load_dataset(profile.data.name)  # raises UnknownNameError with suggestions
    registry = discover()
    check_names([p.name for p in profile.prune.pruners], registry)
    for index, entry in enumerate(profile.prune.pruners):
        try:
            check_options(entry.name, entry.options, registry)
            create_pruner(entry.name, registry, **entry.options)  # an option's *value* it refuses, before the run
        except PluginError:
            pass  # a plug-in that failed to load is left for the run to record
        except (BadInputError, TypeError, ValueError) as exc:
            raise BadInputError(f"prune.pruners[{index}].options: {exc}") from None
    from splinebench.engine.pipeline import resolve_device
    from splinebench.engine.plan import resolve_plan

    resolve_device(profile.device)  # device = "cuda" on a machine without one is bad input, found before anything
    resolve_plan(profile, registry)  # every branch, its ticket, ratios and retraining settings, before anything


def run_dir_for(store_path: str | os.PathLike[str], run_id: str) -> Path:
    return Path(store_path).parent / "runs" / run_id


def execute(
    profile: Profile,
    store_path: str,
    sinks: Iterable[Sink] = (),
    run_id: str | None = None,
    meter: Any | None = None,
    idle: Any | None = None,
) -> tuple[str, bool]:
    """Run ``profile`` to the end; returns (run id, succeeded). Bad input raises before the run is recorded."""
    preflight(profile)
    run_id = run_id or new_run_id()
    writer = StoreWriter(store_path)
    try:
        lock = RunLock(run_dir_for(store_path, run_id), run_id).acquire()
    except BaseException:
        writer.close()
        raise
    bus = EventBus(run_id)
    bus.subscribe(writer, required=True)  # an event the store cannot take stops the run; it is never dropped
    for sink in sinks:
        bus.subscribe(sink)
    energy = EnergyWindows(meter, bus, idle, min_coverage=profile.energy_min_coverage)
    from splinebench.engine.pipeline import Pipeline

    pipeline = Pipeline(profile, run_id, run_dir_for(store_path, run_id), bus, energy)
    return run_id, _drive(pipeline, bus, writer, lock)


def resume(store_path: str, run_id: str, sinks: Iterable[Sink] = (), meter: Any | None = None) -> tuple[str, bool]:
    """Continue an interrupted run from its last checkpoint; the store ends as if it had never stopped."""
    reader = StoreReader(store_path)
    row = reader.run(run_id)
    run_id = row.id
    profile = profile_from_dict(reader.profile(run_id))
    reader.close()
    if row.status == "finished":
        raise BadInputError(f"run {run_id} already finished; nothing to resume")
    if row.sweep_id:
        raise BadInputError(f"run {run_id} is a trial of sweep {row.sweep_id}: resume the sweep with "
                            f"`splinebench sweep --resume {row.sweep_id}`")
    if row.remote:
        raise BadInputError(f"run {run_id} runs on {row.remote.get('host')}: `splinebench runs attach {run_id}` "
                            "follows it again")
    run_dir = Path(row.results_dir or run_dir_for(store_path, run_id))
    # Taken before anything is read or written: a second resume (or one while the run still runs) stops here.
    lock = RunLock(run_dir, run_id).acquire()
    try:
        from splinebench.engine import checkpoints

        state = checkpoints.load_state(run_dir)
        if state is None:
            raise BadInputError(f"run {run_id} has no checkpoint in {run_dir}; start it again instead")
        writer = StoreWriter(store_path)
    except BaseException:
        lock.release()
        raise
    try:
        writer.truncate_after(run_id, state.seq)
        # RunResumed is bookkeeping, not part of the reproducible stream: it is stored out of band.
        writer.set_run_fields(run_id, pid=os.getpid(), status="running")
    except BaseException:
        writer.close()
        lock.release()
        raise
    bus = EventBus(run_id, start_seq=state.seq)
    bus.subscribe(writer, required=True)
    for sink in sinks:
        bus.subscribe(sink)
    for sink in sinks:
        sink(RunResumed(run_id=run_id, seq=state.seq, ts=time.time(), from_seq=state.seq, pid=os.getpid()))
    energy = EnergyWindows(meter, bus, min_coverage=profile.energy_min_coverage)
    from splinebench.engine.pipeline import Pipeline

    pipeline = Pipeline(profile, run_id, run_dir, bus, energy, resume=state)
    return run_id, _drive(pipeline, bus, writer, lock)


def _drive(pipeline: Pipeline, bus: EventBus, writer: StoreWriter, lock: RunLock) -> bool:
    try:
        pipeline.run()
        return True
    except BadInputError:
        if bus.seq > 0:
            _mark_failed(bus, "bad input; see the message above")
        raise
    except KeyboardInterrupt:
        raise  # status stays "running" with a dead pid: shown as interrupted, resumable
    except RunAbortedError as exc:
        # The store or the disk failed under the run: record it where the store still takes a write, and say
        # so in one line (exit 1). The run resumes from its last checkpoint once the cause is gone.
        unrecorded = _mark_failed(bus, str(exc))
        status = (f"the run could not be marked failed either ({unrecorded}); it shows as interrupted"
                  if unrecorded else "marked failed")
        raise RunAbortedError(f"run {bus.run_id} stopped: {exc}; {status}; resume it with "
                              f"`splinebench run --resume {bus.run_id}` once that is fixed") from exc
    except Exception as exc:  # noqa: BLE001 - recorded, then reported by exit code 1
        import traceback

        from splinebench.engine.environment import nondeterministic_op_error

        # deterministic = true met an op without a deterministic kernel: say which, exit 2
        clear = nondeterministic_op_error(exc) if isinstance(exc, RuntimeError) else None
        error = str(clear) if clear is not None else f"{type(exc).__name__}: {exc}"
        unrecorded = _mark_failed(bus, error, traceback.format_exc())
        if clear is not None:
            raise clear from None
        if unrecorded:
            raise RunAbortedError(f"run {bus.run_id} failed ({error}) and could not be marked failed: "
                                  f"{unrecorded}") from exc
        return False
    finally:
        writer.close()
        lock.release()


def _mark_failed(bus: EventBus, error: str, traceback: str = "") -> str | None:
    """Emit ``run_failed`` (taking the sequence number of an event the store lost); the reason when even that fails.

    The bus closed itself when the store lost an event; it is reopened for this one last event only.
    """
    bus.lost = None
    try:
        bus.emit(RunFailed, error=error, traceback=traceback)
    except RunAbortedError as exc:
        return str(exc.__cause__ or exc)
    return None
