"""Where a sweep's tasks keep their checkpoints, event logs, tickets and results: a place every node can reach.

Two kinds, one interface. A *shared directory* (the default, under the results directory; an NFS mount on a real
cluster) is used in place. An *fsspec URL* (``s3://bucket/prefix``, ``gs://...``, ``file:///...``) is mirrored: a
task works in a local scratch directory (``$SPLINEBENCH_SCRATCH`` or the temporary directory) and publishes its files
after every checkpoint; a retried task on another node fetches them first, so it resumes from its last epoch
wherever it lands.

Layout, under ``<storage>/<sweep id>/tasks/<task key>/``: ``state.pt`` (the engine's rolling checkpoint),
``events.jsonl`` (the task's events so far), ``tickets/`` (dense tasks), ``attempts.jsonl`` (one line per start),
``result.pt`` (written last: the task is done), and ``HOLD`` (a file you may create: the task waits at its next
checkpoint until it is removed).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from pathlib import Path

from splinebench.errors import BadInputError

RESULT = "result.pt"
STATE = "state.pt"
EVENTS = "events.jsonl"
ATTEMPTS = "attempts.jsonl"
HOLD = "HOLD"
#: where mirrored tasks work (default: the system's temporary directory); the same path on every node is best
SCRATCH_ENV = "SPLINEBENCH_SCRATCH"


class Storage:
    """A shared directory, used in place."""

    def __init__(self, root: str) -> None:
        self.root = root

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.root!r})"

    def __reduce__(self):  # sent to workers as its URL alone
        return (open_storage, (self.root,))

    def task_dir(self, key: str) -> Path:
        """The local working directory of task ``key``."""
        return Path(self.root) / "tasks" / key

    def fetch(self, key: str, names: list[str] | None = None) -> Path:
        """Make the task's published files (all, or ``names`` relative to its dir) present locally."""
        return self.task_dir(key)

    def publish(self, key: str, names: list[str]) -> None:
        """Make the task's local files ``names`` visible to every node."""

    def exists(self, key: str, name: str) -> bool:
        return (self.task_dir(key) / name).is_file()

    def local_path(self) -> Path | None:
        return Path(self.root)


class FsspecStorage(Storage):
    """A remote prefix reached through fsspec, mirrored to a scratch directory on the node that runs a task."""

    def __init__(self, root: str) -> None:
        super().__init__(root.rstrip("/"))
        import fsspec

        self.fs, self.base = fsspec.core.url_to_fs(self.root)
        digest = hashlib.sha1(self.root.encode()).hexdigest()[:12]
        self.scratch = Path(os.environ.get(SCRATCH_ENV) or tempfile.gettempdir()) / "splinebench-sweeps" / digest

    def _remote(self, key: str, name: str = "") -> str:
        return f"{self.base}/tasks/{key}" + (f"/{name}" if name else "")

    def task_dir(self, key: str) -> Path:
        return self.scratch / "tasks" / key

    def fetch(self, key: str, names: list[str] | None = None) -> Path:
        local = self.task_dir(key)
        local.mkdir(parents=True, exist_ok=True)
        remote = self._remote(key)
        if names is None:
            if not self.fs.exists(remote):
                return local
            names = [os.path.relpath(p, remote) for p in self.fs.find(remote)]
        for name in names:
            if self.fs.exists(self._remote(key, name)):
                target = local / name
                target.parent.mkdir(parents=True, exist_ok=True)
                # workers of one node share the scratch directory and may fetch the same ticket at once: each
                # downloads to its own file and renames it into place, so a reader never sees a half-copied file
                partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.part")
                try:
                    self.fs.get(self._remote(key, name), str(partial))
                    os.replace(partial, target)
                finally:
                    partial.unlink(missing_ok=True)
        return local

    def publish(self, key: str, names: list[str]) -> None:
        local = self.task_dir(key)
        for name in names:
            if (local / name).is_file():
                self.fs.makedirs(os.path.dirname(self._remote(key, name)), exist_ok=True)
                self.fs.put(str(local / name), self._remote(key, name))

    def exists(self, key: str, name: str) -> bool:
        return bool(self.fs.exists(self._remote(key, name)))

    def local_path(self) -> Path | None:
        return None


def open_storage(root: str) -> Storage:
    """A plain path (or ``file`` path without a scheme) is a shared directory; anything with ``://`` goes to fsspec."""
    if "://" not in root:
        return Storage(str(Path(root).resolve()))
    try:
        import fsspec  # noqa: F401
    except ImportError:
        raise BadInputError(f"storage {root!r} needs fsspec: pip install fsspec (and s3fs for s3://)") from None
    try:
        return FsspecStorage(root)
    except (ImportError, ValueError) as exc:
        raise BadInputError(f"storage {root!r}: {exc}") from None
