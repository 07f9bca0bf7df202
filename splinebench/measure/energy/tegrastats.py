"""Parse power rails out of ``tegrastats`` lines, for every Jetson format seen in the wild.

Rails are found by *name and unit*, not by a table of L4T versions:

* ``NAME cur/avg`` with no unit is milliwatts (TX1/TX2/Nano, L4T <= 32.4: ``VDD_IN 3056/3056``,
  ``POM_5V_IN 2746/2911``, AGX Xavier's ``GPU 463/463 ... SYS5V 3306/3306``);
* ``NAME curmW/avgmW`` or ``NAME curmW`` (Xavier NX, Orin, L4T >= 32.5: ``VDD_IN 5299mW/5299mW``);
* anything else (``RAM 2020/7852MB``, ``IRAM 0/252kB``, ``EMC_FREQ 0%@1866``, ``APE 150``, ``GPU@41C``) is not
  a power rail; ``NC`` (a not-connected INA3221 channel on Orin) is dropped.

An optional leading ``MM-DD-YYYY HH:MM:SS`` stamp (newer tegrastats) is understood.

The board total is taken from one input rail where the board has one -- ``VDD_IN`` or ``POM_5V_IN`` already
*is* the whole-board input, and the other rails are parts of it, so they are never added to it (jetson_stats
#51). Boards without an input rail get the documented sum of their module rails (:data:`SUM_RULES`); any other
set of rails gives ``total_mw=None`` rather than a guess.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from splinebench.measure.energy.samples import PowerSample

INPUT_RAILS: tuple[str, ...] = ("VDD_IN", "POM_5V_IN")
"""Rails that measure the whole module/board input; the first one present is the total."""

SUM_RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("VDD_GPU_SOC", "VDD_CPU_CV", "VIN_SYS_5V0"),
        "Jetson AGX Orin: no VDD_IN rail; module power is the sum of the three channels of its first INA3221 "
        "(VDDQ_VDD2_1V8AO, on the second monitor, is reported but not added)",
    ),
    (
        ("GPU", "CPU", "SOC", "CV", "VDDRQ", "SYS5V"),
        "Jetson AGX Xavier (L4T 32.1-32.4): no input rail; total is the sum of its six monitored rails",
    ),
)
"""Boards without an input rail: (rails that must all be present, why their sum is the total)."""

NOT_A_RAIL = frozenset({"NC"})

MAX_PLAUSIBLE_MW = 1_000_000.0
"""1 kW: far above any Jetson (AGX Orin peaks near 75 W); a bigger number is a garbled line."""

_STAMP = re.compile(r"^\s*(\d{2})-(\d{2})-(\d{4}) (\d{2}):(\d{2}):(\d{2})(?:\s+|$)")
_NUM = r"\d{1,9}(?:\.\d{1,6})?"
_RAIL = re.compile(
    r"(?<![\w@/.%\[\]:-])(?P<name>[A-Z][A-Z0-9_]{0,63}) "
    rf"(?:(?P<mw>{_NUM})mW(?:/{_NUM}mW)?|(?P<bare>{_NUM})/{_NUM})"
    r"(?![\w/.%@:])"
)


def board_total(rails_mw: dict[str, float]) -> tuple[float | None, str | None]:
    """(total mW, where it came from) by rail names; (None, None) when no rule applies."""
    for name in INPUT_RAILS:
        if name in rails_mw:
            return rails_mw[name], name
    for names, _why in SUM_RULES:
        if all(n in rails_mw for n in names):
            return sum(rails_mw[n] for n in names), "+".join(names)
    return None, None


def find_rails(text: str) -> dict[str, float]:
    """Every power rail in ``text`` (mW); later duplicates of a name are ignored."""
    rails: dict[str, float] = {}
    for match in _RAIL.finditer(text):
        name = match.group("name")
        if name in NOT_A_RAIL or name in rails:
            continue
        value = float(match.group("mw") or match.group("bare"))
        if 0.0 <= value <= MAX_PLAUSIBLE_MW:
            rails[name] = value
    return rails


def _stamp_epoch(match: re.Match[str]) -> float | None:
    month, day, year, hour, minute, second = (int(g) for g in match.groups())
    try:
        return time.mktime((year, month, day, hour, minute, second, 0, 0, -1))
    except (OverflowError, ValueError):
        return None


@dataclass
class TegrastatsParser:
    """Line parser that counts what it could not use instead of raising.

    ``skipped`` counts every line that gave no sample; ``skipped_no_rails`` the subset that looked like
    tegrastats output but had no power rail (Orin's tegrastats prints none without root).
    """

    parsed: int = 0
    skipped: int = 0
    skipped_no_rails: int = 0
    last_skipped: str | None = None

    def parse(self, line: str, t: float | None = None) -> PowerSample | None:
        """A sample from one line, stamped ``t`` (else the line's own date stamp, else now); None to skip."""
        try:
            return self._parse(line, t)
        except Exception:  # noqa: BLE001 - a garbled line must never stop a measurement
            return self._skip(line)

    def _parse(self, line: str, t: float | None) -> PowerSample | None:
        text = line.replace("\x00", "").strip()
        stamp = _STAMP.match(text)
        if stamp:
            if t is None:
                t = _stamp_epoch(stamp)
            text = text[stamp.end() :]
        rails = find_rails(text)
        if not rails:
            if "RAM " in text or "CPU [" in text:
                self.skipped_no_rails += 1
            return self._skip(line)
        total, source = board_total(rails)
        self.parsed += 1
        return PowerSample(
            t=time.time() if t is None else t, rails_mw=rails, total_mw=total, total_source=source
        )

    def _skip(self, line: str) -> None:
        self.skipped += 1
        self.last_skipped = line[:200]
        return None


def parse_tegrastats_line(line: str, t: float | None = None) -> PowerSample | None:
    """One tegrastats line -> :class:`PowerSample`, or None for a line with no power rail (never raises)."""
    return TegrastatsParser().parse(line, t)
