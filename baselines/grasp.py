"""GraSP — Wang, Zhang & Grosse, "Picking Winning Tickets Before Training by Preserving Gradient Flow", ICLR 2020.

At initialisation, GraSP removes the weights whose removal reduces the gradient flow ``g^T g`` least. With
``g = dL/dw`` and ``H`` the Hessian of the loss, the score of a weight (Eq. 8) is

    S(-w) = -w ⊙ H g,

and the weights with the *largest* scores go (one global ranking): removing them preserves, or even increases, the
gradient norm. ``H g`` is a Hessian-gradient product computed by double back-propagation, never forming ``H``:
``H g = d(g_c^T g)/dw`` with ``g`` held constant. As in the authors' code the logits are divided by a temperature
``T`` (default 200) before the cross-entropy, every conv and linear weight (the classifier included) is scored,
biases and BatchNorm stay dense, and the forward runs in training mode on a copy of the model. ``batches`` averages
``g`` and ``H g`` over more mini-batches (the authors use about ten samples per class).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from baselines._common import global_keep_masks, weight_parameters
from splinebench.prune.interface import Batch, PruneContext, Pruner
from splinebench.prune.plan import Plan


def grasp_scores(model: nn.Module, batches: Iterable[Batch], temperature: float = 200.0,
                 include_classifier: bool = True) -> dict[str, torch.Tensor]:
    """Eq. 8: ``-w ⊙ H g`` per scored weight, ``L`` the mean cross-entropy of ``logits / T``."""
    scratch = copy.deepcopy(model)
    scratch.train()
    weights = weight_parameters(scratch, include_classifier)
    names, params = list(weights), list(weights.values())
    batches = list(batches)
    if not batches:
        raise ValueError("GraSP needs at least one batch of training data")
    g = [torch.zeros_like(p) for p in params]
    for x, y in batches:  # first pass: g, a constant for the second
        loss = F.cross_entropy(scratch(x) / temperature, y)
        for total, grad in zip(g, torch.autograd.grad(loss, params), strict=True):
            total.add_(grad / len(batches))
    hg = [torch.zeros_like(p) for p in params]
    for x, y in batches:  # second pass: H g = d(grad(L)^T g)/dw
        loss = F.cross_entropy(scratch(x) / temperature, y)
        grads = torch.autograd.grad(loss, params, create_graph=True)
        dot = sum((gc * gk).sum() for gc, gk in zip(grads, g, strict=True))
        for total, grad in zip(hg, torch.autograd.grad(dot, params), strict=True):
            total.add_(grad / len(batches))
    return {n: (-p.detach() * h).detach() for n, p, h in zip(names, params, hg, strict=True)}


class GraSP(Pruner):
    name = "grasp"
    description = "GraSP (Wang et al. 2020): drop the weights whose removal least reduces gradient flow, at init"
    structured = False
    data_driven = True
    acts_on = "init"

    def __init__(self, batches: int = 1, temperature: float = 200.0, include_classifier: bool = True) -> None:
        super().__init__(batches=batches, temperature=temperature, include_classifier=include_classifier)
        if batches < 1:
            raise ValueError(f"GraSP needs at least one batch, got batches={batches!r}")
        if temperature <= 0:
            raise ValueError(f"GraSP's temperature must be positive, got {temperature!r}")
        self.batches, self.temperature, self.include_classifier = int(batches), float(temperature), include_classifier

    def plan(self, model: nn.Module, ratio: float, ctx: PruneContext) -> Plan:
        scores = grasp_scores(model, ctx.batches(self.batches), self.temperature, self.include_classifier)
        # the largest scores go: keep-masks of the negated scores drop the smallest of -S
        masks = global_keep_masks({n: -s for n, s in scores.items()}, ratio)
        return Plan.weight_masks(masks, rewind=False, criterion="-w * Hg (largest removed)", batches=self.batches,
                                 temperature=self.temperature)
