"""Finding trackers: every entry point in the ``splinebench.trackers`` group, ours and third-party alike."""

from __future__ import annotations

from importlib.metadata import entry_points

from splinebench.errors import BadInputError
from splinebench.registry import Registry
from splinebench.trackers.base import Tracker

GROUP = "splinebench.trackers"


def discover_trackers() -> Registry[type[Tracker] | str]:
    """Every registered tracker class, or why it failed to load (reported only when that tracker is asked for).

    Loading one imports only its module, never its (optional) library.
    """
    registry: Registry[type[Tracker] | str] = Registry("tracker")
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        if ep.name in registry:
            continue
        try:
            cls = ep.load()
            if not (isinstance(cls, type) and issubclass(cls, Tracker)):
                raise TypeError(f"{ep.value} is not a splinebench.trackers.Tracker subclass")
            registry.register(ep.name, cls)
        except Exception as exc:  # noqa: BLE001 - a broken plug-in must not block the others
            registry.register(ep.name, f"the tracker plug-in {ep.value} failed to load: {type(exc).__name__}: {exc}")
    return registry


def open_tracker(spec: str, registry: Registry[type[Tracker] | str] | None = None) -> Tracker:
    """``"tensorboard:runs/tb"`` -> a TensorBoard tracker writing under runs/tb (``NAME`` or ``NAME:TARGET``)."""
    name, _, target = spec.partition(":")
    registry = registry or discover_trackers()
    if name not in registry:
        close = registry.suggest(name)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise BadInputError(f"--log {spec}: unknown tracker {name!r}.{hint} (registered: "
                            f"{', '.join(registry.names()) or 'none'}; entry-point group {GROUP})")
    found = registry.get(name)
    if isinstance(found, str):
        raise BadInputError(f"--log {spec}: {found}")
    return found(target or None)


def open_trackers(specs: list[str]) -> list[Tracker]:
    """Open every ``--log`` tracker before the run starts, so a missing extra costs nothing (exit 2)."""
    if not specs:
        return []
    registry = discover_trackers()
    return [open_tracker(spec, registry) for spec in specs]
