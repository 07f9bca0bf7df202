"""A Jetson measuring itself: the INA3221 sysfs files read locally (for runs on the board, ``jetson``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from splinebench.measure.energy.ina3221 import Channel, discover, read_mw
from splinebench.measure.energy.polling import CounterReading, PollingMeter
from splinebench.measure.energy.samples import PowerSample
from splinebench.measure.energy.tegrastats import board_total


class JetsonSysfsMeter(PollingMeter):
    """Integrated board power from the local INA3221 rails; ``root`` is a fake sysfs tree in tests."""

    name = "jetson-sysfs"

    def __init__(self, *, interval_ms: int = 1000, root: str | Path = "/") -> None:
        super().__init__(interval_ms=interval_ms)
        self.root = Path(root)
        self.channels: list[Channel] = []

    def unavailable_reason(self) -> str | None:
        channels = discover(self.root)
        if not channels:
            return (
                f"no INA3221 power monitor under {self.root / 'sys/bus/i2c/drivers'} (ina3221x or ina3221): "
                "not a Jetson, or its power-monitor driver is not loaded"
            )
        unreadable = [ch.paths[0] for ch in channels if read_mw(ch) is None]
        if len(unreadable) == len(channels):
            return f"cannot read the INA3221 files (e.g. {unreadable[0]}); check their permissions"
        return None

    def _open(self) -> None:
        self.channels = discover(self.root)

    def _read(self, t: float) -> tuple[PowerSample | None, CounterReading | None]:
        rails = {ch.name: mw for ch in self.channels if (mw := read_mw(ch)) is not None}
        if not rails:
            raise OSError("no INA3221 channel could be read")
        total, source = board_total(rails)
        return PowerSample(t, rails, total, source), None

    def info(self) -> dict[str, Any]:
        base = super().info()
        base["root"] = str(self.root)
        base["board_model"] = _read(self.root / "proc/device-tree/model")
        base["l4t_release"] = _read(self.root / "etc/nv_tegra_release")
        return base


def _read(path: Path) -> str | None:
    try:
        return path.read_text().replace("\x00", "").strip().splitlines()[0] or None
    except (OSError, IndexError):
        return None
