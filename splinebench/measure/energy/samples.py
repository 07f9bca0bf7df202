"""The two values every energy meter hands out: a power sample and an energy window.

Both carry their provenance, because the peers' worst bugs are silent wrong numbers (zeros on GPUs without
an energy counter, averaged power read as instant power): a window never says 0 J where it means "unknown";
it says ``joules=None`` and ``why_unavailable``, and always tells how it was measured, how densely, and where
it is blind.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Method = Literal["counter-delta", "integrated-samples"]


@dataclass(frozen=True)
class PowerSample:
    """Power read at one instant.

    ``t`` is epoch seconds on the clock of the machine whose power is read (the board for a Jetson over SSH);
    ``rails_mw`` maps rail name -> milliwatts as the source names it; ``total_mw`` is the whole-board (or
    whole-device) power, or None where the source has no total (never a guess). ``total_source`` says where
    the total came from: one rail (``"VDD_IN"``) or a documented sum
    (``"VDD_GPU_SOC+VDD_CPU_CV+VIN_SYS_5V0"``).
    """

    t: float
    rails_mw: dict[str, float]
    total_mw: float | None
    total_source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class EnergyWindow:
    """Energy over ``[t0, t1]`` with everything needed to judge the number.

    ``coverage`` is the fraction of the window covered by usable samples; ``gaps`` lists the uncovered
    stretches (clipped to the window), which are never filled in by interpolation. ``joules`` integrates only
    the covered part; it is None (with ``why_unavailable``) when nothing of the window is covered.
    """

    t0: float
    t1: float
    joules: float | None
    mean_power_w: float | None
    peak_power_w: float | None
    n_samples: int
    sample_interval_s: float | None
    coverage: float
    gaps: list[tuple[float, float]]
    method: Method
    meter: str
    why_unavailable: str | None = None
    per_rail_joules: dict[str, float] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        return self.t1 - self.t0

    @property
    def covered_s(self) -> float:
        return self.coverage * self.duration_s

    def net_joules(self, idle: EnergyWindow) -> float | None:
        """Joules above the idle baseline: gross minus idle mean power times the covered time.

        PEERS.md asks for gross and net-of-idle side by side; None when either number is unknown.
        """
        if self.joules is None or idle.mean_power_w is None:
            return None
        return self.joules - idle.mean_power_w * self.covered_s

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["gaps"] = [list(g) for g in self.gaps]
        return out


def unavailable_window(
    t0: float,
    t1: float,
    meter: str,
    why: str,
    method: Method = "integrated-samples",
    interval_s: float | None = None,
) -> EnergyWindow:
    """A window that says why there is no number (instead of 0 J)."""
    return EnergyWindow(
        t0=t0,
        t1=t1,
        joules=None,
        mean_power_w=None,
        peak_power_w=None,
        n_samples=0,
        sample_interval_s=interval_s,
        coverage=0.0,
        gaps=[(t0, t1)] if t1 > t0 else [],
        method=method,
        meter=meter,
        why_unavailable=why,
    )
