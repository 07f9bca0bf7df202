"""Network slimming — Liu, Li, Shen, Huang, Yan & Zhang, "Learning Efficient Convolutional Networks through
Network Slimming", ICCV 2017.

* Training (Sec. 3.2, Eq. 1): the loss gains ``s * sum |gamma|`` over every BatchNorm scale; its subgradient
  ``s * sign(gamma)`` is added to each BN weight's gradient after ``backward`` (``BnL1Hook``). ``s = 1e-4`` is
  the paper's VGG value (1e-5 for ResNets, 1e-4 for DenseNets). As the early-bird code runs it, the penalty
  stays on during retraining too (``during_retrain``).
* Pruning (Sec. 3.2, "channel pruning"): one *global* threshold on |gamma| over all the BN layers, removing
  the channels below it. We remove exactly ``round(ratio * total)`` channels (the public code's ``int(total *
  p)`` index removes one more) and never empty a layer: a layer's last channel is skipped and the
  next-smallest |gamma| elsewhere goes instead. ``scope="layerwise"`` removes ``round(ratio * K)`` per layer
  instead.

Only layers the shared applier can prune alone and that have their own BatchNorm take part: their |gamma| is
the importance, so a layer without BN has no score and keeps its width (the plan's notes list it).
"""

from __future__ import annotations

import torch
from torch import nn

from baselines._common import independent_layers, smallest, units_to_remove
from splinebench.prune.interface import PruneContext, Pruner, TrainingHook
from splinebench.prune.plan import Plan
from splinebench.prune.units import NORM_TYPES

#: Liu et al.'s sparsity coefficient for VGG (their Sec. 4.3); use 1e-5 for ResNets.
DEFAULT_SPARSITY = 1e-4


def l1_hook_key(sparsity: float) -> str:
    """The dense-group key: NS and EB-mask with the same ``s`` share one sparsity-regularised dense run."""
    return f"bn-l1:{sparsity:g}"


def add_bn_l1_subgradient(model: nn.Module, sparsity: float) -> None:
    """Eq. 1's penalty ``s * |gamma|``: add ``s * sign(gamma)`` to every BatchNorm weight's gradient."""
    with torch.no_grad():
        for module in model.modules():
            weight = getattr(module, "weight", None) if isinstance(module, NORM_TYPES) else None
            if weight is not None and weight.grad is not None:
                weight.grad.add_(torch.sign(weight), alpha=sparsity)


class BnL1Hook(TrainingHook):
    """Sparsity on BN scales during dense training (and retraining, as the early-bird code does)."""

    def __init__(self, sparsity: float = DEFAULT_SPARSITY, during_retrain: bool = True) -> None:
        self.sparsity = float(sparsity)
        self.key = l1_hook_key(self.sparsity)
        self.during_retrain = during_retrain
        self.ratios: list[float] = []

    def after_backward(self, model: nn.Module) -> None:
        add_bn_l1_subgradient(model, self.sparsity)


def slimming_removals(gammas: dict[str, torch.Tensor], ratio: float,
                      scope: str = "global") -> dict[str, list[int]]:
    """Which channels go at ``ratio``: the smallest |gamma| — over all layers at once, or per layer.

    ``gammas`` maps a layer name to its BN scales. Globally, exactly ``round(ratio * total)`` channels go
    (fewer only if that would empty a layer), ties broken by layer order then index. Layerwise,
    ``round(ratio * K)`` per layer.
    """
    magnitudes = {name: g.detach().float().abs().cpu().reshape(-1) for name, g in gammas.items()}
    if scope == "layerwise":
        return {name: smallest(m, units_to_remove(ratio, m.numel())) for name, m in magnitudes.items()}
    if scope != "global":
        raise ValueError(f"network slimming scope must be 'global' or 'layerwise', not {scope!r}")
    names = list(magnitudes)
    if not names:
        return {}
    flat = torch.cat([magnitudes[n] for n in names])
    owner = torch.cat([torch.full((magnitudes[n].numel(),), i) for i, n in enumerate(names)])
    offset = torch.cat([torch.arange(magnitudes[n].numel()) for n in names])
    wanted = units_to_remove(ratio, flat.numel()) if flat.numel() > 1 else 0
    left = [magnitudes[n].numel() for n in names]
    remove: dict[str, list[int]] = {n: [] for n in names}
    taken = 0
    for position in torch.sort(flat, stable=True).indices.tolist():  # ascending |gamma|: the global threshold
        if taken == wanted:
            break
        layer = int(owner[position])
        if left[layer] == 1:  # never empty a layer: its last channel stays, the next-smallest elsewhere goes
            continue
        left[layer] -= 1
        remove[names[layer]].append(int(offset[position]))
        taken += 1
    return {n: sorted(idx) for n, idx in remove.items()}


def bn_scales_by_layer(model: nn.Module,
                       example_input: torch.Tensor) -> tuple[dict[str, torch.Tensor], list[str]]:
    """|gamma| per independent layer with its own BN, and the names of independent layers without one."""
    scales, unscored = {}, []
    for layer in independent_layers(model, example_input):
        if layer.bn is not None and getattr(layer.bn, "weight", None) is not None:
            scales[layer.name] = layer.bn.weight.detach()
        else:
            unscored.append(layer.name)
    return scales, unscored


class NetworkSlimming(Pruner):
    name = "ns"
    description = "Network slimming (Liu et al. 2017): L1 on BN scales, then drop the smallest |gamma|"
    structured = True
    data_driven = False
    acts_on = "trained"

    def __init__(self, sparsity: float = DEFAULT_SPARSITY, scope: str = "global", during_retrain: bool = True) -> None:
        super().__init__(sparsity=sparsity, scope=scope, during_retrain=during_retrain)
        if scope not in ("global", "layerwise"):
            raise ValueError(f"network slimming scope must be 'global' or 'layerwise', not {scope!r}")
        if sparsity < 0:
            raise ValueError(f"network slimming sparsity must be >= 0, got {sparsity!r}")
        self.sparsity, self.scope, self.during_retrain = float(sparsity), scope, during_retrain

    def training_hook(self) -> TrainingHook:
        return BnL1Hook(self.sparsity, self.during_retrain)

    def plan(self, model: nn.Module, ratio: float, ctx: PruneContext) -> Plan:
        scales, unscored = bn_scales_by_layer(model, ctx.example_input)
        remove = slimming_removals(scales, ratio, self.scope)
        return Plan.channels(remove, scope=self.scope, sparsity=self.sparsity, kept_without_bn=unscored)
