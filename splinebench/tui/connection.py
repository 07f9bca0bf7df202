"""The dashboard's read-only handle on a store file that may not exist yet, or may turn out not to be a store.

``splinebench tui`` is often started before the first run: a missing store is a normal state to wait in (the
runs screen says so and offers to launch one), not an error. A file that exists but is not a readable store is
a problem to show plainly. Between the two sits the moment a run creates the store: the file exists before its
tables do, so an unreadable file that has only just appeared gets a few seconds' grace before it is called
broken.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

from splinebench.store import StoreError, StoreReader

#: How long a just-created store may stay unreadable (its writer is migrating it) before it counts as broken.
CREATION_GRACE_SECONDS = 5.0


class StoreHandle:
    """Opens the store lazily; ``state`` is ``missing``, ``ready`` or ``broken`` (with ``message`` saying
    why)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.reader: StoreReader | None = None
        self.state = "missing"
        self.message = ""
        self._appeared_at: float | None = None
        self._existed_at_start = Path(path).exists()

    def try_open(self, now: float | None = None) -> bool:
        """Open the store if it can be; returns True when a reader is ready."""
        if self.reader is not None:
            return True
        now = time.monotonic() if now is None else now
        if not Path(self.path).exists():
            self.state = "missing"
            self.message = (
                f"No store at {self.path} yet. Press n to launch a run (it creates the store), "
                "or restart with --store PATH pointing at an existing one."
            )
            self._appeared_at = None
            return False
        if self._appeared_at is None:
            self._appeared_at = now
        try:
            self.reader = StoreReader(self.path)
        except StoreError as exc:
            being_created = not self._existed_at_start and now - self._appeared_at < CREATION_GRACE_SECONDS
            self.state = "missing" if being_created else "broken"
            self.message = f"The store could not be opened. {exc}"
            return False
        self.state = "ready"
        self.message = ""
        return True

    def fail(self, error: StoreError) -> None:
        """A query failed mid-session (the file was replaced, truncated or corrupted): drop the reader."""
        if self.reader is not None:
            with contextlib.suppress(Exception):  # closing a broken connection may fail too; nothing to do
                self.reader.close()
        self.reader = None
        self.state = "broken"
        self.message = f"The store stopped being readable. {error}"

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
            self.reader = None
