"""Every torchvision classification model by name, as ``tv:<name>`` (``tv:resnet18``, ``tv:vgg16_bn``).

Models are randomly initialised (``weights=None``): nothing is downloaded. When the dataset's channel count is
not 3, the stem convolution (the first ``Conv2d`` taking 3 channels) is replaced by one with the same kernel,
stride, padding, dilation, groups and bias that takes ``in_channels``.

Torchvision is imported only when these names are first listed or looked up, so the CLI starts fast.
Note for partition tracking: some torchvision models call one ``nn.ReLU`` module several times per forward
(ResNet's blocks do), so a hook on it fires more than once; ReLU6/Hardswish/SiLU nets are not piecewise-linear
ReLU splines at all.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from torch import nn

from splinebench.errors import BadInputError
from splinebench.zoo.catalog import MODELS, add_lazy_registrar

PREFIX = "tv:"

# Options that make a torchvision classifier return plain logits and initialise without a FutureWarning.
_DEFAULT_OPTIONS: dict[str, dict[str, Any]] = {
    "googlenet": {"aux_logits": False, "init_weights": True},
    "inception_v3": {"aux_logits": False, "init_weights": True},
}


def build_torchvision_model(tv_name: str, num_classes: int, in_channels: int, **kwargs: Any) -> nn.Module:
    """``torchvision.models.get_model(tv_name, weights=None, num_classes=...)`` with the stem adapted."""
    from torchvision import models

    options = {**_DEFAULT_OPTIONS.get(tv_name, {}), **kwargs}
    if options.pop("weights", None) is not None:
        raise BadInputError(f"{PREFIX}{tv_name}: pretrained weights are not supported (models start random)")
    try:
        model = models.get_model(tv_name, weights=None, num_classes=num_classes, **options)
    except TypeError as error:
        raise BadInputError(
            f"{PREFIX}{tv_name}: torchvision rejected the options {options}: {error}"
        ) from None
    if in_channels != 3:
        replace_stem_conv(model, in_channels)
    return model


def replace_stem_conv(model: nn.Module, in_channels: int) -> nn.Conv2d:
    """Swap the first 3-channel ``Conv2d`` (in registration order, which is the stem in torchvision's
    classifiers) for a fresh one taking ``in_channels``; every other hyper-parameter is kept."""
    for parent in model.modules():
        for child_name, child in parent.named_children():
            if isinstance(child, nn.Conv2d) and child.in_channels == 3:
                stem = nn.Conv2d(
                    in_channels,
                    child.out_channels,
                    kernel_size=child.kernel_size,
                    stride=child.stride,
                    padding=child.padding,
                    dilation=child.dilation,
                    groups=1 if child.groups == 1 else in_channels,
                    bias=child.bias is not None,
                    padding_mode=child.padding_mode,
                )
                setattr(parent, child_name, stem)
                return stem
    raise BadInputError(f"found no 3-channel stem convolution to adapt to {in_channels} input channels")


def _describe(tv_name: str) -> tuple[str, int]:
    from torchvision import models

    description = f"torchvision {tv_name}, random init"
    min_size = 1
    try:
        first = next(iter(models.get_model_weights(tv_name)))
        params = first.meta.get("num_params")
        min_size = int(first.meta.get("min_size", (1, 1))[0])
        if params:
            description += f" ({params / 1e6:.1f}M params at 1000 classes)"
    except (ValueError, StopIteration):  # a model without a weights enum
        pass
    return description, min_size


_registered = False


def register_torchvision_models() -> None:
    """Register ``tv:<name>`` for every classifier torchvision lists (idempotent, run before each lookup)."""
    global _registered
    if _registered:
        return
    from torchvision import models

    for tv_name in models.list_models(module=models):
        name = PREFIX + tv_name
        if name in MODELS:
            continue
        description, min_size = _describe(tv_name)
        factory = partial(build_torchvision_model, tv_name)
        MODELS.register(
            name,
            factory,
            family="torchvision",
            input_kind="image",
            description=description,
            min_input_size=min_size,
        )
    _registered = True


add_lazy_registrar(register_torchvision_models)
