"""One SSH session to the machine a remote run lives on: commands, file transfer, clock offset, process control.

The connection policy (known_hosts checked, unknown hosts refused unless accepted, keys and agent only) is the energy
meter's, from ``splinebench.measure.ssh``. Every remote step is a short command on its own exec channel, so a dropped
link never takes the remote training with it: the run is started detached and only its files are read from here.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shlex
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
        """Start ``command`` in its own session (setsid + nohup): a dropped link cannot kill it. Returns its PID."""
        # `cd` on its own: `cd X && cmd &` would background the whole list in a subshell that keeps the channel's
        # stdout open, and the channel (and this call) would last as long as the run.
        line = (f"cd {shlex.quote(cwd)} || exit 1; setsid nohup {command} > {shlex.quote(log)} 2>&1 < /dev/null & "
                "echo $!")
        result = await self.run(line)
        try:
            return int(str(result.stdout).strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise RemoteError(f"could not start the remote run: {result.stderr or result.stdout}") from None

    async def pid_alive(self, pid: int) -> bool:
        return (await self.run(f"kill -0 {int(pid)} 2>/dev/null")).exit_status == 0

    async def signal(self, pid: int, name: str = "INT") -> bool:
        return (await self.run(f"kill -{name} {int(pid)} 2>/dev/null")).exit_status == 0

    # -- files ------------------------------------------------------------------------------------------------
    async def put_text(self, path: str, text: str) -> None:
        assert self.conn is not None
        async with self.conn.start_sftp_client() as sftp, sftp.open(path, "w") as fh:
            await fh.write(text)

    async def read_from(self, path: str, offset: int) -> bytes:
        """Bytes of ``path`` from ``offset`` on (empty when the file does not exist yet)."""
        assert self.conn is not None
        async with self.conn.start_sftp_client() as sftp:
            try:
                async with sftp.open(path, "rb") as fh:
                    await fh.seek(offset)
                    return await fh.read()
            except asyncssh.SFTPNoSuchFile:
                return b""

    async def fetch_tree(self, remote: str, local: Path) -> int:
        """Copy a remote directory here (checkpoints, tickets, pruned models); returns the number of files."""
        assert self.conn is not None
        local.mkdir(parents=True, exist_ok=True)
        async with self.conn.start_sftp_client() as sftp:
            if not await sftp.exists(remote):
                return 0
            await sftp.get(remote + "/", str(local), recurse=True, preserve=True)
        return sum(1 for p in local.rglob("*") if p.is_file())


def remote_path(*parts: str) -> str:
    return str(PurePosixPath(*parts))
