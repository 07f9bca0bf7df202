"""One SSH session to the machine a remote run lives on: commands, file transfer, clock offset, process control.

The connection policy (known_hosts checked, unknown hosts refused unless accepted, keys and agent only) is the energy
meter's, from ``splinebench.measure.ssh``. Every remote step is a short command on its own exec channel, so a dropped
link never takes the remote training with it: the run is started detached and only its files are read from here.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shlex
import stat
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import asyncssh

import splinebench
from splinebench.errors import BadInputError
from splinebench.measure import ssh

VERSION_LINE = re.compile(r"splinebench (?P<version>\S+) \(schema (?P<schema>\d+)\)")


class RemoteError(BadInputError):
    """The remote side cannot run splinebench as asked (missing command, version mismatch)."""


@dataclass
class ConnectOptions:
    url: str
    accept_new_host: bool = False
    known_hosts: list[str] | None = None
    client_keys: list[str] | None = None
    config: list[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class RemoteSession:
    """An open connection plus the few operations a remote run needs."""

    def __init__(self, options: ConnectOptions) -> None:
        self.options = options
        self.target = ssh.parse_ssh_url(options.url)
        self.conn: asyncssh.SSHClientConnection | None = None
        self.clock_offset_s = 0.0
        self.reconnects = 0
        self.sftp_available: bool | None = None  # None: not tried yet
        self.sftp_refusal = ""

    async def open(self) -> None:
        o = self.options
        self.conn = await ssh.connect(o.url, accept_new_host=o.accept_new_host, known_hosts=o.known_hosts,
                                      client_keys=o.client_keys, config=o.config, **o.extra)
        self.clock_offset_s = await self.measure_clock_offset()

    async def reopen(self) -> None:
        await self.close()
        await self.open()
        self.reconnects += 1

    async def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            with contextlib.suppress(Exception):  # closing a dead link may fail; nothing to do about it
                await self.conn.wait_closed()
            self.conn = None

    # -- commands ---------------------------------------------------------------------------------------------
    async def run(self, command: str, timeout_s: float = 30.0) -> asyncssh.SSHCompletedProcess:
        assert self.conn is not None, "session not open"
        return await ssh.run(self.conn, command, timeout_s)

    async def measure_clock_offset(self, rounds: int = 5) -> float:
        """Board clock minus local clock (NTP's idea): on one open channel, ask the board for its time several
        times and keep the answer with the shortest round trip, assuming that trip is symmetric."""
        assert self.conn is not None, "session not open"
        best: tuple[float, float] | None = None
        process = await self.conn.create_process("while read -r _; do date +%s.%N; done")
        try:
            for _ in range(rounds):
                t0 = time.time()
                process.stdin.write("\n")
                line = await asyncio.wait_for(process.stdout.readline(), 10)
                t1 = time.time()
                try:
                    remote = float(str(line).strip())
                except ValueError:
                    return 0.0
                if best is None or t1 - t0 < best[0]:
                    best = (t1 - t0, remote - (t0 + t1) / 2)
        finally:
            process.stdin.write_eof()
            process.close()
        return best[1] if best else 0.0

    async def check_version(self, remote_cmd: str) -> str:
        """Refuse a remote splinebench whose event/store schema differs from ours; return its version line."""
        result = await self.run(f"{remote_cmd} --version", timeout_s=60)
        output = f"{result.stdout or ''}{result.stderr or ''}".strip()
        if result.exit_status == 127 or "not found" in output.lower() and not VERSION_LINE.search(output):
            raise RemoteError(
                f"remote command {remote_cmd!r} not found on {self.target.display}: install splinebench there "
                f"(`pip install splinebench=={splinebench.__version__}`) or point --remote-cmd at it, "
                "e.g. --remote-cmd ~/venv/bin/splinebench"
            )
        match = VERSION_LINE.search(output)
        if result.exit_status != 0 or match is None:
            raise RemoteError(f"`{remote_cmd} --version` on {self.target.display} did not answer as splinebench "
                              f"does (exit {result.exit_status}): {output[:200]}")
        if int(match["schema"]) != splinebench.SCHEMA_VERSION:
            raise RemoteError(
                f"version mismatch: here splinebench {splinebench.__version__} (schema {splinebench.SCHEMA_VERSION}), "
                f"on {self.target.display} splinebench {match['version']} (schema {match['schema']}); install the "
                f"matching one there: `pip install splinebench=={splinebench.__version__}`"
            )
        return match.group(0)

    async def home(self) -> str:
        return str((await self.run("printf %s \"$HOME\"")).stdout)

    async def mkdir(self, path: str) -> None:
        await self.run(f"mkdir -p {shlex.quote(path)}")

    async def start_detached(self, command: str, cwd: str, log: str) -> int:
        """Start ``command`` in its own session and process group (setsid + nohup): a dropped link cannot kill it,
        and :meth:`signal_group` reaches it and everything it starts. Returns its PID (= its process group id)."""
        # `cd` on its own: `cd X && cmd &` would background the whole list in a subshell that keeps the channel's
        # stdout open, and the channel (and this call) would last as long as the run. `setsid` is not a group leader
        # here (an async list of a non-interactive shell), so it calls setsid() and execs: its PID is the new group.
        # Such a shell starts it with SIGINT ignored; `splinebench run` restores its own handlers (cli/signals.py).
        line = (f"cd {shlex.quote(cwd)} || exit 1; setsid nohup {command} > {shlex.quote(log)} 2>&1 < /dev/null & "
                "echo $!")
        result = await self.run(line)
        try:
            return int(str(result.stdout).strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise RemoteError(f"could not start the remote run: {result.stderr or result.stdout}") from None

    async def pid_alive(self, pid: int) -> bool:
        return (await self.run(f"kill -0 {int(pid)} 2>/dev/null")).exit_status == 0

    async def run_alive(self, pid: int, run_id: str) -> bool:
        """Whether ``pid`` is alive *and* is the run ``run_id`` (a recycled PID of another program is not)."""
        pid, needle = int(pid), shlex.quote(run_id)
        command = (f"kill -0 {pid} 2>/dev/null || exit 1; "
                   f"if [ -r /proc/{pid}/cmdline ]; then tr '\\0' ' ' < /proc/{pid}/cmdline | grep -qF -- {needle}; "
                   f"else ps -o args= -p {pid} | grep -qF -- {needle}; fi")
        return (await self.run(command)).exit_status == 0

    async def signal(self, pid: int, name: str = "INT") -> bool:
        return (await self.run(f"kill -s {_signal_name(name)} -- {int(pid)} 2>/dev/null")).exit_status == 0

    async def signal_group(self, pid: int, name: str = "INT") -> bool:
        """Signal the process group a detached run leads (the run and its children, e.g. data loader workers)."""
        sig = _signal_name(name)
        pid = int(pid)
        if pid <= 1:
            return False
        command = f"kill -s {sig} -- -{pid} 2>/dev/null || kill -s {sig} -- {pid} 2>/dev/null"  # POSIX forms
        return (await self.run(command)).exit_status == 0

    # -- files ------------------------------------------------------------------------------------------------
    # SFTP when the host offers it; otherwise (sshd without a `Subsystem sftp` line) plain commands on exec channels,
    # which every POSIX board has: `cat` to write, `tail -c`/`head -c` to read, `find` to list.
    async def _sftp(self) -> asyncssh.SFTPClient | None:
        assert self.conn is not None, "session not open"
        if self.sftp_available is False:
            return None
        try:
            client = await self.conn.start_sftp_client()
        except (asyncssh.SFTPError, asyncssh.ProcessError, asyncssh.ChannelOpenError, EOFError, OSError) as exc:
            if not self.conn.is_closed():
                self.sftp_available = False
                self.sftp_refusal = str(exc) or type(exc).__name__
                return None
            raise
        self.sftp_available = True
        return client

    async def put_text(self, path: str, text: str) -> None:
        sftp = await self._sftp()
        if sftp is None:
            result = await self._exec_bytes(f"cat > {shlex.quote(path)}", text.encode())
            if result.exit_status != 0:
                raise RemoteError(f"could not write {path} on {self.target.display}: {_text(result.stderr)}")
            return
        async with sftp, sftp.open(path, "w") as fh:
            await fh.write(text)

    async def read_from(self, path: str, offset: int, limit: int = 1 << 20) -> bytes:
        """At most ``limit`` bytes of ``path`` from ``offset`` on (empty when the file does not exist yet)."""
        sftp = await self._sftp()
        if sftp is None:
            quoted = shlex.quote(path)
            result = await self._exec_bytes(
                f"test -f {quoted} || exit 0; tail -c +{int(offset) + 1} {quoted} | head -c {int(limit)}")
            return bytes(result.stdout or b"")
        async with sftp:
            try:
                async with sftp.open(path, "rb") as fh:
                    await fh.seek(offset)
                    return await fh.read(limit)
            except asyncssh.SFTPNoSuchFile:
                return b""

    async def read_tail(self, path: str, size: int) -> bytes:
        """The last ``size`` bytes of ``path`` (empty when it does not exist)."""
        quoted = shlex.quote(path)
        result = await self._exec_bytes(f"test -f {quoted} || exit 0; tail -c {int(size)} {quoted}", timeout_s=30)
        return bytes(result.stdout or b"")

    async def fetch_tree(self, remote: str, local: Path) -> Fetched:
        """Copy a remote directory here (checkpoints, tickets, pruned models), as regular files only.

        The board chooses the names and the kinds of what it sends: a symlink, a device, a FIFO or a name that would
        land outside ``local`` is skipped (and said in ``Fetched.skipped``), nothing is written through a local
        link, and the board's permission bits are not copied (files 0644, directories 0755).
        """
        local.mkdir(parents=True, exist_ok=True)
        root = local.resolve()
        fetched = Fetched()
        sftp = await self._sftp()
        if sftp is None:
            entries = await self._list_by_exec(remote)
        else:
            async with sftp:
                entries = await self._list_by_sftp(sftp, remote)
        for rel, kind in entries:
            why = _unsafe_name(rel)
            if why is None and kind not in ("file", "directory"):
                why = f"a {kind} on the board, not a regular file"
            target = root.joinpath(*PurePosixPath(rel).parts) if why is None else root
            if why is None:
                why = _unsafe_target(root, target, kind)
            if why is not None:
                fetched.skipped.append(f"{rel!r}: {why}")
                continue
            if kind == "directory":
                target.mkdir(mode=0o755, exist_ok=True)
                continue
            data = await self._read_file(remote_path(remote, rel))
            if data is None:
                fetched.skipped.append(f"{rel!r}: changed on the board while it was fetched")
                continue
            _write_inside(root, target, data)
            fetched.files += 1
        return fetched

    async def _list_by_sftp(self, sftp: asyncssh.SFTPClient, remote: str) -> list[tuple[str, str]]:
        if not await sftp.exists(remote):
            return []
        out: list[tuple[str, str]] = []
        pending = [""]
        while pending:
            rel = pending.pop()
            async for entry in sftp.scandir(remote_path(remote, rel) if rel else remote):
                name = entry.filename if isinstance(entry.filename, str) else entry.filename.decode("utf-8", "replace")
                if name in (".", ".."):
                    continue
                child = f"{rel}/{name}" if rel else name
                kind = _kind(entry.attrs.permissions)
                out.append((child, kind))
                if kind == "directory" and _unsafe_name(child) is None:
                    pending.append(child)
        return sorted(out)

    async def _list_by_exec(self, remote: str) -> list[tuple[str, str]]:
        quoted = shlex.quote(remote)
        result = await self._exec_bytes(f"test -d {quoted} || exit 0; find {quoted} -mindepth 1 -printf '%y %P\\0'")
        if result.exit_status != 0:
            raise RemoteError(f"could not list {remote} on {self.target.display}: {_text(result.stderr)}")
        kinds = {"f": "file", "d": "directory", "l": "symlink", "p": "FIFO", "s": "socket", "c": "character device",
                 "b": "block device"}
        out = []
        for item in bytes(result.stdout or b"").split(b"\0"):
            if len(item) >= 3 and item[1:2] == b" ":
                out.append((item[2:].decode("utf-8", "replace"), kinds.get(item[:1].decode("ascii", "replace"),
                                                                             "special file")))
        return sorted(out)

    async def _read_file(self, path: str) -> bytes | None:
        """A regular file's bytes; None when it is no longer a regular file (swapped for a link meanwhile)."""
        sftp = await self._sftp()
        if sftp is None:
            quoted = shlex.quote(path)
            result = await self._exec_bytes(f"test -f {quoted} && test ! -L {quoted} && cat -- {quoted}")
            return bytes(result.stdout or b"") if result.exit_status == 0 else None
        async with sftp:
            attrs = await sftp.lstat(path)
            if _kind(attrs.permissions) != "file":
                return None
            async with sftp.open(path, "rb") as fh:
                return await fh.read()

    async def _exec_bytes(self, command: str, stdin: bytes | None = None,
                          timeout_s: float = 600.0) -> asyncssh.SSHCompletedProcess:
        assert self.conn is not None, "session not open"
        task = asyncio.ensure_future(self.conn.run(command, check=False, encoding=None, input=stdin))
        done, _ = await asyncio.wait({task}, timeout=timeout_s)
        if not done:
            task.cancel()
            raise asyncio.TimeoutError(f"remote command did not finish within {timeout_s:g} s")
        return task.result()


@dataclass
class Fetched:
    files: int = 0
    skipped: list[str] = field(default_factory=list)


def _signal_name(name: str) -> str:
    if name not in ("INT", "TERM", "KILL"):
        raise ValueError(f"signal {name!r}")
    return name


def _kind(mode: int | None) -> str:
    if mode is None:
        return "file of unknown type"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special file"


def _unsafe_name(rel: str) -> str | None:
    """Why a relative name the board sent cannot be used here (None: it is a plain relative path)."""
    parts = rel.split("/")
    if not rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\0" in rel or "\\" in rel:
        return "a name that is not a plain relative path"
    return None


def _unsafe_target(root: Path, target: Path, kind: str) -> str | None:
    """Why writing ``target`` could touch something outside ``root`` (a local symlink on the way, a non-file)."""
    try:
        parent = target.parent.resolve(strict=True)
    except (OSError, RuntimeError):
        return "its local directory is missing (a skipped directory above it)"
    if parent != root and root not in parent.parents:
        return "it would land outside the run's directory"
    if target.is_symlink():
        return "a symlink is in its place here; it was left alone"
    if target.exists() and not (target.is_dir() if kind == "directory" else target.is_file()):
        return "something else is in its place here; it was left alone"
    return None


def _write_inside(root: Path, target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` through a fresh temporary file and a rename: a link in its place is replaced,
    never followed."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".fetch-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _text(value: bytes | str | None) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else (value or "")
    return text.strip()[:200]


def remote_path(*parts: str) -> str:
    return str(PurePosixPath(*parts))
