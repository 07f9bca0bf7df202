"""Energy meters by URL scheme: ``none``, ``ssh://user@host[:port]``, ``nvml[:index]``, ``rapl``,
``jetson``.
"""

from __future__ import annotations

import inspect
from importlib.metadata import entry_points
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
    load_plugins()
    factory = METERS.get(meter_scheme(url))
    if accept_new_host:
        if "accept_new_host" not in inspect.signature(factory).parameters:
            raise BadInputError(f"--accept-new-host only applies to ssh:// meters (those that reach a host), "
                                f"not {url!r}")
        options["accept_new_host"] = True
    return factory(url, interval_ms=interval_ms, **options)


_loaded = False


def load_plugins() -> None:
    """Register the meters other packages declare in the ``splinebench.energy_meters`` entry-point group (once).

    Each entry point names a factory ``(url, *, interval_ms=1000, **options) -> EnergyMeter``; its name is the URL
    scheme. One that fails to load is skipped (``splinebench energy list`` does not need it to run a benchmark).
    """
    global _loaded
    if _loaded:
        return
    _loaded = True
    for ep in entry_points(group="splinebench.energy_meters"):
        if ep.name in METERS:
            continue
        try:
            factory = ep.load()
        except Exception:  # noqa: BLE001 - a broken plug-in must not stop the built-in meters
            continue
        doc = (inspect.getdoc(factory) or "").splitlines()
        METERS.register(ep.name, factory, example=f"{ep.name}:...", what=doc[0] if doc else f"plug-in {ep.value}")
