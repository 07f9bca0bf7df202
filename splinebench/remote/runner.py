"""Run a profile on another machine over SSH and record it here, as if it had run locally.

    splinebench run profiles/quickstart.toml --on ssh://user@jetson

1. check the remote splinebench's event/store schema (``--version``), refuse a mismatch;
2. send the fully resolved profile over SFTP and start the run *detached* (``setsid nohup``): it writes its own store
   and an append-only JSONL event log on the board, so a dropped link cannot stop the training;
3. tail that log from a byte offset and write each event into the local store under the same run id. Events carry
   sequence numbers and the store keys them by ``(run_id, seq)``: after a reconnect, re-reading from any offset stores
   nothing twice and loses nothing;
4. meter the board (tegrastats over SSH by default) and cut the samples into the run's phases and epochs on the
   board's clock, using the remote events' own timestamps;
5. when the run ends, fetch its checkpoints and pruned models into the local results directory.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from splinebench.engine.events import Event
from splinebench.engine.run import new_run_id, preflight, run_dir_for
from splinebench.errors import BadInputError
from splinebench.profiles import Profile
from splinebench.remote.intake import TERMINAL, EventIntake
from splinebench.remote.session import ConnectOptions, RemoteError, RemoteSession, remote_path
from splinebench.store import StoreReader, StoreWriter

Sink = Callable[[Event], None]
STOP_GRACE_S = 8.0  # SIGINT -> SIGTERM: a run checkpoints at the end of its current step, which on a board can take s
READ_CHUNK = 1 << 20  # bytes of the board's log read per request: a huge log is read in steps, never all at once


def _stderr(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


@dataclass
class RemoteOptions:
    connect: ConnectOptions
    remote_cmd: str = "splinebench"
    remote_dir: str = "~/.splinebench/remote"
    fetch: bool = True
    stop_on_exit: bool = False
    energy: str | None = None  # None: tegrastats over this same host; "none": no meter; else a meter URL
    poll_s: float = 0.5
    reconnect_max_s: float = 120.0
    meter_options: dict[str, Any] = field(default_factory=dict)
    warn: Callable[[str], None] = _stderr  # one line per problem with the board's output


@dataclass
class RemoteRun:
    run_id: str
    remote_dir: str
    pid: int
    host: str


def run_remote(
    profile: Profile, store_path: str, options: RemoteOptions, sinks: Iterable[Sink] = ()
) -> tuple[str, bool]:
    """Start ``profile`` on the remote host and follow it to the end; returns (run id, succeeded)."""
    preflight(profile)
    run_id = new_run_id()
    return run_id, asyncio.run(_start_and_follow(profile, store_path, options, list(sinks), run_id))


class AlreadyOver(Exception):  # noqa: N818 - not an error: the answer "nothing to do", said to the user
    """``runs attach`` on a remote run that is no longer running: nothing to follow, nothing changed."""


def attach(store_path: str, run_id: str, options: RemoteOptions, sinks: Iterable[Sink] = ()) -> tuple[str, bool]:
    """Reconnect to a remote run recorded in the store and catch up on everything it did meanwhile.

    A run that is no longer running here (finished, failed, interrupted) raises :class:`AlreadyOver` and is left
    exactly as it is: attaching is for runs whose follower went away while the board went on.
    """
    reader = StoreReader(store_path)
    row = reader.run(run_id)
    reader.close()
    if not row.remote:
        raise BadInputError(f"run {row.id} is not a remote run")
    if row.status != "running":
        raise AlreadyOver(f"run {row.id} is {row.status}; nothing to attach to"
                          + (f" ({row.error})" if row.error else ""))
    remote = RemoteRun(row.id, row.remote["remote_dir"], int(row.remote["pid"]), row.remote["host"])
    options.connect.url = row.remote["url"]
    return row.id, asyncio.run(_follow(store_path, options, list(sinks), remote))


def stop(store_path: str, run_id: str, options: RemoteOptions | None = None) -> str:
    """Stop a run by its PID: over SSH for a remote run, with a signal for a local one. Returns what was done."""
    reader = StoreReader(store_path)
    row = reader.run(run_id)
    reader.close()
    if row.remote:
        connect = options.connect if options else ConnectOptions(row.remote["url"])
        connect.url = row.remote["url"]
        remote = RemoteRun(row.id, row.remote["remote_dir"], int(row.remote["pid"]), row.remote["host"])
        return asyncio.run(_stop_remote(connect, remote, row.status, store_path))
    if row.status != "running" or not row.pid:
        raise BadInputError(f"run {row.id} is {row.status}; nothing to stop")
    try:
        os.kill(row.pid, signal.SIGINT)
    except ProcessLookupError:
        raise BadInputError(f"run {row.id}: its process {row.pid} is gone (interrupted)") from None
    return f"sent SIGINT to local run {row.id} (pid {row.pid})"


async def _stop_remote(connect: ConnectOptions, remote: RemoteRun, status: str, store_path: str) -> str:
    """Stop the run on the board (see :func:`_stop_on`), then record here what happened."""
    session = RemoteSession(connect)
    await session.open()
    try:
        if not await session.run_alive(remote.pid, remote.run_id):
            if status == "running":
                return (f"remote run {remote.run_id} (pid {remote.pid}) has already ended on the board; "
                        f"`splinebench runs attach {remote.run_id}` records how it ended")
            return f"remote run {remote.run_id} (pid {remote.pid}) is not running; it is {status} here"
        how, last = await _stop_on(session, remote)
        writer = StoreWriter(store_path)
        try:
            if last not in TERMINAL:  # a run that had just finished keeps its own last word
                writer.set_run_fields(remote.run_id, status="interrupted")
        finally:
            writer.close()
        ended = f"it had already ended ({last})" if last in TERMINAL else "recorded as interrupted"
        return f"stopped remote run {remote.run_id} (pid {remote.pid} on {session.target.display}) with {how}; {ended}"
    finally:
        await session.close()


async def _stop_on(session: RemoteSession, remote: RemoteRun) -> tuple[str, str | None]:
    """SIGINT to the run's process group (it stops as after a Ctrl-C, records "interrupted" in the board's store and
    exits), SIGTERM after a grace period, SIGKILL as the last resort. Returns (the signal that worked, the type of the
    run's last event)."""
    how = "SIGINT"
    await session.signal_group(remote.pid, "INT")
    for name, wait_s in (("TERM", STOP_GRACE_S), ("KILL", 3.0), (None, 3.0)):
        if await _gone(session, remote, wait_s):
            break
        if name is None:
            raise RemoteError(f"remote run {remote.run_id} (pid {remote.pid} on {session.target.display}) "
                              "survived SIGKILL; stop it there by hand")
        how = f"SIG{name}"
        await session.signal_group(remote.pid, name)
    return how, await _last_event_type(session, remote)


async def _gone(session: RemoteSession, remote: RemoteRun, wait_s: float) -> bool:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if not await session.run_alive(remote.pid, remote.run_id):
            return True
        await asyncio.sleep(0.2)
    return not await session.run_alive(remote.pid, remote.run_id)


async def _last_event_type(session: RemoteSession, remote: RemoteRun) -> str | None:
    """Type of the last complete line of the board's event log, if it is a valid JSON object of this run."""
    log = remote_path(remote.remote_dir, "events.jsonl")
    tail_bytes = await session.read_tail(log, 64 * 1024)
    for raw in reversed(tail_bytes.split(b"\n")):
        if raw.strip():
            try:
                payload = json.loads(raw)
            except ValueError:
                return None
            if isinstance(payload, dict) and payload.get("run_id") == remote.run_id:
                kind = payload.get("type")
                return kind if isinstance(kind, str) else None
            return None
    return None


async def _start_and_follow(profile: Profile, store_path: str, options: RemoteOptions, sinks: list[Sink],
                            run_id: str) -> bool:
    session = RemoteSession(options.connect)
    await session.open()
    meter = None
    try:
        await session.check_version(options.remote_cmd)
        meter = await _start_meter(options)  # before the run starts: its first epoch is metered too
        base = options.remote_dir
        if base.startswith("~/"):
            base = remote_path(await session.home(), base[2:])
        directory = remote_path(base, run_id)
        await session.mkdir(directory)
        resolved = profile.model_dump(mode="json")
        resolved["remote"] = None  # the board runs it locally
        await session.put_text(remote_path(directory, "profile.json"), json.dumps(resolved, indent=1))
        command = (f"{options.remote_cmd} run profile.json --store store.sqlite --event-log events.jsonl "
                   f"--run-id {run_id}")
        pid = await session.start_detached(command, cwd=directory, log="run.log")
    except BaseException:
        if meter is not None:
            await meter.astop()
        raise
    finally:
        await session.close()
    remote = RemoteRun(run_id, directory, pid, session.target.display)
    return await _follow(store_path, options, sinks, remote, meter)


async def _follow(store_path: str, options: RemoteOptions, sinks: list[Sink], remote: RemoteRun,
                  meter: Any | None = None) -> bool:
    writer = StoreWriter(store_path)
    session = RemoteSession(options.connect)
    await session.open()
    if meter is None:
        meter = await _start_meter(options)
    windows = _EnergyWindows(meter, writer, remote.run_id)
    log = remote_path(remote.remote_dir, "events.jsonl")
    details = _recorded_remote(store_path, remote.run_id)
    offsets: list[dict[str, float]] = [*details.get("clock_offsets", []),
                                       {"t": time.time(), "offset_s": session.clock_offset_s}]
    details.update({"url": options.connect.url, "host": remote.host, "remote_run_id": remote.run_id,
                    "pid": remote.pid, "remote_dir": remote.remote_dir, "clock_offsets": offsets})
    intake = EventIntake(writer, remote.run_id, details, sinks=sinks, warn=options.warn, observe=windows.observe,
                         results_dir=str(run_dir_for(store_path, remote.run_id)))
    outcome: str | None = None
    try:
        while outcome is None:
            try:
                data = await session.read_from(log, intake.tail.offset, READ_CHUNK)
                outcome = intake.feed(data)
                windows.flush()
                # the run died without a last word? (one more read: the log may have grown meanwhile)
                if (len(data) < READ_CHUNK and outcome is None
                        and not await session.run_alive(remote.pid, remote.run_id)
                        and not await session.read_from(log, intake.tail.offset, 1)):
                    outcome = "vanished"
                    intake.ended_without_last_word()
                if outcome is None and len(data) < READ_CHUNK:
                    await asyncio.sleep(options.poll_s)
            except (OSError, asyncio.TimeoutError, ConnectionError, _ssh_errors()) as exc:
                await _reconnect(session, options, exc)
                offsets.append({"t": time.time(), "offset_s": session.clock_offset_s})
                intake.save()
                if intake.last_seq:
                    writer.set_run_fields(remote.run_id, remote=details)
    except (KeyboardInterrupt, asyncio.CancelledError):
        if options.stop_on_exit and outcome is None:
            _, last = await _stop_on(session, remote)
            if last not in TERMINAL:
                writer.set_run_fields(remote.run_id, status="interrupted")
            options.warn(f"run {remote.run_id}: stopped on the board ({last or 'no last event'}), "
                         "as --stop-on-exit asks")
        raise
    finally:
        windows.flush(final=True)
        if meter is not None:
            await meter.astop()
        writer.attribute_energy(remote.run_id)
        if outcome in TERMINAL and options.fetch:
            try:
                fetched = await session.fetch_tree(remote_path(remote.remote_dir, "runs", remote.run_id),
                                                   run_dir_for(store_path, remote.run_id))
                for skipped in fetched.skipped:
                    options.warn(f"run {remote.run_id}: not fetched: {skipped}")
            except Exception as exc:  # noqa: BLE001 - the results are in the store; files can be fetched later
                writer.set_run_fields(remote.run_id, error=f"fetch failed: {exc}")
        writer.close()
        await session.close()
    if not intake.last_seq and intake.rejections:
        raise RemoteError(f"nothing of remote run {remote.run_id} was recorded: {intake.summary()}")
    return outcome == "run_finished"


def _recorded_remote(store_path: str, run_id: str) -> dict[str, Any]:
    """What an earlier follower recorded about this remote run (where it stopped reading, what it rejected)."""
    try:
        reader = StoreReader(store_path)
        try:
            row = reader.run(run_id)
        finally:
            reader.close()
    except BadInputError:  # not recorded yet: the first follower of a new run
        return {}
    return dict(row.remote) if row.id == run_id and isinstance(row.remote, dict) else {}


def _ssh_errors() -> type[BaseException]:
    import asyncssh

    return asyncssh.Error


async def _reconnect(session: RemoteSession, options: RemoteOptions, cause: BaseException) -> None:
    """Back off and reconnect until the host answers again; the remote run is not affected by the gap."""
    delay, waited = 0.25, 0.0
    while True:
        await asyncio.sleep(delay)
        waited += delay
        try:
            await session.reopen()
            return
        except Exception as exc:  # noqa: BLE001 - keep trying until the deadline
            if waited >= options.reconnect_max_s:
                raise BadInputError(f"lost the link to {session.target.display} ({cause}) and could not reconnect "
                                    f"within {options.reconnect_max_s:.0f} s: {exc}. The remote run goes on; "
                                    "`splinebench runs attach RUN_ID` catches up later") from None
            delay = min(delay * 2, 8.0)


async def _start_meter(options: RemoteOptions) -> Any | None:
    if options.energy == "none":
        return None
    from splinebench.measure.energy import open_meter

    url = options.energy or options.connect.url
    meter = open_meter(url, accept_new_host=options.connect.accept_new_host, **options.meter_options)
    await meter.astart()
    return meter


class _EnergyWindows:
    """Energy of each remote epoch and phase, cut on the board's clock from the remote events' timestamps."""

    def __init__(self, meter: Any | None, writer: StoreWriter, run_id: str) -> None:
        self.meter = meter
        self.writer = writer
        self.run_id = run_id
        self.phase_t0: dict[str, float] = {}
        self.pending: list[dict[str, Any]] = []

    def observe(self, p: dict[str, Any]) -> None:
        if self.meter is None:
            return
        if p["type"] == "phase_started":
            self.phase_t0[p["phase"]] = p["ts"]
        elif p["type"] == "epoch_finished":
            self.pending.append({"window": "epoch", "phase": p["phase"], "epoch": p["epoch"],
                                 "t0": p["ts"] - p["seconds"], "t1": p["ts"]})
        elif p["type"] == "phase_finished" and p["phase"] in self.phase_t0:
            self.pending.append({"window": "phase", "phase": p["phase"], "epoch": None,
                                 "t0": self.phase_t0.pop(p["phase"]), "t1": p["ts"]})

    def flush(self, final: bool = False) -> None:
        """Measure the windows whose end the meter's samples have passed (all of them at the end)."""
        if self.meter is None:
            return
        now = self.meter.now()
        interval = getattr(self.meter, "interval_s", 1.0)
        ready = [w for w in self.pending if final or w["t1"] + 2 * interval < now]
        for w in ready:
            self.pending.remove(w)
            window = self.meter.energy(w["t0"], w["t1"], wait=False)
            self.writer.write_energy_window(self.run_id, {
                **w, "joules": window.joules, "mean_power_w": window.mean_power_w, "why": window.why_unavailable,
                "provenance": {"meter": window.meter, "method": window.method, "n_samples": window.n_samples,
                               "coverage": window.coverage, "gaps": window.gaps, "clock": "board"},
            })
