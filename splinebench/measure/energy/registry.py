"""Energy meters by URL scheme: ``none``, ``ssh://user@host[:port]``, ``nvml[:index]``, ``rapl``,
``jetson``.
"""

from __future__ import annotations

from typing import Any

from splinebench.errors import BadInputError
from splinebench.measure.energy.jetson_sysfs import JetsonSysfsMeter
from splinebench.measure.energy.meter import EnergyMeter, NullMeter
from splinebench.measure.energy.nvml import NvmlMeter
from splinebench.measure.energy.rapl import RaplMeter
from splinebench.measure.energy.tegrastats_ssh import TegrastatsOverSSH
from splinebench.registry import Factory, Registry

METERS: Registry[Factory] = Registry("energy meter")


def meter_scheme(url: str) -> str:
    """``ssh://a@b`` -> ``ssh``; ``nvml:1`` -> ``nvml``; ``rapl`` -> ``rapl``."""
    url = url.strip()
    if "://" in url:
        return url.split("://", 1)[0].lower()
    return url.split(":", 1)[0].lower()


@METERS.register("none", example="none", what="no measurement: every window says why (never 0 J)")
def _none(url: str, **_: Any) -> EnergyMeter:
    return NullMeter("no meter")


@METERS.register(
    "ssh",
    example="ssh://user@jetson[:port][?sudo=1|sysfs=1]",
    what="a Jetson's tegrastats (or INA3221 sysfs) streamed over SSH",
)
def _ssh(url: str, *, accept_new_host: bool = False, interval_ms: int = 1000, **options: Any) -> EnergyMeter:
    return TegrastatsOverSSH(url, accept_new_host=accept_new_host, interval_ms=interval_ms, **options)


@METERS.register("nvml", example="nvml[:index]", what="an NVIDIA GPU via NVML (energy counter, else power)")
def _nvml(url: str, *, interval_ms: int = 1000, **options: Any) -> EnergyMeter:
    _, _, index = url.partition(":")
    if index and not index.isdigit():
        raise BadInputError(f"bad GPU index in {url!r} (expected nvml or nvml:INDEX)")
    return NvmlMeter(int(index or 0), interval_ms=interval_ms, **options)


@METERS.register("rapl", example="rapl", what="CPU packages + DRAM via /sys/class/powercap (Intel/AMD)")
def _rapl(url: str, *, interval_ms: int = 1000, **options: Any) -> EnergyMeter:
    return RaplMeter(interval_ms=interval_ms, **options)


@METERS.register("jetson", example="jetson", what="this Jetson's own INA3221 rails (run on the board)")
def _jetson(url: str, *, interval_ms: int = 1000, **options: Any) -> EnergyMeter:
    return JetsonSysfsMeter(interval_ms=interval_ms, **options)


def open_meter(
    url: str, *, accept_new_host: bool = False, interval_ms: int = 1000, **options: Any
) -> EnergyMeter:
    """The meter for ``url`` (not started). Unknown schemes raise :class:`UnknownNameError` with close names.

    ``options`` go to the meter's constructor (e.g. ``known_hosts``, ``client_keys``, ``config`` for SSH;
    ``root`` for RAPL and local Jetson sysfs).
    """
    scheme = meter_scheme(url)
    factory = METERS.get(scheme)
    if scheme == "ssh":
        return factory(url, accept_new_host=accept_new_host, interval_ms=interval_ms, **options)
    if accept_new_host:
        raise BadInputError(f"--accept-new-host only applies to ssh:// meters, not {url!r}")
    return factory(url, interval_ms=interval_ms, **options)
