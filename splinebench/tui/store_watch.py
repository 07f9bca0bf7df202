"""A thread that notices commits to the store and wakes the dashboard, so refresh follows change, not a clock.

Whether anything changed is one pragma (``StoreReader.data_version``) on a connection kept open. When to ask:

- On Linux the thread sleeps on inotify events for the store's files (the database, its ``-wal`` and
  ``-journal``): a commit wakes it at once, nothing else does, and an idle dashboard costs one look a second.
  Looking on a clock cost more than the look itself: waking a Python thread 10 times a second measured ~0.15% of
  a core, 33 times a second (the busy rate) ~0.45%, against the 0.5% idle and 5% live goals.
- Elsewhere, or where the file system does not report changes (NFS and some container mounts deliver no events
  for another machine's writes; a change seen at the once-a-second look with no event for it shows this), the
  thread looks every ``check_seconds`` while the store is busy and every ``quiet_check_seconds`` once it is quiet.

Either way the app is woken when another connection committed, and once a second even without a commit (a
running run's process may have died, which changes nothing in the store, and a missing store is looked for
again); a message is never queued before the app has handled the one before, so a burst of commits costs one
re-read.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from splinebench.store import StoreError, StoreReader

#: Seconds between two looks at the change counter while the store is busy (polling only): an event is on
#: screen within this plus one redraw.
CHECK_SECONDS = 0.03
#: ... and once nothing was committed for ``BUSY_SECONDS``: a quiet store is looked at less often.
QUIET_CHECK_SECONDS = 0.1
BUSY_SECONDS = 10.0
#: Seconds after which the app is woken even without a commit.
WAKE_SECONDS = 1.0
#: After the first file event, how long to let the rest of the burst land before looking: the engine writes an
#: epoch as several commits a few milliseconds apart, and one redraw for all of them is cheaper than one each.
COALESCE_SECONDS = 0.015


def _inotify_watch(store: Path) -> Any | None:
    """An inotify instance watching the store's folder; None where there is none (not Linux, the package or the
    folder missing, the per-user watch limit reached)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        from inotify_simple import INotify, flags
    except ImportError:
        return None
    try:
        notify = INotify()
    except OSError:
        return None
    mask = flags.MODIFY | flags.CREATE | flags.MOVED_TO | flags.DELETE | flags.CLOSE_WRITE
    try:
        notify.add_watch(str(store.parent), mask)
    except OSError:
        notify.close()
        return None
    return notify


def file_events_supported(store: Path) -> bool:
    """Whether a watch on ``store`` can sleep on file events here (the first choice; polling otherwise)."""
    notify = _inotify_watch(store)
    if notify is None:
        return False
    notify.close()
    return True


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
        #: "events" or "polling": how the thread learns of commits (tests and the benchmark read it)
        self.mode = "polling"
        self._stop = threading.Event()
        self._pending = threading.Event()
        self._missed = False  # a change was seen while a message was pending: look again once it is handled
        self._reader: StoreReader | None = None
        self._seen: int | None = None
        self._woken = 0.0
        self._poke_read = self._poke_write = -1  # a pipe that wakes the sleeping thread (start() makes it)
        self._thread = threading.Thread(target=self._run, name="store-watch", daemon=True)

    def start(self) -> None:
        self._poke_read, self._poke_write = os.pipe()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._poke()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        for fd in (self._poke_read, self._poke_write):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._poke_read = self._poke_write = -1

    def handled(self) -> None:
        """The app has re-read the store: the next change may wake it again."""
        self._pending.clear()
        if self._missed:
            self._poke()

    def _poke(self) -> None:
        if self._poke_write >= 0:
            with contextlib.suppress(OSError):  # closed by stop()
                os.write(self._poke_write, b"x")

    # -- one look ----------------------------------------------------------------------------------------------
    def _version(self) -> int | None:
        if self._reader is None:
            try:
                self._reader = StoreReader(self.path)  # the app says why a store cannot be read; here: try later
            except StoreError:
                return None
        try:
            return self._reader.data_version()
        except StoreError:
            self._reader.close()
            self._reader = None
            return None

    def _look(self, version: int | None) -> bool:
        """Wake the app if ``version`` is new or a second has passed; True if the version was new."""
        now = time.monotonic()
        changed = version is not None and version != self._seen
        if changed or now - self._woken >= self.wake_seconds:
            if self._pending.is_set():
                self._missed = self._missed or changed
            else:
                # only a delivered wake-up counts as seen: a commit made while the app was busy reading is
                # reported as soon as it has handled the previous one
                self._seen = version if version is not None else self._seen
                self._woken = now
                self._missed = False
                self._pending.set()
                self.wake()
        return changed

    def _run(self) -> None:
        notify = _inotify_watch(Path(self.path).resolve())
        try:
            if notify is not None:
                self.mode = "events"
                self._run_on_events(notify)
            if not self._stop.is_set():
                self.mode = "polling"
                self._run_on_clock()
        finally:
            if notify is not None:
                notify.close()
            if self._reader is not None:
                self._reader.close()

    # -- file events (Linux) ---------------------------------------------------------------------------------
    def _run_on_events(self, notify: Any) -> None:  # inotify_simple's INotify
        """Sleep until the store's files change (or the poke pipe is written, or a second passes). Returns when
        stopped, or when a change turned up that no event announced: this file system does not report them."""
        names = {Path(self.path).name + suffix for suffix in ("", "-wal", "-journal")}
        poller = select.poll()
        poller.register(notify.fileno(), select.POLLIN)
        poller.register(self._poke_read, select.POLLIN)
        last = None
        announced_before = False  # events drained last time may belong to a commit not yet visible then
        unannounced = 0
        while not self._stop.is_set():
            timeout = max(0.0, self._woken + self.wake_seconds - time.monotonic())
            ready = {fd for fd, _ in poller.poll(timeout * 1000)}
            if self._stop.is_set():
                return
            if self._poke_read in ready:
                os.read(self._poke_read, 4096)
            if notify.fileno() in ready:
                time.sleep(COALESCE_SECONDS)
            version = self._version()
            # read after the version: a commit's file events are queued when it writes, before it is visible
            announced = any(event.name in names for event in notify.read(timeout=0))
            if version is not None and last is not None and version != last:
                unannounced = 0 if announced or announced_before else unannounced + 1
                if unannounced >= 2:
                    return  # changed twice, yet no event said so: fall back to looking on the clock
            announced_before = announced
            last = version if version is not None else last
            self._look(version)

    # -- polling ---------------------------------------------------------------------------------------------
    def _run_on_clock(self) -> None:
        changed_at = time.monotonic()
        interval = self.check_seconds
        while not self._stop.wait(interval):
            now = time.monotonic()
            if self._look(self._version()):
                changed_at = now
            interval = self.check_seconds if now - changed_at < BUSY_SECONDS else self.quiet_check_seconds
