"""L1-norm filter pruning — Li, Kadav, Durdanovic, Samet & Graf, "Pruning Filters for Efficient ConvNets",
ICLR 2017.

Sec. 3.1: a filter's importance is the sum of its absolute kernel weights, ``s_j = sum |F_j|``; in each layer
the ``m`` filters with the smallest sums are removed (with their feature maps and the next layer's matching
kernels — the shared applier does that part). Here ``m = round(ratio * K)`` in every layer the applier can
prune alone, never all K. Li et al. prune "independently" (each layer scored on the trained, unpruned
weights), which is what a single plan on the trained model does. Data-free: no batches are read.
"""

from __future__ import annotations

from torch import nn

from baselines._common import independent_layers, smallest, units_to_remove
from splinebench.prune.interface import PruneContext, Pruner
from splinebench.prune.plan import Plan


class L1NormFilters(Pruner):
    name = "l1-norm"
    description = "L1-norm filters (Li et al. 2017): remove the filters with the smallest sum |w|, per layer"
    structured = True
    data_driven = False
    acts_on = "trained"

    def __init__(self) -> None:
        """No options: the signature says so, so a misspelt option in a profile is refused before the run."""
        super().__init__()

    def plan(self, model: nn.Module, ratio: float, ctx: PruneContext) -> Plan:
        remove = {}
        for layer in independent_layers(model, ctx.example_input):
            weight = layer.module.weight.detach()
            norms = weight.abs().reshape(weight.shape[0], -1).sum(dim=1)
            remove[layer.name] = smallest(norms, units_to_remove(ratio, layer.units))
        return Plan.channels(remove, criterion="sum |w| per filter")
