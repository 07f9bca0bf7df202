"""Gathering each layer's units for Eq. 2: a conv/linear layer's weights with the BatchNorm that follows it.

The BN that follows a layer is found by *data flow*, not by module order: one forward pass with hooks notes
which tensor each Conv/Linear produced and which BN consumed it. That pairs ``conv1 -> bn1`` in torchvision's
ResNets and the ``downsample.0 -> downsample.1`` shortcut alike, without assuming how a model orders its
attributes. Which of these layers may actually be pruned (classifier outputs, convs feeding a residual sum) is
the prune layer's decision; this module only reports what is there.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

import torch
from torch import nn

from splinebench.spline._model import EvalMode, model_device
from splinebench.spline.redundancy import effective_affine

_BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def _is_unit_layer(module: nn.Module) -> bool:
    # Grouped/depthwise convs are left out: their units see different inputs, so Eq. 2's cosine compares
    # nothing.
    if isinstance(module, nn.Linear):
        return True
    return isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)) and module.groups == 1


def conv_bn_pairs(model: nn.Module, example_input: torch.Tensor) -> dict[str, str | None]:
    """``{conv/linear module path: path of the BN applied directly to its output, or None}``, in call
    order."""
    layers = {name: m for name, m in model.named_modules() if _is_unit_layer(m)}
    norms = {name: m for name, m in model.named_modules() if isinstance(m, _BATCH_NORMS)}
    produced: list[tuple[torch.Tensor, str]] = []  # keep the tensors alive so identity checks are sound
    pairs: dict[str, str | None] = {}
    handles = []

    def on_layer(name: str):
        def hook(_module: nn.Module, _args: tuple, output: torch.Tensor) -> None:
            pairs.setdefault(name, None)
            produced.append((output, name))

        return hook

    def on_norm(name: str):
        def hook(_module: nn.Module, args: tuple) -> None:
            for tensor, layer in produced:
                if tensor is args[0] and pairs.get(layer) is None:
                    pairs[layer] = name

        return hook

    try:
        for name, module in layers.items():
            handles.append(module.register_forward_hook(on_layer(name)))
        for name, module in norms.items():
            handles.append(module.register_forward_pre_hook(on_norm(name)))
        with EvalMode(model), torch.no_grad():
            model(example_input[:1].to(model_device(model)))
    finally:
        for handle in handles:
            handle.remove()
    return pairs


def affine_units(
    model: nn.Module, example_input: torch.Tensor, layers: Sequence[str] = ("*",)
) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """``{layer path: (W_eff [K, D], b_eff [K])}`` for every conv/linear layer matching the fnmatch
    ``layers``, with the following BN folded in (``effective_affine``), ready for ``layerwise_plan`` /
    ``global_plan``."""
    if isinstance(layers, str):
        layers = (layers,)
    modules = dict(model.named_modules())
    units: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    for name, norm_name in conv_bn_pairs(model, example_input).items():
        if not any(fnmatch.fnmatchcase(name, pattern) for pattern in layers):
            continue
        layer = modules[name]
        norm = modules[norm_name] if norm_name is not None else None
        units[name] = effective_affine(layer.weight, layer.bias, norm)
    return units
