"""Energy per phase and per epoch: cuts the run's meter samples into the windows the pipeline reports.

The meter (``splinebench.measure.energy``) samples on its own thread; this observer only asks it for the energy of
``[t0, t1]`` when an epoch or phase ends, and emits an ``EnergyMeasured`` event with the meter's provenance. With no
meter it emits nothing and every energy figure is ``None`` ("n/a (no meter)" in tables), never 0.

A window whose samples cover less than ``min_coverage`` of it (a link drop, a stalled meter) integrates only what
was covered, so its joules under-count: it is marked ``partial`` with its coverage, and so is the phase window
that contains it. The store marks every result total that includes a partial window (``results.energy_partial``).
"""

from __future__ import annotations

import time
from typing import Any

from splinebench.engine.events import EnergyMeasured, EventBus

#: Below this fraction of a window covered by samples, its joules are marked partial (profile: energy_min_coverage).
DEFAULT_MIN_COVERAGE = 0.8


class EnergyWindows:
    def __init__(self, meter: Any | None, bus: EventBus, idle: Any | None = None,
                 min_coverage: float = DEFAULT_MIN_COVERAGE) -> None:
        """``idle``: the meter's EnergyWindow over a few idle seconds before the run (the net-of-idle baseline)."""
        self.meter = meter
        self.bus = bus
        self.idle = idle
        self.idle_power_w = idle.mean_power_w if idle is not None else None
        self.min_coverage = min_coverage
        self._phase_t0: dict[str, float] = {}
        self._partial_phases: set[str] = set()

    def phase_started(self, phase: str) -> None:
        self._phase_t0.setdefault(phase, time.time())

    def epoch(self, phase: str, epoch: int, t0: float, t1: float) -> float | None:
        return self._window("epoch", phase, epoch, t0, t1)

    def phase_finished(self, phase: str) -> float | None:
        t0 = self._phase_t0.pop(phase, None)
        if t0 is None:
            return None
        return self._window("phase", phase, None, t0, time.time(), contains_partial=phase in self._partial_phases)

    def _window(self, kind: str, phase: str, epoch: int | None, t0: float, t1: float,
                contains_partial: bool = False) -> float | None:
        if self.meter is None:
            return None
        # The pipeline times windows on this machine's clock; the meter's samples are on its own (a board's, over
        # SSH): shift the window by the current offset between the two clocks.
        now = getattr(self.meter, "now", None)
        if callable(now):
            shift = now() - time.time()
            t0, t1 = t0 + shift, t1 + shift
        window = self.meter.energy(t0, t1)
        # gross minus idle power over the time samples actually cover: a gap is not charged idle power
        net = window.net_joules(self.idle) if self.idle is not None else None
        provenance = {
            "meter": window.meter, "method": window.method, "n_samples": window.n_samples,
            "sample_interval_s": window.sample_interval_s, "coverage": window.coverage, "gaps": window.gaps,
            "peak_power_w": window.peak_power_w, "per_rail_joules": window.per_rail_joules,
        }
        partial = window.joules is not None and (window.coverage < self.min_coverage or contains_partial)
        if partial and kind == "epoch":
            self._partial_phases.add(phase)
        self.bus.emit(EnergyMeasured, window=kind, phase=phase, epoch=epoch, t0=t0, t1=t1, joules=window.joules,
                      mean_power_w=window.mean_power_w, idle_power_w=self.idle_power_w, net_joules=net,
                      provenance=provenance, why=window.why_unavailable, coverage=window.coverage, partial=partial,
                      min_coverage=self.min_coverage)
        return window.joules
