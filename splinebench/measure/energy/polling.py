"""Meters that read a local source at a fixed interval on a daemon thread (NVML, RAPL, local Jetson sysfs)."""

from __future__ import annotations

import logging
import threading
import time
from abc import abstractmethod

from splinebench.measure.energy.meter import EnergyMeter, MeterUnavailableError
from splinebench.measure.energy.samples import PowerSample

log = logging.getLogger(__name__)

CounterReading = tuple[float, float | None, dict[str, float]]


class PollingMeter(EnergyMeter):
    """Calls :meth:`_read` every interval (on a fixed cadence, not drifting) and records what it returns."""

    def __init__(self, *, interval_ms: int = 1000) -> None:
        super().__init__(interval_ms=interval_ms)
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None
        self.read_errors = 0
        self.last_error: str | None = None

    @abstractmethod
    def _open(self) -> None:
        """Acquire the source; raise :class:`MeterUnavailableError` with a reason a user can act on."""

    @abstractmethod
    def _read(self, t: float) -> tuple[PowerSample | None, CounterReading | None]:
        """One reading at time ``t``: a power sample and/or a cumulative-energy reading."""

    def _close(self) -> None:
        """Release the source (called once by :meth:`stop`)."""

    def poll_once(self, t: float | None = None) -> None:
        """Take one reading now (the thread does this every interval; tests call it with chosen ``t``)."""
        t = self.now() if t is None else t
        try:
            sample, counter = self._read(t)
        except Exception as exc:  # noqa: BLE001 - a failed read is a gap, not the end of the run
            self.read_errors += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            if self.read_errors == 1:
                log.warning("%s: reading failed (%s); the missing time will show as a gap", self.name, exc)
            return
        self._record([sample] if sample else [], [counter] if counter else None)

    def start(self) -> None:
        if self._running:
            return
        reason = self.unavailable_reason()
        if reason:
            raise MeterUnavailableError(self.name, reason)
        self._open()
        self._stop_event.clear()
        self._mark_running(True)
        self.poll_once()
        self._thread = threading.Thread(target=self._loop, name=f"{self.name}-meter", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        next_at = time.monotonic() + self.interval_s
        while not self._stop_event.wait(max(0.0, next_at - time.monotonic())):
            self.poll_once()
            next_at += self.interval_s
            if next_at < time.monotonic():  # fell behind (suspended): resume the cadence from now
                next_at = time.monotonic() + self.interval_s

    def stop(self) -> None:
        if not self._running:
            return
        self._stop_event.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None
        try:
            self._close()
        finally:
            self._mark_running(False)

    def _why_no_samples(self) -> str:
        if self.last_error:
            return f"{self.name}: no readings ({self.last_error})"
        return super()._why_no_samples()
