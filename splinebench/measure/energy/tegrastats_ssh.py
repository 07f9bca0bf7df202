"""A Jetson's power rails streamed over SSH: ``tegrastats`` (or the INA3221 sysfs files) on the board.

How the remote process is handled, because a TX2 ships OpenSSH 7.6, which ignores SSH signal requests, so
closing or signalling the channel alone can leave tegrastats running on the board:

* the command is ``echo $$; exec tegrastats --interval N``: the first line is the remote PID, and ``exec``
  keeps that PID for tegrastats itself;
* stopping runs ``kill PID`` on a fresh exec channel (only if ``/proc/PID/cmdline`` still names tegrastats, so
  a reused PID is never hit), waits for it to go, falls back to ``tegrastats --stop``, and reports any
  survivor;
* the stream runs on a pseudo-terminal, so if everything else fails (our process is killed) the board's sshd
  hangs up the terminal and tegrastats gets SIGHUP; the pty also keeps tegrastats' output line-buffered.

A dropped link is reconnected with bounded exponential back-off while training goes on; the stretch between
the last sample before the drop and the first one after is recorded as an explicit gap. Samples are stamped on
arrival and shifted onto the board's clock (offset measured with ``date`` at every connect), so windows opened
with :meth:`TegrastatsOverSSH.now` or on the board itself line up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import shlex
import threading
import time
from collections import deque
from collections.abc import Coroutine
from typing import Any, TypeVar

import asyncssh

from splinebench.errors import BadInputError
from splinebench.measure import ssh
from splinebench.measure.energy.ina3221 import (
    LOOP_MARKER,
    Channel,
    parse_remote_discovery,
    remote_discovery_command,
    remote_loop_script,
)
from splinebench.measure.energy.meter import EnergyMeter, MeterUnavailableError
from splinebench.measure.energy.tegrastats import TegrastatsParser

T = TypeVar("T")
log = logging.getLogger(__name__)

_L4T = re.compile(r"R(\d+)\s*\(release\),\s*REVISION:\s*([\d.]+)")


def _flag(value: str | None) -> bool:
    return value is not None and value.strip().lower() in ("", "1", "true", "yes", "on")


class _LoopThread:
    """An asyncio loop on a daemon thread, so the synchronous training loop can drive an async meter."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def call(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        if not self.thread.is_alive():
            self.loop.close()


