"""The model registry: register a factory once, build it by name anywhere (timm's ``create_model``).

A factory is a plain function ``factory(num_classes, in_channels, **kwargs) -> nn.Module``. Channel counts
always come from the dataset, so the same name builds a 10-class 1-channel net for Fashion-MNIST and a
100-class RGB one for CIFAR-100. The torchvision classifiers join the registry lazily under ``tv:<name>`` on
the first lookup, timm's under ``timm:<name>`` when a name or pattern asks for that prefix (importing timm takes
seconds), and other packages' models through the ``splinebench.models`` entry-point group (``zoo.plugins``).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any, Literal

from torch import nn

from splinebench.errors import BadInputError
from splinebench.registry import Entry, Registry

InputKind = Literal["2d-points", "image"]
ModelFactory = Callable[..., nn.Module]

MODELS: Registry[ModelFactory] = Registry("model")

# (prefix, registrar): set by splinebench.zoo.torchvision_models, timm_models and plugins at import. A registrar
# without a prefix runs before every listing and unknown-name lookup; one with a prefix only when the name or pattern
# could start with it, so `vgg*` never pays for importing timm.
_lazy_registrars: list[tuple[str | None, Callable[[], None]]] = []


def register_model(
    name: str,
    *,
    family: str,
    input_kind: InputKind = "image",
    description: str = "",
    min_input_size: int = 1,
    **meta: Any,
) -> Callable[[ModelFactory], ModelFactory]:
    """Decorator: add ``factory(num_classes, in_channels, **kwargs)`` to the zoo under ``name``.

    ``min_input_size`` is the smallest image side the model accepts (a VGG halves its input five times), so a
    profile pairing a model with too small an image fails before training instead of deep inside a forward
    pass.
    """
    return MODELS.register(
        name,
        family=family,
        input_kind=input_kind,
        description=description,
        min_input_size=min_input_size,
        **meta,
    )


def add_lazy_registrar(registrar: Callable[[], None], prefix: str | None = None) -> None:
    """Run ``registrar`` (idempotent) before listings and lookups; for names discovered at run time.

    With a ``prefix`` (``"timm:"``) it runs only for names and patterns that can start with it; if it raises
    ``ModuleNotFoundError`` (an optional extra that is not installed), an explicit request for that prefix gets a
    :class:`BadInputError` saying what to install, and every other listing simply goes without those names.
    """
    _lazy_registrars.append((prefix, registrar))


def _complete_registry(head: str | None = None) -> None:
    """Run the registrars that may add names starting with ``head`` (None: every one)."""
    for prefix, registrar in _lazy_registrars:
        if prefix is not None and head is not None and not (head.startswith(prefix) or prefix.startswith(head)):
            continue
        try:
            registrar()
        except ModuleNotFoundError as error:
            if prefix is not None and head is not None and head.startswith(prefix):
                family = prefix.rstrip(":")
                raise BadInputError(
                    f"models {head!r}... need the optional package {error.name!r}: "
                    f"pip install 'splinebench[{family}]' (scripts/install does)"
                ) from None


def _literal_head(pattern: str) -> str:
    """The part of a shell-style pattern before its first wildcard (``"timm:res"`` of ``"timm:res*"``)."""
    for i, char in enumerate(pattern):
        if char in "*?[":
            return pattern[:i]
    return pattern


def list_models(pattern: str = "*") -> list[str]:
    """Registered model names matching the shell-style ``pattern`` (``"vgg*"``, ``"tv:resnet*"``), sorted."""
    _complete_registry(_literal_head(pattern))
    return MODELS.names(pattern)


def model_info(name: str) -> Entry[ModelFactory]:
    """The entry of ``name``; ``entry.meta`` holds family, input_kind, description, min_input_size."""
    if name not in MODELS:  # a lazily registered name, or an unknown one that deserves suggestions
        _complete_registry(name)
    return MODELS.entry(name)


def create_model(
    name: str,
    num_classes: int,
    in_channels: int,
    *,
    input_shape: Sequence[int] | None = None,
    **kwargs: Any,
) -> nn.Module:
    """Build the model registered as ``name`` for a dataset with ``num_classes`` and ``in_channels``.

    ``input_shape`` (the dataset's ``(C, H, W)`` or ``(features,)``), when given, is checked against the
    model's input kind and minimum image size, and lets a fully connected net flatten images. Unknown
    ``kwargs`` raise :class:`BadInputError` naming the options the model takes.
    """
    entry = model_info(name)
    if num_classes < 1 or in_channels < 1:
        raise BadInputError(
            f"model {name!r} needs num_classes >= 1 and in_channels >= 1, got {num_classes} and {in_channels}"
        )
    if input_shape is not None:
        kwargs = _check_input_shape(entry, tuple(input_shape), in_channels, kwargs)
    _check_kwargs(entry, kwargs)
    return entry.obj(num_classes, in_channels, **kwargs)


def _check_input_shape(
    entry: Entry[ModelFactory], shape: tuple[int, ...], in_channels: int, kwargs: dict[str, Any]
) -> dict[str, Any]:
    kind = entry.meta.get("input_kind", "image")
    if kind == "image":
        if len(shape) != 3:
            raise BadInputError(
                f"model {entry.name!r} takes images (C, H, W); the dataset gives inputs of shape {shape}"
            )
        if shape[0] != in_channels:
            raise BadInputError(
                f"model {entry.name!r}: in_channels={in_channels} but the dataset's images have {shape[0]}"
            )
        size_option = entry.meta.get("input_size_option")  # a model built for one image size (a ViT)
        if size_option and size_option not in kwargs:
            kwargs = {**kwargs, size_option: tuple(shape[1:])}
        smallest = entry.meta.get("min_input_size", 1)
        if min(shape[1:]) < smallest:
            raise BadInputError(
                f"model {entry.name!r} needs images of at least {smallest}x{smallest} pixels; "
                f"the dataset gives {shape[1]}x{shape[2]}. "
                f"Pick a model for small inputs (e.g. convnet-small)."
            )
        return kwargs
    # Fully connected nets flatten whatever they are given: tell them how many features that is.
    if "in_features" in inspect.signature(entry.obj).parameters and "in_features" not in kwargs:
        return {**kwargs, "in_features": math.prod(shape)}
    return kwargs


def _check_kwargs(entry: Entry[ModelFactory], kwargs: dict[str, Any]) -> None:
    parameters = inspect.signature(entry.obj).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    accepted = [
        n
        for n, p in parameters.items()
        if n not in ("num_classes", "in_channels")
        and p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        takes = ", ".join(accepted) if accepted else "no options"
        raise BadInputError(
            f"model {entry.name!r} got unknown option(s) {', '.join(unknown)}; it takes: {takes}"
        )
