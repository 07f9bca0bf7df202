"""Torch-Pruning's importance criteria as splinebench pruners: ``tp:l1``, ``tp:l2``, ``tp:taylor``, ``tp:fpgm``, ...

Torch-Pruning (Fang et al., "DepGraph: Towards Any Structural Pruning", CVPR 2023) ships the criteria; this module
only asks them, never re-implements them. For every layer the shared applier can prune alone, it builds that layer's
dependency group (the layer's output channels plus the BatchNorm and next-layer inputs that go with them) on a copy
of the model, lets the criterion score the group's channels (``Importance.__call__(group)`` returns one score per
channel, summed over the group's members as Torch-Pruning does), and removes the ``round(ratio * K)`` lowest-scored
channels of that layer — the same per-layer budget as the L1-norm and random baselines, so the criteria are compared
on equal terms. The result is a plan; the one applier removes the channels, and the run's schedule, FLOP and energy
meters see these pruners like any other.

| name | Torch-Pruning class | reference |
|---|---|---|
| ``tp:l1``, ``tp:l2`` | ``MagnitudeImportance(p=1|2)`` | Li et al. 2017 (group norm of the channel's weights) |
| ``tp:bn-scale`` | ``BNScaleImportance`` | Liu et al. 2017, network slimming's ``|gamma|`` |
| ``tp:lamp`` | ``LAMPImportance`` | Lee et al. 2021, layer-adaptive magnitude |
| ``tp:fpgm`` | ``FPGMImportance`` | He et al. 2019, distance to the geometric median |
| ``tp:taylor`` | ``TaylorImportance`` | Molchanov et al. 2019, ``|w * dL/dw|`` |
| ``tp:hessian`` | ``HessianImportance`` | LeCun et al. 1990 (OBD), ``w^2 * diag(H)`` with the empirical Fisher |
| ``tp:activation`` | ``ActivationImportance`` | mean absolute input activation of the next layer |
| ``tp:random`` | ``RandomImportance`` | random channels (seeded per layer here) |

Not wrapped: ``OBDCImportance`` (it needs an optimiser-step hook over many batches and a class count, i.e. a training
loop of its own). Torch-Pruning 1.6's ``HessianImportance.accumulate_grad`` keys its running sums by parameter but
looks them up by name, so it keeps only the last sample; ``tp:hessian`` therefore averages the squared per-sample
gradients itself and hands the criterion the average as ``.grad``, which is what the criterion reads.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
import torch_pruning as tp
from torch import nn

from baselines._common import independent_layers, layer_seed, smallest, units_to_remove
from splinebench.prune.interface import PruneContext, Pruner
from splinebench.prune.plan import Plan
from splinebench.prune.units import _out_pruning_fn, build_graph


class TorchPruningImportance(Pruner):
    """Base of the family: one Torch-Pruning criterion, channels ranked within each independent layer."""

    structured = True
    acts_on = "trained"
    criterion: ClassVar[str] = ""

    def importance(self) -> Any:
        """The Torch-Pruning ``Importance`` object that scores a group's channels."""
        raise NotImplementedError

    def prepare(self, scratch: nn.Module, importance: Any, ctx: PruneContext) -> None:
        """Give the criterion what it reads besides weights (gradients, activations). Default: nothing."""

    def plan(self, model: nn.Module, ratio: float, ctx: PruneContext) -> Plan:
        scratch = copy.deepcopy(model)  # gradients and hooks go on a copy: plan() must not touch the model
        importance = self.importance()
        self.prepare(scratch, importance, ctx)
        graph = build_graph(scratch, ctx.example_input)
        remove: dict[str, list[int]] = {}
        for layer in independent_layers(scratch, ctx.example_input):
            count = units_to_remove(ratio, layer.units)
            if count == 0:
                continue
            group = graph.get_pruning_group(layer.module, _out_pruning_fn(layer.module), list(range(layer.units)))
            if isinstance(importance, tp.importance.RandomImportance):
                generator = torch.Generator().manual_seed(layer_seed(ctx.seed, layer.name))
                scores = torch.rand(layer.units, generator=generator)
            else:
                scores = importance(group)
            if scores is None or len(scores) != layer.units:  # a criterion that found nothing it can score here
                raise ValueError(f"{self.name}: Torch-Pruning's {type(importance).__name__} gave no score for "
                                 f"{layer.name} (a layer type it does not cover)")
            remove[layer.name] = smallest(scores, count)
        return Plan.channels(remove, criterion=self.criterion, library=f"torch-pruning {tp.__version__}")


def _gradients(scratch: nn.Module, ctx: PruneContext, batches: int) -> None:
    """Mean cross-entropy gradient over ``batches`` training batches, left in each parameter's ``.grad``."""
    scratch.train()
    scratch.zero_grad()
    count = 0
    for x, y in ctx.batches(batches):
        (F.cross_entropy(scratch(x), y) / batches).backward()
        count += 1
    if count == 0:
        raise ValueError("this criterion needs at least one batch of training data")


class TpL1(TorchPruningImportance):
    name = "tp:l1"
    description = "Torch-Pruning MagnitudeImportance(p=1): group L1 norm of each channel, per layer"
    data_driven = False
    criterion = "group sum |w| (torch-pruning MagnitudeImportance p=1)"

    def __init__(self, group_reduction: str = "mean") -> None:
        super().__init__(group_reduction=group_reduction)
        self.group_reduction = group_reduction

    def importance(self) -> Any:
        return tp.importance.MagnitudeImportance(p=1, group_reduction=self.group_reduction, normalizer=None)


