"""Which layers can lose units independently, and the effective affine map of each unit.

Torch-Pruning's dependency graph answers the first question for any architecture: pruning a layer's output channels
triggers a *group* of coupled changes (the following BatchNorm, the next layer's inputs, and — through residual adds or
concatenations — other layers' outputs). A layer whose group contains no other layer's outputs is *independent*: a
pruner may choose its units alone. Layers in coupled groups (a residual stream, a depthwise conv) are reported with
the reason they are kept, so an asked ratio is never silently missed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:  # torch-pruning imports timm (seconds): loaded when a graph is built, not when pruners are listed
    import torch_pruning as tp

PRUNABLE_TYPES = (nn.Conv2d, nn.Linear)
NORM_TYPES = (nn.BatchNorm1d, nn.BatchNorm2d)


@dataclass
class PrunableLayer:
    name: str
    module: nn.Module
    units: int
    bn: nn.Module | None  # the BatchNorm that normalises this layer's outputs, if any (folded into Eq. 2)
    independent: bool
    reason: str = ""  # why a dependent layer is kept


def output_layers(model: nn.Module, num_classes: int | None = None) -> list[str]:
    """The classifier: the last Linear/Conv2d, whose width is the number of classes and must not change."""
    names = [n for n, m in model.named_modules() if isinstance(m, PRUNABLE_TYPES)]
    return names[-1:] if names else []


def build_graph(model: nn.Module, example_input: torch.Tensor) -> tp.DependencyGraph:
    import torch_pruning as tp

    with torch.enable_grad():
        return tp.DependencyGraph().build_dependency(model, example_inputs=example_input, verbose=False)


def _out_pruning_fn(module: nn.Module):
    import torch_pruning as tp

    return tp.prune_linear_out_channels if isinstance(module, nn.Linear) else tp.prune_conv_out_channels


def prunable_layers(
    model: nn.Module, example_input: torch.Tensor, graph: tp.DependencyGraph | None = None
) -> list[PrunableLayer]:
    """Every Conv2d/Linear except the classifier, with its BN and whether it can be pruned alone."""
    graph = graph or build_graph(model, example_input)
    ignored = set(output_layers(model))
    names = {m: n for n, m in model.named_modules()}
    attention = {n for n, m in model.named_modules() if isinstance(getattr(m, "num_heads", None), int)}
    layers: list[PrunableLayer] = []
    for name, module in model.named_modules():
        if not isinstance(module, PRUNABLE_TYPES) or name in ignored or module not in graph.module2node:
            continue
        units = module.out_channels if isinstance(module, nn.Conv2d) else module.out_features
        if isinstance(module, nn.Conv2d) and module.groups > 1:
            layers.append(PrunableLayer(name, module, units, None, False, "grouped/depthwise conv"))
            continue
        if isinstance(module, nn.Linear) and name.rpartition(".")[0] in attention:
            # q/k/v are reshaped into heads; removing single units breaks that layout
            layers.append(PrunableLayer(name, module, units, None, False, "attention projection (heads kept)"))
            continue
        group = graph.get_pruning_group(module, _out_pruning_fn(module), [0])
        outputs, norms = [], []
        for item in group:
            target = item.dep.target.module
            if graph.is_out_channel_pruning_fn(item.dep.handler) and isinstance(target, PRUNABLE_TYPES):
                outputs.append(target)
            if isinstance(target, NORM_TYPES):
                norms.append(target)
        # the BN of *this* layer's outputs; a BN over a concatenation (DenseNet's next norm1) has more features
        own = [n for n in norms if n.num_features == units]
        coupled = [names.get(m, "?") for m in outputs if m is not module]
        if any(names.get(m) in ignored for m in outputs):
            layers.append(PrunableLayer(name, module, units, None, False, "coupled with the classifier"))
        elif coupled:
            reason = f"coupled group (residual width kept): {', '.join(sorted(coupled)[:3])}"
            layers.append(PrunableLayer(name, module, units, own[0] if own else None, False, reason))
        else:
            layers.append(PrunableLayer(name, module, units, own[0] if len(own) == 1 else None, True))
    return layers


def unit_vectors(layer: PrunableLayer) -> tuple[torch.Tensor, torch.Tensor]:
    """The raw slope (one flattened row per unit) and bias of a layer, detached, on the CPU."""
    weight = layer.module.weight.detach().float().cpu()
    bias = layer.module.bias
    bias_t = bias.detach().float().cpu() if bias is not None else torch.zeros(weight.shape[0])
    return weight.reshape(weight.shape[0], -1), bias_t
