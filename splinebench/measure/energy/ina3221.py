"""The Jetson's INA3221 power monitors in sysfs: find the channels, read them here or over SSH.

Two kernel interfaces exist and both are handled by what the files say, not by board tables:

* L4T <= 32 (TX1, TX2, Nano, Xavier): the ``ina3221x`` IIO driver,
  ``/sys/bus/i2c/drivers/ina3221x/<bus-addr>/iio:device<k>/rail_name_<n>`` naming ``in_power<n>_input`` (mW).
* L4T >= 34 (Orin): the mainline ``ina3221`` hwmon driver,
  ``/sys/bus/i2c/drivers/ina3221/<bus-addr>/hwmon/hwmon<k>/in<n>_label`` naming ``in<n>_input`` (mV) and
  ``curr<n>_input`` (mA); power is their product. Labels ``NC`` (not connected) and the "sum of shunt
  voltages" channel are skipped.

Reading sysfs directly samples faster than tegrastats (whose lowest useful interval is ~100 ms on a TX2).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

IIO_GLOB = "sys/bus/i2c/drivers/ina3221x/*/iio:device*"
HWMON_GLOB = "sys/bus/i2c/drivers/ina3221/*/hwmon/hwmon*"
LOOP_MARKER = "splinebench-ina3221"
"""Appears in the remote sampling loop's command line, so stopping it can check the PID is still ours."""


@dataclass(frozen=True)
class Channel:
    """One monitored rail: ``power`` kind reads mW from one file; ``volt_curr`` multiplies mV and mA files."""

    name: str
    kind: Literal["power", "volt_curr"]
    paths: tuple[str, ...]


def rail_name(label: str) -> str | None:
    """A label as a tegrastats-style rail name; None for channels that are not rails."""
    label = label.strip()
    if not label or label.upper() == "NC" or "sum of shunt" in label.lower():
        return None
    return re.sub(r"[^A-Z0-9_]", "_", label.upper())


def discover(root: str | Path = "/") -> list[Channel]:
    """All INA3221 rails under ``root`` (a fake sysfs tree in tests), sorted by name, duplicates dropped."""
    root = Path(root)
    found: dict[str, Channel] = {}
    for dev in sorted(root.glob(IIO_GLOB)):
        for label_file in sorted(dev.glob("rail_name_*")):
            n = label_file.name.removeprefix("rail_name_")
            name = rail_name(_read_text(label_file))
            power = dev / f"in_power{n}_input"
            if name and power.exists():
                found.setdefault(name, Channel(name, "power", (str(power),)))
    for dev in sorted(root.glob(HWMON_GLOB)):
        for label_file in sorted(dev.glob("in*_label")):
            n = label_file.name.removeprefix("in").removesuffix("_label")
            name = rail_name(_read_text(label_file))
            volt, curr = dev / f"in{n}_input", dev / f"curr{n}_input"
            if name and volt.exists() and curr.exists():
                found.setdefault(name, Channel(name, "volt_curr", (str(volt), str(curr))))
    return [found[k] for k in sorted(found)]


def _read_text(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def read_mw(channel: Channel) -> float | None:
    """Current power of one channel in mW; None if a file cannot be read right now."""
    try:
        values = [float(Path(p).read_text().split()[0]) for p in channel.paths]
    except (OSError, ValueError, IndexError):
        return None
    if channel.kind == "power":
        return values[0]
    return values[0] * values[1] / 1000.0


def remote_discovery_command(root: str = "/") -> str:
    """Shell command printing one ``P NAME PATH`` or ``VC NAME VPATH CPATH`` line per channel on the board."""
    r = shlex.quote(root.rstrip("/") or "")
    return (
        f'for d in {r}/{IIO_GLOB}; do [ -d "$d" ] || continue; '
        'for f in "$d"/rail_name_*; do [ -f "$f" ] || continue; n=${f##*rail_name_}; '
        'echo "P $(cat "$f") $d/in_power${n}_input"; done; done; '
        f'for d in {r}/{HWMON_GLOB}; do [ -d "$d" ] || continue; '
        'for f in "$d"/in*_label; do [ -f "$f" ] || continue; n=${f##*/in}; n=${n%_label}; '
        'echo "VC $(cat "$f") $d/in${n}_input $d/curr${n}_input"; done; done'
    )


def parse_remote_discovery(text: str) -> list[Channel]:
    """Channels from the output of :func:`remote_discovery_command` (labels may contain spaces)."""
    found: dict[str, Channel] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "P":
            name, paths = rail_name(" ".join(parts[1:-1])), (parts[-1],)
            kind: Literal["power", "volt_curr"] = "power"
        elif len(parts) >= 4 and parts[0] == "VC":
            name, paths = rail_name(" ".join(parts[1:-2])), (parts[-2], parts[-1])
            kind = "volt_curr"
        else:
            continue
        if name:
            found.setdefault(name, Channel(name, kind, paths))
    return [found[k] for k in sorted(found)]


def remote_loop_script(channels: list[Channel], interval_s: float) -> str:
    """A POSIX sh loop printing ``SYSFS NAME <mW>mW ...`` lines, which the tegrastats parser reads as rails.

    ``read`` is a shell builtin, so a sample costs one fork (``sleep``) however many rails there are.
    """
    body = [f": {LOOP_MARKER}", "while :; do", "l=SYSFS"]
    for ch in channels:
        if ch.kind == "power":
            body.append(
                f'if read -r v 2>/dev/null < {shlex.quote(ch.paths[0])}; then l="$l {ch.name} ${{v}}mW"; fi'
            )
        else:
            body.append(
                f"if read -r v 2>/dev/null < {shlex.quote(ch.paths[0])} && "
                f"read -r c 2>/dev/null < {shlex.quote(ch.paths[1])}; "
                f'then l="$l {ch.name} $((v*c/1000))mW"; fi'
            )
    body += ['echo "$l"', f"sleep {interval_s:.3f}", "done"]
    return "\n".join(body)
