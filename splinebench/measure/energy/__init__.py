"""Energy meters: the interface the engine uses, and every source behind it.

The engine's whole use of this package::

    meter = open_meter(url, interval_ms=1000)      # ssh://user@tx2, nvml[:i], rapl, jetson, none
    meter.start()                                   # raises MeterUnavailableError saying why
    try:
        idle = meter.measure_idle(5.0)              # baseline: report gross and net-of-idle
        meter.add_listener(store_samples)           # raw samples for plots (returns an unsubscribe)
        t0 = meter.now()                            # the meter's clock (the board's, over SSH)
        ...                                         # train an epoch
        window = meter.energy(t0, meter.now())      # EnergyWindow: joules, or None and why
        window.net_joules(idle)
    finally:
        meter.stop()                                # idempotent; kills the remote tegrastats

Each :class:`EnergyWindow` carries its provenance (method, samples, coverage, gaps); ``meter.info()`` the
meter's (host, board, L4T release, rails, what the total is made of, sample rate, clock offset).
"""

from __future__ import annotations

from splinebench.measure.energy.integrate import gap_threshold_s
from splinebench.measure.energy.jetson_sysfs import JetsonSysfsMeter
from splinebench.measure.energy.meter import EnergyMeter, MeterUnavailableError, NullMeter
from splinebench.measure.energy.nvml import NvmlMeter
from splinebench.measure.energy.rapl import RaplMeter
from splinebench.measure.energy.registry import METERS, meter_scheme, open_meter
from splinebench.measure.energy.samples import EnergyWindow, PowerSample
from splinebench.measure.energy.tegrastats import (
    INPUT_RAILS,
    SUM_RULES,
    TegrastatsParser,
    board_total,
    parse_tegrastats_line,
)
from splinebench.measure.energy.tegrastats_ssh import TegrastatsOverSSH

__all__ = [
    "INPUT_RAILS",
    "METERS",
    "SUM_RULES",
    "EnergyMeter",
    "EnergyWindow",
    "JetsonSysfsMeter",
    "MeterUnavailableError",
    "NullMeter",
    "NvmlMeter",
    "PowerSample",
    "RaplMeter",
    "TegrastatsOverSSH",
    "TegrastatsParser",
    "board_total",
    "gap_threshold_s",
    "meter_scheme",
    "open_meter",
    "parse_tegrastats_line",
]