class TegrastatsOverSSH(EnergyMeter):
    """Energy meter for a Jetson reached at ``ssh://user@host[:port]`` (see the module docstring).

    URL options: ``?sudo=1`` runs ``sudo -n tegrastats`` (needed for rails on Orin / newer L4T);
    ``?sysfs=1`` samples the INA3221 sysfs files instead of tegrastats; ``?tegrastats=/path`` names the tool.
    """

    name = "tegrastats-ssh"

    def __init__(
        self,
        url: str,
        *,
        accept_new_host: bool = False,
        interval_ms: int = 1000,
        known_hosts: str | list[str] | None = None,
        client_keys: list[str] | None = None,
        config: list[str] | None = None,
        sysfs: bool | None = None,
        sysfs_root: str | None = None,
        tegrastats: str | None = None,
        sudo: bool | None = None,
        backoff_initial_s: float = 0.25,
        backoff_max_s: float = 8.0,
        stall_timeout_s: float | None = None,
        connect_timeout_s: float = 10.0,
        start_timeout_s: float | None = None,
    ) -> None:
        super().__init__(interval_ms=interval_ms)
        self.target = ssh.parse_ssh_url(url)
        opts = self.target.options
        unknown = set(opts) - {"sudo", "sysfs", "sysfs_root", "tegrastats"}
        if unknown:
            raise BadInputError(
                f"unknown option(s) {sorted(unknown)} in {url!r} (known: sudo, sysfs, tegrastats)"
            )
        self.accept_new_host = accept_new_host
        self.known_hosts, self.client_keys, self.config = known_hosts, client_keys, config
        self.sysfs = sysfs if sysfs is not None else _flag(opts.get("sysfs"))
        self.sysfs_root = sysfs_root if sysfs_root is not None else opts.get("sysfs_root", "/")
        self.sudo = sudo if sudo is not None else _flag(opts.get("sudo"))
        self.tegrastats = tegrastats or opts.get("tegrastats") or "tegrastats"
        self.backoff_initial_s, self.backoff_max_s = backoff_initial_s, backoff_max_s
        self.stall_timeout_s = stall_timeout_s or max(5.0, 5 * self.interval_s)
        self.connect_timeout_s = connect_timeout_s
        self.start_timeout_s = start_timeout_s or max(10.0, 3 * self.interval_s + 5.0)
        self.parser = TegrastatsParser()
        self.reconnects = 0
        self.last_error: str | None = None
        self.remote_left_running: list[int] = []
        self._board: dict[str, Any] = {}
        self._clock_offset_s = 0.0
        self._clock_uncertainty_s: float | None = None
        self._channels: list[Channel] = []
        self._pids: list[int] = []
        self._conn: asyncssh.SSHClientConnection | None = None
        self._process: asyncssh.SSHClientProcess[str] | None = None
        self._task: asyncio.Task[None] | None = None
        self._owner_loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: _LoopThread | None = None
        self._stopping = False
        self._recent_output: deque[str] = deque(maxlen=6)

    # ----------------------------------------------------------------- clock and commands
    @property
    def clock_offset_s(self) -> float:
        """Board clock minus local clock, measured at the last connect; :meth:`now` is the board's clock."""
        return self._clock_offset_s

    @property
    def tegrastats_command(self) -> str:
        return f"sudo -n {self.tegrastats}" if self.sudo else self.tegrastats

    def stream_command(self) -> str:
        """The remote command: its first output line is its PID, which ``exec`` hands to the sampler."""
        if self.sysfs:
            loop = remote_loop_script(self._channels, self.interval_s)
            return f"echo $$; exec sh -c {shlex.quote(loop)}"
        return f"echo $$; exec {self.tegrastats_command} --interval {round(self.interval_s * 1000)}"

    def stop_command(self, pids: list[int]) -> str:
        """Kill our remote samplers by PID, only while ``/proc/PID/cmdline`` shows they are still ours.

        TERM first; after 2 s ``tegrastats --stop`` and KILL; prints ``alive PID`` for any survivor.
        """
        plist = " ".join(str(p) for p in pids)
        ours = f"[ -d /proc/$p ] && grep -q -e tegrastats -e {LOOP_MARKER} /proc/$p/cmdline 2>/dev/null"
        fallback = "" if self.sysfs else f"{self.tegrastats_command} --stop >/dev/null 2>&1; sleep 0.3; "
        return (
            f"pids='{plist}'; alive() {{ for p in $pids; do {ours} && return 0; done; return 1; }}; "
            f"for p in $pids; do {ours} && kill $p 2>/dev/null; done; "
            "i=0; while alive && [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done; "
            f"if alive; then {fallback}for p in $pids; do {ours} && kill -9 $p 2>/dev/null; done; "
            "sleep 0.2; fi; "
            f'for p in $pids; do {ours} && echo "alive $p"; done; true'
        )

    def _probe_command(self) -> str:
        tool = shlex.quote(self.tegrastats.split()[-1])
        return (
            "printf 'model=%s\\n' \"$(tr -d '\\000' < /proc/device-tree/model 2>/dev/null)\"; "
            "printf 'l4t=%s\\n' \"$(head -n 1 /etc/nv_tegra_release 2>/dev/null)\"; "
            "printf 'hostname=%s\\n' \"$(hostname 2>/dev/null || uname -n)\"; "
            f"printf 'tegrastats=%s\\n' \"$(command -v {tool} 2>/dev/null)\""
        )

    # ----------------------------------------------------------------- connection
    async def _connect(self) -> asyncssh.SSHClientConnection:
        return await ssh.connect(
            self.target,
            self.accept_new_host,
            known_hosts=self.known_hosts,
            client_keys=self.client_keys,
            config=self.config,
            connect_timeout_s=self.connect_timeout_s,
        )

    async def _probe_board(self, conn: asyncssh.SSHClientConnection, rounds: int = 4) -> None:
        """Board clock offset (NTP-style, min round trip) and provenance, over one already running remote
        shell.

        Timing a fresh exec channel would include the remote shell's start-up (rc files), which is not
        symmetric.
        """
        best: tuple[float, float] | None = None
        fields: dict[str, str] = {}
        process = await conn.create_process("exec sh")
        try:
            for _ in range(rounds):
                before = time.time()
                process.stdin.write("date +%s.%N\n")
                line = await asyncio.wait_for(process.stdout.readline(), self.connect_timeout_s)
                after = time.time()
                try:
                    remote = float(line.strip())
                except ValueError:  # busybox date without %N: stay on the local clock and say so
                    break
                if best is None or after - before < best[1]:
                    best = (remote - (before + after) / 2, after - before)
            process.stdin.write(self._probe_command() + "\necho __splinebench_end__\n")
            while True:
                line = await asyncio.wait_for(process.stdout.readline(), self.connect_timeout_s)
                if not line or line.strip() == "__splinebench_end__":
                    break
                if "=" in line:
                    key, value = line.rstrip("\n").split("=", 1)
                    fields[key] = value
        finally:
            process.close()
        if best is None:
            self._clock_offset_s, self._clock_uncertainty_s = 0.0, None
        else:
            self._clock_offset_s, self._clock_uncertainty_s = best[0], best[1] / 2
        l4t = _L4T.search(fields.get("l4t", ""))
        self._board = {
            "board_model": fields.get("model") or None,
            "l4t_release": f"R{l4t.group(1)}.{l4t.group(2)}" if l4t else (fields.get("l4t") or None),
            "hostname": fields.get("hostname") or None,
            "tegrastats_path": fields.get("tegrastats") or None,
            "host_key": ssh.host_key_fingerprint(conn),
            "peer": _peer(conn),
        }
        if not self.sysfs and not fields.get("tegrastats"):
            raise MeterUnavailableError(
                self.name,
                f"`{self.tegrastats}` not found on {self.target.display}. Is it a Jetson with L4T "
                "(tegrastats lives in /usr/bin)? Name another path with ?tegrastats=/path, or use ?sysfs=1 "
                "to read the INA3221 files",
            )
        if self.sysfs and not self._channels:
            found = await ssh.run(
                conn, remote_discovery_command(self.sysfs_root), timeout_s=self.connect_timeout_s
            )
            self._channels = parse_remote_discovery(str(found.stdout or ""))
            if not self._channels:
                raise MeterUnavailableError(
                    self.name,
                    f"no INA3221 power monitor files under {self.sysfs_root} on {self.target.display} "
                    "(looked for ina3221x iio rail_name_* and ina3221 hwmon in*_label)",
                )

    async def _launch(self, conn: asyncssh.SSHClientConnection) -> asyncssh.SSHClientProcess[str]:
        process = await conn.create_process(self.stream_command(), term_type="dumb", term_size=(1000, 24))
        deadline = time.monotonic() + self.start_timeout_s
        for _ in range(50):  # a chatty shell rc file may print before our PID line
            line = await asyncio.wait_for(process.stdout.readline(), max(0.1, deadline - time.monotonic()))
            if not line:
                break
            text = line.strip()
            if text.isdigit():
                self._pids = [int(text)]
                return process
            self._recent_output.append(text)
        process.close()
        raise MeterUnavailableError(
            self.name,
            f"the remote command did not report its PID; output: {' | '.join(self._recent_output)!r}",
        )

    async def _open_stream(self) -> asyncssh.SSHClientProcess[str]:
        conn = await self._connect()
        try:
            await self._probe_board(conn)
            if self._pids:  # samplers of a dropped link normally die of SIGHUP/SIGPIPE; make sure
                with contextlib.suppress(Exception):
                    await ssh.run(conn, self.stop_command(self._pids), timeout_s=5)
            process = await self._launch(conn)
        except (asyncio.TimeoutError, asyncssh.Error, OSError) as exc:
            conn.close()
            timed_out = isinstance(exc, asyncio.TimeoutError)
            reason = f"timed out after {self.connect_timeout_s:.0f} s" if timed_out else exc
            raise ssh.SSHConnectError(f"{self.target.display} connected but did not answer ({reason})") from None
        except BaseException:
            conn.close()
            raise
        self._conn, self._process = conn, process
        return process

    async def _close_link(self) -> None:
        process, conn = self._process, self._conn
        self._process, self._conn = None, None
        if process is not None:
            with contextlib.suppress(Exception):
                process.close()
        if conn is not None:
            conn.close()
            await _bounded(conn.wait_closed(), 2)

    # ----------------------------------------------------------------- streaming
    def _on_line(self, line: str) -> bool:
        sample = self.parser.parse(line, self.now())
        if sample is None:
            self._recent_output.append(line.strip()[:200])
            return False
        self._end_break(sample.t)
        self._record([sample])
        return True

    async def _readline(self, process: asyncssh.SSHClientProcess[str], timeout_s: float) -> str:
        line = await asyncio.wait_for(process.stdout.readline(), timeout_s)
        if not line:
            status = process.exit_status
            raise ConnectionError(f"remote sampler ended (exit status {status})")
        return line

    async def _await_first_sample(self, process: asyncssh.SSHClientProcess[str]) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        while True:
            remaining = deadline - time.monotonic()
            try:
                if remaining <= 0:
                    raise asyncio.TimeoutError
                line = await self._readline(process, remaining)
            except (asyncio.TimeoutError, ConnectionError) as exc:
                raise MeterUnavailableError(self.name, self._why_no_first_sample(exc)) from None
            if self._on_line(line):
                return
            if self.parser.skipped_no_rails >= 3:  # tegrastats runs but shows no rails: waiting will not help
                raise MeterUnavailableError(self.name, self._why_no_first_sample(ConnectionError("no rails")))

    def _why_no_first_sample(self, exc: Exception) -> str:
        output = " | ".join(self._recent_output)
        where = self.target.display
        if "sudo" in output.lower() and ("password" in output.lower() or "not allowed" in output.lower()):
            return (
                f"sudo on {where} asks for a password for tegrastats; add a sudoers rule for it "
                "(see docs/energy.md) or drop ?sudo=1"
            )
        if self.parser.skipped_no_rails:
            return (
                f"tegrastats on {where} prints no power rails (Orin and newer L4T print them only to root): "
                "add ?sudo=1 with a passwordless sudoers rule for tegrastats (docs/energy.md), or ?sysfs=1"
            )
        if "not found" in output.lower():
            return f"`{self.tegrastats_command}` not found on {where}: {output}"
        kind = "timed out" if isinstance(exc, asyncio.TimeoutError) else str(exc)
        return f"no power samples from {where} ({kind}); last output: {output or 'none'}"

    async def _pump(self, process: asyncssh.SSHClientProcess[str]) -> None:
        while True:
            self._on_line(await self._readline(process, self.stall_timeout_s))

    async def _supervise(self, process: asyncssh.SSHClientProcess[str] | None) -> None:
        """Read until the link drops, then reconnect with back-off; the drop becomes a recorded gap."""
        while not self._stopping:
            if process is not None:
                try:
                    await self._pump(process)
                except asyncio.CancelledError:
                    raise
                except asyncio.TimeoutError:
                    self.last_error = f"no output for {self.stall_timeout_s:.1f} s"
                except Exception as exc:  # noqa: BLE001 - any failure of the link means: reconnect
                    self.last_error = str(exc) or type(exc).__name__
                if self._stopping:
                    return
                with self._lock:
                    last_t = self._samples[-1].t if self._samples else self.now()
                self._begin_break(last_t)
                await self._close_link()
                process = None
            backoff = self.backoff_initial_s
            while process is None and not self._stopping:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.backoff_max_s)
                try:
                    process = await self._open_stream()
                    self.reconnects += 1
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - keep trying until stopped
                    self.last_error = str(exc) or type(exc).__name__

    # ----------------------------------------------------------------- lifecycle
    async def astart(self) -> None:
        """Connect, start the remote sampler and return after its first sample (raises on any failure)."""
        if self._running:
            return
        self._stopping = False
        process = await self._open_stream()
        try:
            await self._await_first_sample(process)
        except BaseException:
            await self._kill_remote()
            await self._close_link()
            raise
        self._owner_loop = asyncio.get_running_loop()
        self._mark_running(True)
        self._task = asyncio.create_task(self._supervise(process), name=f"{self.name}:{self.target.display}")

    async def astop(self) -> None:
        """Stop reading, kill the remote sampler by PID, close the link. Idempotent."""
        self._stopping = True
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=5)
        await self._kill_remote()
        if self._process is not None:  # wait for the exit status: the board's sshd has then reaped the sampler
            await _bounded(self._process.wait_closed(), 3)
        await self._close_link()
        self._end_break(self.now())
        self._mark_running(False)

    async def _kill_remote(self) -> None:
        if not self._pids:
            return
        pids = list(self._pids)
        conn = self._conn
        try:
            if conn is None:
                conn = await _within(self._connect(), 10)
                own = True
            else:
                own = False
            try:
                result = await ssh.run(conn, self.stop_command(pids), timeout_s=10)
            finally:
                if own:
                    conn.close()
        except Exception as exc:  # noqa: BLE001 - report, the pty hang-up is the last resort
            self.last_error = f"could not stop remote sampler {pids}: {exc}"
            self.remote_left_running = pids
            return
        self.remote_left_running = [int(w) for w in re.findall(r"alive (\d+)", str(result.stdout or ""))]
        if not self.remote_left_running:
            self._pids = []

    def start(self) -> None:
        """Synchronous start: runs the meter on its own event loop in a daemon thread."""
        if self._running:
            return
        self._loop_thread = _LoopThread(f"{self.name}:{self.target.display}")
        try:
            self._loop_thread.call(self.astart())
        except BaseException:
            self._loop_thread.close()
            self._loop_thread = None
            raise

    def stop(self) -> None:
        """Synchronous stop (idempotent): kills the remote sampler, closes the link, ends the loop thread."""
        loop_thread, self._loop_thread = self._loop_thread, None
        if loop_thread is not None:
            if threading.current_thread() is loop_thread.thread:  # called from a listener: no blocking here
                asyncio.ensure_future(self.astop(), loop=loop_thread.loop)
                return
            try:
                loop_thread.call(self.astop(), timeout=60)
            except Exception as exc:  # noqa: BLE001 - stop runs in finally blocks: report, never raise
                self.last_error = f"stopping did not finish: {type(exc).__name__}: {exc}"
                self.remote_left_running = list(self._pids)
                log.warning("%s: %s; remote sampler(s) %s may still run", self.name, self.last_error, self._pids)
                self._mark_running(False)
            finally:
                loop_thread.close()
        elif self._running and self._owner_loop is not None and not self._owner_loop.is_closed():
            asyncio.run_coroutine_threadsafe(self.astop(), self._owner_loop).result(30)

    # ----------------------------------------------------------------- provenance
    def _why_no_samples(self) -> str:
        if self.last_error:
            return f"no samples from {self.target.display}: {self.last_error}"
        return super()._why_no_samples()

    def info(self) -> dict[str, Any]:
        base = super().info()
        base.update(
            {
                "host": self.target.host,
                "user": self.target.user,
                "port": self.target.port,
                "url": self.target.url,
                "source": "ina3221-sysfs" if self.sysfs else "tegrastats",
                "command": self.stream_command()
                if not self.sysfs
                else f"sh loop over {len(self._channels)} sysfs rails",
                "clock": "board",
                "clock_offset_s": self._clock_offset_s,
                "clock_offset_uncertainty_s": self._clock_uncertainty_s,
                "host_key_checked": ssh.known_hosts_files(self.target, self.known_hosts, self.config)
                is not None,
                "parser_parsed": self.parser.parsed,
                "parser_skipped": self.parser.skipped,
                "parser_skipped_no_rails": self.parser.skipped_no_rails,
                "reconnects": self.reconnects,
                "last_error": self.last_error,
                "remote_pids": list(self._pids),
                "remote_left_running": list(self.remote_left_running),
            }
        )
        base.update(self._board)
        return base


async def _within(awaitable: Coroutine[Any, Any, T], timeout_s: float) -> T:
    """The result, or TimeoutError after ``timeout_s`` without waiting for the cancelled work to wind down."""
    task = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait({task}, timeout=timeout_s)
    if not done:
        task.cancel()
        raise asyncio.TimeoutError(f"no answer within {timeout_s:g} s")
    return task.result()


async def _bounded(awaitable: Any, timeout_s: float) -> None:
    """Await at most ``timeout_s`` and move on, swallowing errors: for clean-up steps only."""
    task = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait({task}, timeout=timeout_s)
    if not done:
        task.cancel()
    elif not task.cancelled():
        task.exception()  # retrieve it, so asyncio does not log "exception was never retrieved"


def _peer(conn: asyncssh.SSHClientConnection) -> str | None:
    """``address:port`` actually reached (after ssh config aliases and HostName)."""
    peer = conn.get_extra_info("peername")
    if not peer:
        return None
    host = f"[{peer[0]}]" if ":" in str(peer[0]) else peer[0]
    return f"{host}:{peer[1]}"
