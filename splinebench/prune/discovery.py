"""Finding pruners: every entry point in the ``splinebench.pruners`` group, ours and third-party alike.

A plug-in that fails to import does not break the others: it is listed with its error, and a run that asks for it
records the failure for that pruner while the rest of the run goes on.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from splinebench.errors import BadInputError, UnknownNameError
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


def check_options(name: str, options: Mapping[str, object], registry: Registry[PrunerInfo] | None = None) -> None:
    """Raise BadInputError for an option the pruner's ``__init__`` does not take, naming the close ones.

    Without this a misspelt option would be swallowed and the run would go on with the default. A pruner whose
    ``__init__`` takes ``**options`` accepts anything and is not checked; one that failed to load is left for the
    run to record.
    """
    registry = registry or discover()
    info = registry.get(name)
    if info.cls is None:
        return
    parameters = list(inspect.signature(info.cls.__init__).parameters.values())[1:]  # the first is self
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return
    accepted = [p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    for option in options:
        if option not in accepted:
            close = difflib.get_close_matches(option, accepted, n=3, cutoff=0.5)
            hint = f" Did you mean: {', '.join(close)}?" if close else ""
            takes = ", ".join(accepted) if accepted else "no options"
            raise BadInputError(f"pruner {name!r} has no option {option!r}.{hint} (it takes: {takes})")
