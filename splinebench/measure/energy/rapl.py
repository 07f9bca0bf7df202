"""CPU package (and DRAM) energy from Intel/AMD RAPL counters in ``/sys/class/powercap``.

Each domain's ``energy_uj`` is a cumulative counter that wraps at ``max_energy_range_uj``; readings are
unwrapped one step at a time (:func:`counter_step`), so the poll interval only has to be shorter than one wrap
(minutes to hours). Since the 2020 PLATYPUS side-channel fix the counters are readable by root only: then this
meter says so, with the exact command to change it, instead of reporting 0 J.

Board total: ``psys`` (whole SoC platform, on laptops) where present, else the sum of the ``package-*``
domains plus their ``dram`` subdomains (DRAM is outside the package domain; core/uncore are inside it and not
added).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from splinebench.measure.energy.integrate import counter_step
from splinebench.measure.energy.polling import CounterReading, PollingMeter
from splinebench.measure.energy.samples import PowerSample

DEFAULT_ROOT = "/sys/class/powercap"


@dataclass(frozen=True)
class RaplDomain:
    key: str  # intel-rapl:0 or intel-rapl:0:1
    name: str  # package-0, package-0/dram, psys
    energy_file: Path
    max_range_uj: float
    in_total: bool


def discover_domains(root: str | Path = DEFAULT_ROOT) -> list[RaplDomain]:
    """RAPL domains under ``root`` (a fake tree in tests): ``package-0``, ``package-0/core``, ``psys``..."""
    root = Path(root)
    raw: dict[str, tuple[str, Path, float]] = {}
    for folder in sorted(root.glob("intel-rapl:*")):
        energy = folder / "energy_uj"
        if not energy.exists():
            continue
        try:
            name = (folder / "name").read_text().strip()
            max_range = float((folder / "max_energy_range_uj").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        raw[folder.name] = (name, energy, max_range)
    domains = []
    has_psys = any(name == "psys" for name, _, _ in raw.values())
    for key, (name, energy, max_range) in sorted(raw.items()):
        parts = key.split(":")
        if len(parts) == 3:
            parent = raw.get(f"{parts[0]}:{parts[1]}")
            label = f"{parent[0] if parent else parts[1]}/{name}"
            in_total = not has_psys and name == "dram"
        else:
            label = name
            in_total = name == "psys" if has_psys else name.startswith("package")
        domains.append(RaplDomain(key, label, energy, max_range, in_total))
    return domains


class RaplMeter(PollingMeter):
    """Energy counter delta of the CPU packages (and DRAM) on this machine."""

    name = "rapl"
    method = "counter-delta"

    def __init__(self, *, interval_ms: int = 1000, root: str | Path = DEFAULT_ROOT) -> None:
        super().__init__(interval_ms=interval_ms)
        self.root = Path(root)
        self.domains: list[RaplDomain] = []
        self._last_raw: dict[str, float] = {}
        self._cumulative_j: dict[str, float] = {}
        self._previous: tuple[float, dict[str, float]] | None = None

    def _permission_message(self) -> str:
        return (
            f"the RAPL counters in {self.root} are readable by root only (Linux restricts them since the "
            f"2020 PLATYPUS fix). Run as root, or allow reading until the next reboot with: "
            f"sudo chmod o+r {self.root}/intel-rapl:*/energy_uj {self.root}/intel-rapl:*:*/energy_uj "
            "(docs/energy.md has a tmpfiles.d rule that keeps it across reboots)"
        )

    def unavailable_reason(self) -> str | None:
        if not self.root.is_dir():
            return (
                f"no RAPL powercap interface at {self.root}: not an Intel/AMD x86 machine, or the RAPL "
                "driver is not loaded (`sudo modprobe intel_rapl_msr`)"
            )
        domains = discover_domains(self.root)
        if not domains:
            return f"no RAPL domains (intel-rapl:*/energy_uj) under {self.root}"
        for domain in domains:
            try:
                domain.energy_file.read_text()
            except PermissionError:
                return self._permission_message()
            except OSError as exc:
                return f"cannot read {domain.energy_file}: {exc}"
        return None

    def _open(self) -> None:
        self.domains = discover_domains(self.root)
        self._last_raw.clear()
        self._cumulative_j.clear()
        self._previous = None

    def _read(self, t: float) -> tuple[PowerSample | None, CounterReading | None]:
        for domain in self.domains:
            raw = float(domain.energy_file.read_text().split()[0])
            if domain.name in self._last_raw:
                step = counter_step(self._last_raw[domain.name], raw, domain.max_range_uj)
                self._cumulative_j[domain.name] += step / 1e6
            else:
                self._cumulative_j[domain.name] = 0.0
            self._last_raw[domain.name] = raw
        cumulative = dict(self._cumulative_j)
        total_j = sum(cumulative[d.name] for d in self.domains if d.in_total)
        sample = None
        if self._previous is not None and t > self._previous[0]:
            t_prev, prev = self._previous
            rails_mw = {k: (cumulative[k] - prev[k]) / (t - t_prev) * 1000.0 for k in cumulative}
            total_mw = sum(rails_mw[d.name] for d in self.domains if d.in_total)
            sample = PowerSample(t, rails_mw, total_mw, self.total_source)
        self._previous = (t, cumulative)
        return sample, (t, total_j, cumulative)

    @property
    def total_source(self) -> str:
        return "+".join(d.name for d in self.domains if d.in_total)

    def info(self) -> dict[str, Any]:
        base = super().info()
        base.update(
            {
                "root": str(self.root),
                "domains": [d.name for d in self.domains],
                "total_source": self.total_source or None,
                "counter_wraps_at_uj": {d.name: d.max_range_uj for d in self.domains},
            }
        )
        return base
