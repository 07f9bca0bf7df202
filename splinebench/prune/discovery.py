"""Finding pruners: every entry point in the ``splinebench.pruners`` group, ours and third-party alike.

A plug-in that fails to import does not break the others: it is listed with its error, and a run that asks for it
records the failure for that pruner while the rest of the run goes on.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from splinebench.errors import UnknownNameError
from splinebench.prune.interface import Pruner
from splinebench.registry import Registry

GROUP = "splinebench.pruners"


@dataclass
class PrunerInfo:
    name: str
    origin: str  # "built-in" or the distribution that provides it
    target: str  # module:attr of the entry point
    cls: type[Pruner] | None
    error: str | None = None


def _origin(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    dist_name = dist.metadata["Name"] if dist is not None else "?"
    return "built-in" if dist_name == "splinebench" else dist_name


def discover() -> Registry[PrunerInfo]:
    """Load every registered pruner (fresh each call, so a package installed mid-session is seen)."""
    registry: Registry[PrunerInfo] = Registry("pruner")
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        if ep.name in registry:
            continue
        try:
            cls = ep.load()
            if not (isinstance(cls, type) and issubclass(cls, Pruner)):
                raise TypeError(f"{ep.value} is not a splinebench.prune.Pruner subclass")
            info = PrunerInfo(ep.name, _origin(ep), ep.value, cls)
        except Exception as exc:  # noqa: BLE001 - a broken plug-in is reported, not fatal
            info = PrunerInfo(ep.name, _origin(ep), ep.value, None, f"{type(exc).__name__}: {exc}")
        registry.register(ep.name, info)
    return registry


def create_pruner(name: str, registry: Registry[PrunerInfo] | None = None, **options: object) -> Pruner:
    """Instantiate a registered pruner; unknown names suggest close ones, broken plug-ins raise their error."""
    registry = registry or discover()
    info = registry.get(name)
    if info.cls is None:
        raise PluginError(name, info.error or "failed to load")
    return info.cls(**options)


class PluginError(RuntimeError):
    """A plug-in that is registered but could not be loaded."""

    def __init__(self, name: str, error: str) -> None:
        super().__init__(f"pruner {name!r} failed to load: {error}")
        self.name = name


def check_names(names: list[str], registry: Registry[PrunerInfo] | None = None) -> None:
    """Raise UnknownNameError for the first unknown pruner name (broken-but-registered names pass)."""
    registry = registry or discover()
    for name in names:
        if name not in registry:
            raise UnknownNameError("pruner", name, registry.suggest(name), len(registry))
