"""Random channel pruning — the sanity baseline of Su, Chen, Cai, Wu, Gao, Wang & Lee, "Sanity-Checking
Pruning Methods: Random Tickets can Win the Jackpot", NeurIPS 2020 (and Liu et al., "Rethinking the Value of
Network Pruning", ICLR 2019): remove ``round(ratio * K)`` channels per layer chosen uniformly at random, at
the same ratios as every other pruner.

Each layer draws one random permutation from a generator seeded by (run seed, layer name) and removes its
first ``m`` entries, so a run is reproducible and the channels removed at 30% are a subset of those removed at
50%.
"""

from __future__ import annotations

import torch
from torch import nn

from baselines._common import independent_layers, layer_seed, units_to_remove
from splinebench.prune.interface import PruneContext, Pruner
from splinebench.prune.plan import Plan


class RandomChannels(Pruner):
    name = "random"
    description = "Random channels (Su et al. 2020 sanity check): round(ratio*K) per layer, seeded by the run"
    structured = True
    data_driven = False
    acts_on = "trained"

    def __init__(self) -> None:
        """No options: the signature says so, so a misspelt option in a profile is refused before the run."""
        super().__init__()

    def plan(self, model: nn.Module, ratio: float, ctx: PruneContext) -> Plan:
        remove = {}
        for layer in independent_layers(model, ctx.example_input):
            generator = torch.Generator().manual_seed(layer_seed(ctx.seed, layer.name))
            order = torch.randperm(layer.units, generator=generator)
            remove[layer.name] = sorted(int(i) for i in order[: units_to_remove(ratio, layer.units)])
        return Plan.channels(remove, seed=ctx.seed)
