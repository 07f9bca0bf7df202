"""SNIP — Lee, Ajanthan & Torr, "SNIP: Single-shot Network Pruning based on Connection Sensitivity", ICLR
2019.

At initialisation, before any training, each weight's connection sensitivity on one mini-batch is (Eq. 6)
``s_j = |g_j| / sum_k |g_k|`` with ``g_j = dL/dc_j = w_j * dL/dw_j`` (the derivative of the loss with respect
to a multiplicative gate ``c_j`` on the weight, at ``c = 1``); the ``kappa`` weights with the largest ``s_j``
are kept (one global ranking) and the sparse net is then trained as usual. ``kappa = (1 - ratio) * N``.

As in the authors' code, every conv and linear weight takes part, the classifier included; biases and
BatchNorm stay dense. The network's forward pass runs in training mode, as during the first step of training,
on a copy of the model so its BatchNorm statistics are not touched. ``batches`` averages the gradient over
more mini-batches (the paper uses one).
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


def connection_sensitivity(model: nn.Module, batches: Iterable[Batch], include_classifier: bool = True
                           ) -> dict[str, torch.Tensor]:
    """Eq. 6: ``|w * dL/dw|`` per weight, normalised to sum to 1 over all scored weights, by parameter name.

    ``L`` is the mean cross-entropy over each batch; with several batches the gradient is their mean.
    """
    scratch = copy.deepcopy(model)
    scratch.train()
    weights = weight_parameters(scratch, include_classifier)
    names, params = list(weights), list(weights.values())
    grads = [torch.zeros_like(p) for p in params]
    count = 0
    for x, y in batches:
        loss = F.cross_entropy(scratch(x), y)
        for total, g in zip(grads, torch.autograd.grad(loss, params), strict=True):
            total.add_(g)
        count += 1
    if count == 0:
        raise ValueError("SNIP needs at least one batch of training data")
    scores = {n: (g / count * p.detach()).abs() for n, g, p in zip(names, grads, params, strict=True)}
    norm = sum(float(s.sum()) for s in scores.values()) or 1.0
    return {n: s / norm for n, s in scores.items()}


class Snip(Pruner):
    name = "snip"
    description = "SNIP (Lee et al. 2019): keep the weights with the largest |w * dL/dw| on one batch at init"
    structured = False
    data_driven = True
    acts_on = "init"

    def __init__(self, batches: int = 1, include_classifier: bool = True) -> None:
        super().__init__(batches=batches, include_classifier=include_classifier)
        if batches < 1:
            raise ValueError(f"SNIP needs at least one batch, got batches={batches!r}")
        self.batches, self.include_classifier = int(batches), include_classifier

    def plan(self, model: nn.Module, ratio: float, ctx: PruneContext) -> Plan:
        scores = connection_sensitivity(model, ctx.batches(self.batches), self.include_classifier)
        masks = global_keep_masks(scores, ratio)
        return Plan.weight_masks(masks, rewind=False, criterion="|w * dL/dw| at init", batches=self.batches)
