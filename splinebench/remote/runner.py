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
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from splinebench.engine.events import Event, event_from_dict
from splinebench.engine.run import new_run_id, preflight, run_dir_for
from splinebench.errors import BadInputError
from splinebench.profiles import Profile
from splinebench.remote.session import ConnectOptions, RemoteSession, remote_path
from splinebench.store import StoreReader, StoreWriter

Sink = Callable[[Event], None]
TERMINAL = {"run_finished", "run_failed"}


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


@dataclass
class RemoteRun:
    run_id: str
    remote_dir: str
    pid: int
    host: str


class Tail:
    """Complete JSON lines of a growing file, from a byte offset (a partial last line waits for its end)."""

    def __init__(self, offset: int = 0) -> None:
        self.offset = offset
        self._partial = b""

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        self.offset += len(data)
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        return [json.loads(line) for line in lines if line.strip()]


def run_remote(
    profile: Profile, store_path: str, options: RemoteOptions, sinks: Iterable[Sink] = ()
) -> tuple[str, bool]:
    """Start ``profile`` on the remote host and follow it to the end; returns (run id, succeeded)."""
    preflight(profile)
    run_id = new_run_id()
    return run_id, asyncio.run(_start_and_follow(profile, store_path, options, list(sinks), run_id))


def attach(store_path: str, run_id: str, options: RemoteOptions, sinks: Iterable[Sink] = ()) -> tuple[str, bool]:
    """Reconnect to a remote run recorded in the store and catch up on everything it did meanwhile."""
    reader = StoreReader(store_path)
    row = reader.run(run_id)
    reader.close()
    if not row.remote:
        raise BadInputError(f"run {row.id} is not a remote run")
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
        return asyncio.run(_stop_remote(connect, int(row.remote["pid"]), row.id, store_path))
    if row.status != "running" or not row.pid:
        raise BadInputError(f"run {row.id} is {row.status}; nothing to stop")
    try:
        os.kill(row.pid, signal.SIGINT)
    except ProcessLookupError:
        raise BadInputError(f"run {row.id}: its process {row.pid} is gone (interrupted)") from None
    return f"sent SIGINT to local run {row.id} (pid {row.pid})"


async def _stop_remote(connect: ConnectOptions, pid: int, run_id: str, store_path: str) -> str:
    session = RemoteSession(connect)
    await session.open()
    try:
        if not await session.pid_alive(pid):
            return f"remote run {run_id} (pid {pid}) is not running"
        await session.signal(pid, "INT")
        for _ in range(40):
            if not await session.pid_alive(pid):
                break
            await asyncio.sleep(0.25)
        else:
            await session.signal(pid, "TERM")
        writer = StoreWriter(store_path)
        writer.set_run_fields(run_id, status="interrupted")
        writer.close()
        return f"stopped remote run {run_id} (pid {pid} on {session.target.display})"
    finally:
        await session.close()


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
    tail = Tail()
    last_seq = writer.last_seq(remote.run_id)
    outcome: str | None = None
    offsets: list[dict[str, float]] = [{"t": time.time(), "offset_s": session.clock_offset_s}]
    details = {"url": options.connect.url, "host": remote.host, "remote_run_id": remote.run_id, "pid": remote.pid,
               "remote_dir": remote.remote_dir, "clock_offsets": offsets}
    try:
        while outcome is None:
            try:
                data = await session.read_from(log, tail.offset)
                events = tail.feed(data)
                for payload in events:
                    if payload["seq"] <= last_seq:
                        continue  # already stored before a reconnect or an attach
                    writer.write(payload)
                    last_seq = payload["seq"]
                    if payload["type"] == "run_started":
                        local_dir = run_dir_for(store_path, remote.run_id)
                        writer.set_run_fields(remote.run_id, remote=details, results_dir=str(local_dir))
                    windows.observe(payload)
                    event = event_from_dict(payload)
                    for sink in sinks:
                        sink(event)
                    if payload["type"] in TERMINAL:
                        outcome = payload["type"]
                windows.flush()
                # the run died without a last word? (one more read: the log may have grown meanwhile)
                if (not data and outcome is None and not await session.pid_alive(remote.pid)
                        and not await session.read_from(log, tail.offset)):
                    outcome = "vanished"
                    writer.set_run_fields(remote.run_id, status="interrupted")
                if outcome is None:
                    await asyncio.sleep(options.poll_s)
            except (OSError, asyncio.TimeoutError, ConnectionError, _ssh_errors()) as exc:
                await _reconnect(session, options, exc)
                offsets.append({"t": time.time(), "offset_s": session.clock_offset_s})
                writer.set_run_fields(remote.run_id, remote=details)
    except (KeyboardInterrupt, asyncio.CancelledError):
        if options.stop_on_exit:
            await session.signal(remote.pid, "INT")
        raise
    finally:
        windows.flush(final=True)
        if meter is not None:
            await meter.astop()
        writer.attribute_energy(remote.run_id)
        if outcome in TERMINAL and options.fetch:
            try:
                await session.fetch_tree(remote_path(remote.remote_dir, "runs", remote.run_id),
                                         run_dir_for(store_path, remote.run_id))
            except Exception as exc:  # noqa: BLE001 - the results are in the store; files can be fetched later
                writer.set_run_fields(remote.run_id, error=f"fetch failed: {exc}")
        writer.close()
        await session.close()
    return outcome == "run_finished"


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
