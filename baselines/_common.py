"""What several baselines share: how many units a layer loses at a ratio, and which weights unstructured
pruners see.

Kept apart so that "remove round(ratio * K) units, never all of them" means exactly the same thing for
L1-norm, random, ThiNet and layerwise network slimming, and "global top-k of a score over conv/linear weights"
the same for the lottery ticket and SNIP.
"""

from __future__ import annotations

import math
import zlib

import torch
from torch import nn

from splinebench.prune.units import PRUNABLE_TYPES, PrunableLayer, output_layers, prunable_layers


def units_to_remove(ratio: float, units: int) -> int:
    """round(ratio * units), halves rounded up (not Python's banker's rounding), leaving at least one unit."""
    if not 0 <= ratio < 1:
        raise ValueError(f"a pruning ratio is a fraction in [0, 1), got {ratio!r}")
    return max(0, min(units - 1, math.floor(ratio * units + 0.5)))


def independent_layers(model: nn.Module, example_input: torch.Tensor) -> list[PrunableLayer]:
    """The layers the shared applier prunes on their own (coupled ones keep their width, reported there)."""
    return [layer for layer in prunable_layers(model, example_input) if layer.independent]


def smallest(scores: torch.Tensor, count: int) -> list[int]:
    """Indices of the ``count`` smallest scores; ties go to the lower index (stable sort)."""
    if count <= 0:
        return []
    order = torch.sort(scores.detach().float().cpu(), stable=True).indices
    return sorted(int(i) for i in order[:count])


def layer_seed(seed: int, name: str) -> int:
    """A per-layer seed from the run seed (crc32: Python's ``hash`` is salted per process)."""
    return (seed * 1_000_003 + zlib.crc32(name.encode())) % (2**63 - 1)


def weight_parameters(model: nn.Module, include_classifier: bool) -> dict[str, nn.Parameter]:
    """Every Conv2d/Linear ``weight`` (biases and BN stay dense, as in the LT and SNIP code)."""
    skip = set() if include_classifier else set(output_layers(model))
    return {
        f"{name}.weight": module.weight
        for name, module in model.named_modules()
        if isinstance(module, PRUNABLE_TYPES) and name not in skip
    }


def global_keep_masks(scores: dict[str, torch.Tensor], ratio: float) -> dict[str, torch.Tensor]:
    """Keep-masks that drop exactly round(ratio * N) of the N scored weights: the smallest scores, globally.

    Ties are broken by position in the concatenation (stable sort), so the count removed is exact even when
    many scores are equal (a freshly initialised layer, or weights already at zero).
    """
    names = list(scores)
    flat = torch.cat([scores[n].detach().float().cpu().reshape(-1) for n in names])
    count = math.floor(ratio * flat.numel() + 0.5)
    keep = torch.ones(flat.numel(), dtype=torch.bool)
    keep[torch.sort(flat, stable=True).indices[:count]] = False
    masks, start = {}, 0
    for n in names:
        size = scores[n].numel()
        masks[n] = keep[start : start + size].reshape(scores[n].shape)
        start += size
    return masks
