"""timm's models by name, as ``timm:<name>`` (``timm:resnet18``, ``timm:vit_tiny_patch16_224``): an optional extra.

Built with ``timm.create_model(name, pretrained=False, num_classes=..., in_chans=...)``: always randomly initialised,
nothing is downloaded (a ``pretrained``, ``checkpoint_path`` or ``pretrained_cfg`` option is refused). Models timm
builds for one input size (ViTs: ``fixed_input_size`` in their config) get the dataset's image size as ``img_size``
unless the profile sets it. Any other option goes to timm as is (``embed_dim``, ``depth``, ``drop_rate``...), which
is also how tests build width-reduced variants.

timm is imported only when a name or pattern asks for the ``timm:`` prefix (``pip install 'splinebench[timm]'``;
``scripts/install`` installs it). Many timm nets use GELU/SiLU/LayerNorm: they train and prune with the structured
baselines, but they are not ReLU splines; ``splinebench.spline.activations`` says which and refuses spline methods.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from torch import nn

from splinebench.errors import BadInputError
from splinebench.zoo.catalog import MODELS, add_lazy_registrar

PREFIX = "timm:"
_REFUSED = ("pretrained", "checkpoint_path", "pretrained_cfg", "pretrained_cfg_overlay", "cache_dir")


def build_timm_model(timm_name: str, num_classes: int, in_channels: int, **kwargs: Any) -> nn.Module:
    """``timm.create_model(timm_name, pretrained=False, ...)``; options timm does not take are one clear error."""
    import timm

    refused = [key for key in _REFUSED if kwargs.get(key)]
    if refused:
        raise BadInputError(
            f"{PREFIX}{timm_name}: {', '.join(refused)} would load weights; models start random (pretrained=False)"
        )
    options = {k: v for k, v in kwargs.items() if k not in _REFUSED}
    if "img_size" in options and isinstance(options["img_size"], list):
        options["img_size"] = tuple(options["img_size"])
    try:
        return timm.create_model(timm_name, pretrained=False, num_classes=num_classes, in_chans=in_channels,
                                 **options)
    except TypeError as error:
        raise BadInputError(f"{PREFIX}{timm_name}: timm rejected the options {options}: {error}") from None


_registered = False


def register_timm_models() -> None:
    """Register ``timm:<name>`` for every model timm lists (idempotent); ModuleNotFoundError without timm."""
    global _registered
    if _registered:
        return
    import timm
    from timm.models import get_pretrained_cfg

    for timm_name in timm.list_models():
        name = PREFIX + timm_name
        if name in MODELS:
            continue
        cfg = get_pretrained_cfg(timm_name)
        meta: dict[str, Any] = {}
        if cfg is not None and cfg.fixed_input_size:
            meta["input_size_option"] = "img_size"
        MODELS.register(
            name,
            partial(build_timm_model, timm_name),
            family="timm",
            input_kind="image",
            description=f"timm {timm.__version__} {timm_name}, random init (pretrained=False)",
            **meta,
        )
    _registered = True


add_lazy_registrar(register_timm_models, prefix=PREFIX)
