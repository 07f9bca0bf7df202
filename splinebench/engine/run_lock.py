"""The lock a live run holds on its run directory, so that no second process resumes it at the same time.

An exclusive ``fcntl.flock`` on ``<run dir>/run.lock``, held for as long as the process runs, and released by the
kernel when it exits however it exits (kill -9 included): a lock left by a dead run is simply taken over. The file
holds the holder's PID and host (JSON), so a refusal can say who holds it. Two resumes of one run would truncate
and rewrite the same events and checkpoint under each other; the lock makes the second one stop before it writes
anything.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from splinebench.errors import BadInputError
from splinebench.store.reader import pid_alive

LOCK_FILE = "run.lock"


class RunLockedError(BadInputError):
    """Another live process holds this run (exit 2; nothing was written)."""


def _pid_alive(pid: Any) -> bool:
    """The lock file is text anyone could have written: only a positive int names a process."""
    return isinstance(pid, int) and pid > 0 and pid_alive(pid)


class RunLock:
    """Hold ``run_dir/run.lock`` until :meth:`release` (or process exit)."""

    def __init__(self, run_dir: str | os.PathLike[str], run_id: str) -> None:
        self.path = Path(run_dir) / LOCK_FILE
        self.run_id = run_id
        self._fd: int | None = None

    def holder(self) -> dict[str, Any]:
        """What the lock file says about its holder (empty when unreadable)."""
        try:
            data = json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def acquire(self) -> RunLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise BadInputError(f"run {self.run_id}: cannot create its lock file {self.path}: "
                                f"{exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RunLockedError(self._refusal()) from None
        except OSError as exc:
            os.close(fd)
            raise BadInputError(f"run {self.run_id}: cannot lock {self.path}: {exc.strerror or exc}") from None
        me = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(me) + "\n").encode(), 0)
        except OSError:
            pass  # the flock is what counts; the note is for messages only (a full disk must not block a resume)
        self._fd = fd
        return self

    def _refusal(self) -> str:
        holder = self.holder()
        pid, host = holder.get("pid"), holder.get("host") or "?"
        if host == socket.gethostname() and not _pid_alive(pid):
            who = f"a child of the dead PID {pid} on {host} (a leftover data-loader worker?)"
        else:
            who = f"PID {pid} on {host}"
        return (f"run {self.run_id} is in use by {who} (lock {self.path}); wait for it to end or stop it with "
                f"`splinebench runs stop {self.run_id}`, then resume")

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
