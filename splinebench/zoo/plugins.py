"""Models from other packages: the ``splinebench.models`` entry-point group, the door pruners use too.

An entry point names either a *factory* ``factory(num_classes, in_channels, **options) -> nn.Module``, registered
under the entry point's name (``my-net = "my_pkg.nets:build_my_net"``), or a *module* that registers its models
itself with ``@splinebench.zoo.register_model`` when imported (``my-zoo = "my_pkg.zoo"``). Entry points are read
the first time a listing or an unknown name needs them. A plug-in that fails to load is kept in ``PLUGIN_ERRORS``
(``models list`` shows it) and never breaks the other models.
"""

from __future__ import annotations

import inspect
import types
from importlib.metadata import EntryPoint, entry_points

from splinebench.zoo.catalog import MODELS, add_lazy_registrar

GROUP = "splinebench.models"

#: entry-point name -> "ErrorType: message" for plug-ins that failed to load
PLUGIN_ERRORS: dict[str, str] = {}
_loaded = False


def _origin(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return dist.metadata["Name"] if dist is not None else "?"


def _register(ep: EntryPoint) -> None:
    target = ep.load()
    if isinstance(target, types.ModuleType):
        return  # importing it ran its @register_model decorators
    if not callable(target):
        raise TypeError(f"{ep.value} is neither a model factory nor a module")
    parameters = inspect.signature(target).parameters
    if not {"num_classes", "in_channels"} <= set(parameters):
        raise TypeError(f"{ep.value} must take (num_classes, in_channels, **options)")
    if ep.name in MODELS:
        return
    doc = (inspect.getdoc(target) or "").strip().splitlines()
    MODELS.register(ep.name, target, family=_origin(ep), input_kind="image", description=doc[0] if doc else "")


def load_model_plugins() -> None:
    """Register every ``splinebench.models`` entry point once (a broken one is recorded, not raised)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        try:
            _register(ep)
        except Exception as exc:  # noqa: BLE001 - a broken plug-in is reported, not fatal
            PLUGIN_ERRORS[ep.name] = f"{type(exc).__name__}: {exc}"


add_lazy_registrar(load_model_plugins)
