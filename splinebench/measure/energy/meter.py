"""The interface every energy source implements, and the bookkeeping they share.

A meter records timestamped :class:`PowerSample` s (and, for sources with an energy counter, cumulative
joules); :meth:`EnergyMeter.energy` turns any window of them into an :class:`EnergyWindow` with the rules of
:mod:`splinebench.measure.energy.integrate`. Windows may overlap (a phase window contains its epoch windows).
Subclasses only produce samples: the TX2 over SSH (:mod:`.tegrastats_ssh`), NVML, RAPL and local Jetson sysfs.

Time: every timestamp is on the clock of the machine whose power is read. Open windows with :meth:`now`, which
is that clock (``time.time()`` for local meters, the board's clock for a meter over SSH).
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import threading
import time
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import numpy as np

from splinebench.errors import BadInputError
from splinebench.measure.energy.integrate import (
    Interval,
    complement,
    gap_threshold_s,
    integrate_counter,
    integrate_power,
    merge_intervals,
    spacing_gaps,
    usable_pairs,
)
from splinebench.measure.energy.samples import EnergyWindow, Method, PowerSample, unavailable_window

log = logging.getLogger(__name__)

Listener = Callable[[list[PowerSample]], None]


class MeterUnavailableError(BadInputError):
    """The asked-for meter cannot measure on this machine; the message says why and what to change."""

    def __init__(self, meter: str, reason: str) -> None:
        self.meter = meter
        self.reason = reason
        super().__init__(f"energy meter {meter!r} is unavailable: {reason}")

    def __str__(self) -> str:
        return self.args[0]


_running_meters: weakref.WeakSet[EnergyMeter] = weakref.WeakSet()


@atexit.register
def _stop_all_meters() -> None:
    """Last exit path: a meter left running (an exception past the engine's ``finally``) is stopped here."""
    for meter in list(_running_meters):
        try:
            meter.stop()
        except Exception:  # noqa: BLE001 - interpreter shutdown: report and go on
            log.exception("stopping energy meter %s at exit failed", meter.name)


class EnergyMeter(ABC):
    """Start/stop, timestamped samples, energy of any window, gaps and provenance.

    Subclasses implement :meth:`start`/:meth:`stop` and feed :meth:`_record`. Everything here is thread-safe:
    samples arrive on the meter's own thread while the training loop asks for windows.
    """

    name: str = "meter"
    method: Method = "integrated-samples"

    def __init__(self, *, interval_ms: int = 1000) -> None:
        if interval_ms <= 0:
            raise BadInputError(f"energy sampling interval must be positive, got {interval_ms} ms")
        self.interval_s = interval_ms / 1000.0
        self._lock = threading.RLock()
        self._new_sample = threading.Condition(self._lock)
        self._samples: list[PowerSample] = []
        self._counter_t: list[float] = []
        self._counter_total_j: list[float] = []
        self._counter_rails_j: list[dict[str, float]] = []
        self._breaks: list[Interval] = []
        self._break_open_since: float | None = None
        self._listeners: list[Listener] = []
        self._running = False
        self._started_at: float | None = None

    # ----------------------------------------------------------------- lifecycle
    @abstractmethod
    def start(self) -> None:
        """Begin sampling; returns once the source works, else raises :class:`MeterUnavailableError`."""

    @abstractmethod
    def stop(self) -> None:
        """Stop sampling and release the source. Idempotent; safe on every exit path."""

    async def astart(self) -> None:
        """Async :meth:`start` for callers on an event loop (the dashboard)."""
        await asyncio.to_thread(self.start)

    async def astop(self) -> None:
        await asyncio.to_thread(self.stop)

    def __enter__(self) -> EnergyMeter:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._running

    def unavailable_reason(self) -> str | None:
        """Why this meter cannot measure here, without starting it; None when it should work."""
        return None

    def now(self) -> float:
        """The meter's clock (epoch seconds); open and close windows with it."""
        return time.time() + self.clock_offset_s

    @property
    def clock_offset_s(self) -> float:
        """Meter clock minus this machine's ``time.time()`` (0 for local meters; measured for a board)."""
        return 0.0

    def _mark_running(self, running: bool) -> None:
        self._running = running
        if running:
            self._started_at = self.now()
            _running_meters.add(self)
        else:
            _running_meters.discard(self)

    # ----------------------------------------------------------------- recording (subclasses)
    def _record(
        self,
        samples: list[PowerSample],
        counters: list[tuple[float, float | None, dict[str, float]]] | None = None,
    ) -> None:
        """Store new samples (and counter readings: t, cumulative total J, cumulative J per rail); notify."""
        if not samples and not counters:
            return
        with self._lock:
            self._samples.extend(samples)
            for t, total_j, rails_j in counters or []:
                self._counter_t.append(t)
                self._counter_total_j.append(np.nan if total_j is None else total_j)
                self._counter_rails_j.append(dict(rails_j))
            self._new_sample.notify_all()
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(list(samples))
            except Exception:  # noqa: BLE001 - a broken listener must not stop the measurement
                log.exception("energy listener %r failed", listener)

    def _begin_break(self, since: float) -> None:
        """The source went away at ``since`` (e.g. the SSH link dropped): an explicit gap starts."""
        with self._lock:
            if self._break_open_since is None:
                self._break_open_since = since

    def _end_break(self, until: float) -> None:
        with self._lock:
            if self._break_open_since is not None:
                if until > self._break_open_since:
                    self._breaks.append((self._break_open_since, until))
                self._break_open_since = None

    # ----------------------------------------------------------------- queries
    def add_listener(self, callback: Listener) -> Callable[[], None]:
        """Call ``callback(new_samples)`` from the meter's thread on arrival; returns an unsubscriber."""
        with self._lock:
            self._listeners.append(callback)

        def remove() -> None:
            with self._lock:
                if callback in self._listeners:
                    self._listeners.remove(callback)

        return remove

    def samples(self, since: float | None = None) -> list[PowerSample]:
        """All samples, or those strictly after ``since`` (for incremental polling)."""
        with self._lock:
            if since is None:
                return list(self._samples)
            return [s for s in self._samples if s.t > since]

    def wait_for_sample(self, after: float, timeout_s: float) -> bool:
        """Block until a sample with ``t >= after`` exists (True) or ``timeout_s`` passes (False)."""
        deadline = time.monotonic() + timeout_s
        with self._new_sample:
            while not (self._samples and self._samples[-1].t >= after):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._running:
                    return bool(self._samples and self._samples[-1].t >= after)
                self._new_sample.wait(min(remaining, 0.1))
            return True

    @property
    def gap_threshold_s(self) -> float:
        return gap_threshold_s(self.interval_s)

    def _all_breaks(self, until: float | None = None) -> list[Interval]:
        breaks = list(self._breaks)
        if self._break_open_since is not None:
            breaks.append((self._break_open_since, until if until is not None else self.now()))
        return breaks

    def gaps(self) -> list[tuple[float, float]]:
        """Every stretch without usable samples since the first sample, explicit disconnects included."""
        with self._lock:
            t = np.array([s.t for s in self._samples], dtype=float)
            breaks = self._all_breaks()
        return spacing_gaps(t, usable_pairs(t, self.gap_threshold_s, breaks), breaks)

    def _why_no_samples(self) -> str:
        """Reason for an empty window when there are no samples at all; subclasses say more."""
        if self._started_at is None:
            return "meter was never started"
        return "no samples received"

    def energy(self, t0: float, t1: float, *, wait: bool = True) -> EnergyWindow:
        """Energy over ``[t0, t1]`` (meter clock); waits briefly for the sample closing an ended window."""
        if t1 < t0:
            raise ValueError(f"window ends before it starts: {t0} > {t1}")
        if t1 == t0:
            return unavailable_window(
                t0, t1, self.name, "empty window (t0 == t1)", self.method, self.interval_s
            )
        if wait and self._running and t1 <= self.now() + self.gap_threshold_s:
            self.wait_for_sample(t1, self.gap_threshold_s)
        with self._lock:
            samples = list(self._samples)
            counter_t = np.array(self._counter_t, dtype=float)
            counter_total = np.array(self._counter_total_j, dtype=float)
            counter_rails = list(self._counter_rails_j)
            breaks = self._all_breaks(until=max(t1, self.now()))
        return self._window(t0, t1, samples, counter_t, counter_total, counter_rails, breaks)

    def _window(
        self,
        t0: float,
        t1: float,
        samples: list[PowerSample],
        counter_t: np.ndarray,
        counter_total: np.ndarray,
        counter_rails: list[dict[str, float]],
        breaks: list[Interval],
    ) -> EnergyWindow:
        if not samples and len(counter_t) == 0:
            return unavailable_window(t0, t1, self.name, self._why_no_samples(), self.method, self.interval_s)
        threshold = self.gap_threshold_s
        t = np.array([s.t for s in samples], dtype=float)
        in_window = [s for s in samples if t0 <= s.t <= t1]
        rail_names = sorted({r for s in samples for r in s.rails_mw})
        use_counter = self.method == "counter-delta" and len(counter_t) >= 2
        if use_counter:
            usable = usable_pairs(counter_t, threshold, breaks)
            exact = usable_pairs(counter_t, np.inf, breaks)  # a long pair still holds its exact delta
            total = integrate_counter(counter_t, counter_total, t0, t1, usable, exact)
            per_rail = {}
            for rail in sorted({r for c in counter_rails for r in c}):
                cum = np.array([c.get(rail, np.nan) for c in counter_rails], dtype=float)
                per_rail[rail] = integrate_counter(counter_t, cum, t0, t1, usable, exact).joules
            method: Method = "counter-delta"
        else:
            usable = usable_pairs(t, threshold, breaks)
            total_w = np.array([np.nan if s.total_mw is None else s.total_mw / 1000.0 for s in samples])
            total = integrate_power(t, total_w, t0, t1, usable)
            per_rail = {}
            for rail in rail_names:
                rail_w = np.array([s.rails_mw.get(rail, np.nan) / 1000.0 for s in samples], dtype=float)
                part = integrate_power(t, rail_w, t0, t1, usable)
                if part.covered:
                    per_rail[rail] = part.joules
            method = "integrated-samples"
        duration = t1 - t0
        covered_s = total.covered_s
        coverage = min(1.0, covered_s / duration)
        spacing = np.diff([s.t for s in in_window])
        interval = float(np.median(spacing)) if len(spacing) else self.interval_s
        if not total.covered:
            why = self._why_uncovered(t0, t1, samples)
            return EnergyWindow(
                t0,
                t1,
                None,
                None,
                None,
                len(in_window),
                interval,
                0.0,
                complement([], t0, t1),
                method,
                self.name,
                why,
                {},
            )
        return EnergyWindow(
            t0=t0,
            t1=t1,
            joules=total.joules,
            mean_power_w=total.joules / covered_s if covered_s > 0 else None,
            peak_power_w=total.peak_w,
            n_samples=len(in_window),
            sample_interval_s=interval,
            coverage=coverage,
            gaps=complement(merge_intervals(total.covered), t0, t1),
            method=method,
            meter=self.name,
            why_unavailable=None,
            per_rail_joules=per_rail,
        )

    def _why_uncovered(self, t0: float, t1: float, samples: list[PowerSample]) -> str:
        if samples and all(s.total_mw is None for s in samples):
            rails = sorted({r for s in samples for r in s.rails_mw})
            return (
                "no board-total power in the samples (no VDD_IN / POM_5V_IN, and the rails "
                f"{', '.join(rails) or 'none'} are not a documented set to sum)"
            )
        if samples:
            first, last = samples[0].t, samples[-1].t
            if t1 < first or t0 > last:
                return f"no samples in the window (samples span {first:.3f}..{last:.3f})"
            return "the window falls inside a gap in the samples"
        return self._why_no_samples()

    def measure_idle(self, seconds: float) -> EnergyWindow:
        """Idle baseline: energy over ``seconds`` of doing nothing (starts and stops the meter if needed)."""
        started_here = not self._running
        if started_here:
            self.start()
        try:
            self.wait_for_sample(self.now(), self.gap_threshold_s + 5.0)
            t0 = self.now()
            time.sleep(seconds)
            return self.energy(t0, self.now())
        finally:
            if started_here:
                self.stop()

    def info(self) -> dict[str, Any]:
        """Provenance: which meter, how it measures, how densely, what it saw."""
        with self._lock:
            samples = list(self._samples)
        rails = sorted({r for s in samples for r in s.rails_mw})
        sources = sorted({s.total_source for s in samples if s.total_source})
        spacing = np.diff([s.t for s in samples[-200:]])
        return {
            "meter": self.name,
            "method": self.method,
            "interval_ms": round(self.interval_s * 1000),
            "sample_rate_hz": float(1.0 / np.median(spacing))
            if len(spacing) and np.median(spacing) > 0
            else None,
            "n_samples": len(samples),
            "rails": rails,
            "total_source": sources[0] if len(sources) == 1 else (sources or None),
            "gap_threshold_s": self.gap_threshold_s,
            "gaps": len(self.gaps()),
        }


class NullMeter(EnergyMeter):
    """No meter: every window says why there is no energy number (never 0 J)."""

    name = "none"

    def __init__(self, why: str = "no meter", *, interval_ms: int = 1000) -> None:
        super().__init__(interval_ms=interval_ms)
        self.why = why

    def start(self) -> None:
        self._mark_running(True)

    def stop(self) -> None:
        self._mark_running(False)

    def energy(self, t0: float, t1: float, *, wait: bool = True) -> EnergyWindow:
        return unavailable_window(t0, t1, self.name, self.why, self.method, None)

    def measure_idle(self, seconds: float) -> EnergyWindow:
        t0 = self.now()
        return self.energy(t0, t0 + seconds)

    def info(self) -> dict[str, Any]:
        return {"meter": self.name, "method": None, "why_unavailable": self.why}
