"""A thread that notices commits to the store and wakes the dashboard, so refresh follows change, not a clock.

Asking SQLite whether anything changed is one pragma (``StoreReader.data_version``) on a connection kept open;
doing it in a thread costs microseconds per check, while a Textual timer firing as often would wake the whole
app each time (about 1% of a core at 30 Hz, against the 0.5% idle goal). The thread posts a message only when
another connection committed, or once a second (a running run's process may have died, which changes nothing in
the store, and a missing store is looked for again), and never queues a second message before the app has
handled the first, so a burst of commits costs one re-read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from splinebench.store import StoreError, StoreReader

#: Seconds between two looks at the change counter while the store is busy: an event is on screen within this
#: plus one redraw.
CHECK_SECONDS = 0.03
#: ... and once nothing was committed for ``BUSY_SECONDS``: a quiet store is looked at less often (each look
#: wakes a Python thread, which costs more than the pragma), so an idle dashboard stays well under 0.5% of a core.
QUIET_CHECK_SECONDS = 0.1
BUSY_SECONDS = 10.0
#: Seconds after which the app is woken even without a commit.
WAKE_SECONDS = 1.0


class StoreWatch:
    """Calls ``wake()`` (from its own thread) when the store at ``path`` changed; ``handled()`` re-arms it."""

    def __init__(
        self,
        path: str,
        wake: Callable[[], None],
        check_seconds: float = CHECK_SECONDS,
        wake_seconds: float = WAKE_SECONDS,
        quiet_check_seconds: float = QUIET_CHECK_SECONDS,
    ) -> None:
        self.path = path
        self.wake = wake
        self.check_seconds = check_seconds
        self.quiet_check_seconds = max(check_seconds, quiet_check_seconds)
        self.wake_seconds = wake_seconds
        self._stop = threading.Event()
        self._pending = threading.Event()
        self._thread = threading.Thread(target=self._run, name="store-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    def handled(self) -> None:
        """The app has re-read the store: the next change may wake it again."""
        self._pending.clear()

    def _run(self) -> None:
        reader: StoreReader | None = None
        seen: int | None = None
        woken = changed_at = time.monotonic()
        interval = self.check_seconds
        while not self._stop.wait(interval):
            version = None
            if reader is None:
                try:
                    reader = StoreReader(self.path)  # the app says why a store cannot be read; here: try later
                except StoreError:
                    reader = None
            if reader is not None:
                try:
                    version = reader.data_version()
                except StoreError:
                    reader.close()
                    reader = None
            now = time.monotonic()
            changed = version is not None and version != seen
            if changed:
                changed_at = now
            interval = self.check_seconds if now - changed_at < BUSY_SECONDS else self.quiet_check_seconds
            if (changed or now - woken >= self.wake_seconds) and not self._pending.is_set():
                # only a delivered wake-up counts as seen: a commit made while the app was busy reading is
                # reported as soon as it has handled the previous one
                seen = version if version is not None else seen
                woken = now
                self._pending.set()
                self.wake()
        if reader is not None:
            reader.close()