class TpL2(TpL1):
    name = "tp:l2"
    description = "Torch-Pruning MagnitudeImportance(p=2): group L2 norm of each channel, per layer"
    criterion = "group sum w^2 (torch-pruning MagnitudeImportance p=2)"

    def importance(self) -> Any:
        return tp.importance.MagnitudeImportance(p=2, group_reduction=self.group_reduction, normalizer=None)


class TpBnScale(TpL1):
    name = "tp:bn-scale"
    description = "Torch-Pruning BNScaleImportance: |gamma| of the channel's BatchNorm (network slimming's score)"
    criterion = "|gamma| (torch-pruning BNScaleImportance)"

    def importance(self) -> Any:
        return tp.importance.BNScaleImportance(group_reduction=self.group_reduction, normalizer=None)


class TpLamp(TpL1):
    name = "tp:lamp"
    description = "Torch-Pruning LAMPImportance: layer-adaptive magnitude score (Lee et al. 2021)"
    criterion = "LAMP (torch-pruning LAMPImportance)"

    def importance(self) -> Any:
        return tp.importance.LAMPImportance(p=2, group_reduction=self.group_reduction)


class TpFpgm(TpL1):
    name = "tp:fpgm"
    description = "Torch-Pruning FPGMImportance: channels nearest the layer's geometric median go (He et al. 2019)"
    criterion = "distance to the geometric median (torch-pruning FPGMImportance)"

    def importance(self) -> Any:
        return tp.importance.FPGMImportance(p=2, group_reduction=self.group_reduction, normalizer=None)


class TpRandom(TorchPruningImportance):
    name = "tp:random"
    description = "Torch-Pruning RandomImportance: random channels per layer (seeded by the run seed)"
    data_driven = False
    criterion = "random (torch-pruning RandomImportance, seeded per layer)"

    def __init__(self) -> None:
        super().__init__()

    def importance(self) -> Any:
        return tp.importance.RandomImportance()


class TpTaylor(TorchPruningImportance):
    name = "tp:taylor"
    description = "Torch-Pruning TaylorImportance: first-order Taylor |w * dL/dw| per channel (Molchanov 2019)"
    data_driven = True
    criterion = "|w * dL/dw| (torch-pruning TaylorImportance)"

    def __init__(self, batches: int = 4, group_reduction: str = "mean", multivariable: bool = False) -> None:
        super().__init__(batches=batches, group_reduction=group_reduction, multivariable=multivariable)
        if batches < 1:
            raise ValueError(f"{self.name} needs at least one batch, got batches={batches!r}")
        self.batches, self.group_reduction, self.multivariable = int(batches), group_reduction, multivariable

    def importance(self) -> Any:
        return tp.importance.TaylorImportance(group_reduction=self.group_reduction, normalizer=None,
                                              multivariable=self.multivariable)

    def prepare(self, scratch: nn.Module, importance: Any, ctx: PruneContext) -> None:
        _gradients(scratch, ctx, self.batches)


class TpHessian(TorchPruningImportance):
    name = "tp:hessian"
    description = "Torch-Pruning HessianImportance: OBD's w^2 * diag(H), H from per-sample squared gradients"
    data_driven = True
    criterion = "w^2 * mean_n (dL_n/dw)^2 (torch-pruning HessianImportance)"

    def __init__(self, samples: int = 32, group_reduction: str = "mean") -> None:
        super().__init__(samples=samples, group_reduction=group_reduction)
        if samples < 1:
            raise ValueError(f"{self.name} needs at least one sample, got samples={samples!r}")
        self.samples, self.group_reduction = int(samples), group_reduction

    def importance(self) -> Any:
        return tp.importance.HessianImportance(group_reduction=self.group_reduction, normalizer=None)

    def prepare(self, scratch: nn.Module, importance: Any, ctx: PruneContext) -> None:
        scratch.train()
        params = [p for p in scratch.parameters() if p.requires_grad]
        squares = [torch.zeros_like(p) for p in params]
        seen = 0
        for x, y in ctx.batches(max(1, self.samples)):
            for i in range(x.shape[0]):
                if seen == self.samples:
                    break
                loss = F.cross_entropy(scratch(x[i : i + 1]), y[i : i + 1])
                for total, g in zip(squares, torch.autograd.grad(loss, params, allow_unused=True), strict=True):
                    if g is not None:
                        total.add_(g.pow(2))
                seen += 1
            if seen == self.samples:
                break
        if seen == 0:
            raise ValueError(f"{self.name} needs at least one training sample")
        for p, total in zip(params, squares, strict=True):
            p.grad = total / seen


class TpActivation(TorchPruningImportance):
    name = "tp:activation"
    description = "Torch-Pruning ActivationImportance: mean |activation| of each channel on training batches"
    data_driven = True
    criterion = "mean |activation| (torch-pruning ActivationImportance)"

    def __init__(self, batches: int = 4, group_reduction: str = "mean") -> None:
        super().__init__(batches=batches, group_reduction=group_reduction)
        if batches < 1:
            raise ValueError(f"{self.name} needs at least one batch, got batches={batches!r}")
        self.batches, self.group_reduction = int(batches), group_reduction

    def importance(self) -> Any:
        return tp.importance.ActivationImportance(p=1, group_reduction=self.group_reduction, normalizer=None)

    def prepare(self, scratch: nn.Module, importance: Any, ctx: PruneContext) -> None:
        scratch.eval()
        with torch.no_grad(), importance.compute_importance(scratch):
            for x, _ in ctx.batches(self.batches):
                scratch(x)  # the hooks keep the last batch's mean |input| per channel of each layer
