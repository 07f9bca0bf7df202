"""Starting, stopping and resuming runs from the dashboard, as subprocesses of ``splinebench run``.

The dashboard never imports the engine (or torch): a run it launches is the same ``splinebench run`` a user
would type, writing to the same store, with its output in a log file beside the store. Each child gets its own
session, so it keeps training when the dashboard is closed and a terminal's Ctrl-C never reaches it by
accident.

Stopping is by process id: SIGINT first (the CLI turns it into a clean "interrupted" exit that ``--resume``
can continue from the last checkpoint), then SIGTERM if the process is still there after a grace period.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from splinebench.errors import BadInputError
from splinebench.store.reader import pid_alive

#: Seconds between SIGINT and SIGTERM when a run does not stop by itself.
STOP_GRACE_SECONDS = 15.0

_OVERRIDE = re.compile(r"^[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*=.*$", re.DOTALL)


def parse_overrides(text: str) -> list[str]:
    """Dotted overrides, one per line (``train.epochs=3``); ``--set`` prefixes and blank or ``#`` lines are
    allowed.

    Raises ``BadInputError`` naming the line that is not ``KEY=VALUE``; the values themselves are checked by
    the run's own profile loader, which reports the key and what it expected.
    """
    out = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("--set"):
            line = line[len("--set") :].strip().lstrip("=").strip()
        if not _OVERRIDE.match(line):
            raise BadInputError(
                f"override line {number} ({raw.strip()!r}) is not KEY=VALUE, e.g. train.epochs=3"
            )
        out.append(line)
    return out


def splinebench_command() -> list[str]:
    """How to call the CLI from here: the interpreter running the dashboard, so the same install is used."""
    return [sys.executable, "-m", "splinebench.cli.app"]


@dataclass
class LaunchedRun:
    """A ``splinebench run`` this dashboard started."""

    process: subprocess.Popen[bytes]
    command: list[str]
    log_path: Path
    label: str
    started_at: float = field(default_factory=time.time)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def display_command(self) -> str:
        return shlex.join(["splinebench", *self.command[3:]])

    def log_tail(self, lines: int = 3) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        kept = [
            line
            for line in text.splitlines()
            if line.strip() and "Warning" not in line and not line.startswith("  warnings.warn")
        ]
        return "\n".join(kept[-lines:])


@dataclass(frozen=True)
class LaunchEnded:
    """A launched run's process exited (reported once)."""

    run: LaunchedRun
    returncode: int


class RunLauncher:
    """Launches runs into one store and stops them; ``tick`` reaps exited children and escalates slow
    stops."""

    def __init__(
        self,
        store_path: str,
        log_dir: str | None = None,
        cli: list[str] | None = None,
        stop_grace: float = STOP_GRACE_SECONDS,
    ) -> None:
        self.store_path = store_path
        self.log_dir = Path(log_dir) if log_dir else Path(store_path).resolve().parent / "tui-logs"
        self.cli = cli or splinebench_command()
        self.stop_grace = stop_grace
        self.children: dict[int, LaunchedRun] = {}
        self._stopping: dict[int, float] = {}

    # -- starting --------------------------------------------------------------------------------------------
    def run_command(self, profile: str, overrides: list[str]) -> list[str]:
        command = [*self.cli, "run", profile, "--store", self.store_path]
        for item in overrides:
            command += ["--set", item]
        return command

    def resume_command(self, run_id: str) -> list[str]:
        return [*self.cli, "run", "--resume", run_id, "--store", self.store_path]

    def launch(self, profile: str, overrides: list[str]) -> LaunchedRun:
        if not Path(profile).is_file():
            raise BadInputError(f"no profile file {profile}")
        return self._start(self.run_command(profile, overrides), Path(profile).stem)

    def resume(self, run_id: str) -> LaunchedRun:
        return self._start(self.resume_command(run_id), f"resume-{run_id}")

    def _start(self, command: list[str], label: str) -> LaunchedRun:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{time.strftime('%Y%m%d-%H%M%S')}-{label}.log"
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        launched = LaunchedRun(process, command, log_path, label)
        self.children[process.pid] = launched
        return launched

    @property
    def busy(self) -> bool:
        """Whether ``tick`` has anything to do: a child to reap or a stop to escalate."""
        return bool(self.children or self._stopping)

    # -- stopping --------------------------------------------------------------------------------------------
    def stop(self, pid: int, now: float | None = None) -> None:
        """Ask a run to stop (SIGINT); ``tick`` sends SIGTERM if it is still alive after the grace period."""
        if not self.alive(pid):
            raise BadInputError(f"process {pid} is not running")
        os.kill(pid, signal.SIGINT)
        self._stopping[pid] = time.monotonic() if now is None else now

    def alive(self, pid: int | None) -> bool:
        if pid is None:
            return False
        child = self.children.get(pid)
        if child is not None:
            return child.process.poll() is None  # a zombie child still answers kill(pid, 0)
        return pid_alive(pid)

    def stopping(self, pid: int | None) -> bool:
        return pid in self._stopping

    def tick(self, now: float | None = None) -> list[LaunchEnded]:
        now = time.monotonic() if now is None else now
        ended = []
        for pid, child in list(self.children.items()):
            code = child.process.poll()
            if code is not None:
                ended.append(LaunchEnded(child, code))
                del self.children[pid]
                self._stopping.pop(pid, None)
        for pid, asked in list(self._stopping.items()):
            if not self.alive(pid):
                del self._stopping[pid]
            elif now - asked >= self.stop_grace:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
                del self._stopping[pid]
        return ended
