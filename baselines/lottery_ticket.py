"""Lottery ticket, one-shot — Frankle & Carbin, "The Lottery Ticket Hypothesis: Finding Sparse, Trainable
Neural Networks", ICLR 2019 (Sec. 1, "Identifying winning tickets", steps 1-4; global pruning as in Sec. 4 for
the deeper VGG/ResNet nets).

1. initialise ``f(x; theta_0)`` (the engine keeps ``ctx.init_state``); 2. train to ``theta_j`` (the ticket
this pruner is given); 3. prune ``p``% of the weights with the smallest magnitude |theta_j| — one-shot, one
global ranking over every conv/linear weight tensor — giving a mask ``m``; 4. reset the surviving weights to
``theta_0`` (``Plan.rewind``; the applier also resets biases and BN to their initial values) and train ``f(x;
m * theta_0)``.

Which weights: the conv and linear weights except the classifier, following the authors' ``open_lth`` defaults
for CIFAR VGG/ResNet (``pruning_layers_to_ignore = "fc.weight"``); ``include_classifier = true`` prunes it
too. Biases and BatchNorm stay dense. Masks stay on through retraining (``torch.nn.utils.prune``): the net is
sparse, not smaller, so its FLOPs are reported dense and density-weighted.
"""

from __future__ import annotations

from torch import nn

from baselines._common import global_keep_masks, weight_parameters
from splinebench.prune.interface import PruneContext, Pruner
from splinebench.prune.plan import Plan


class LotteryTicket(Pruner):
    name = "lt"
    description = "Lottery ticket one-shot (Frankle & Carbin 2019): global magnitude masks, rewind to init"
    structured = False
    data_driven = False
    acts_on = "trained"

    def __init__(self, include_classifier: bool = False) -> None:
        super().__init__(include_classifier=include_classifier)
        self.include_classifier = include_classifier

    def plan(self, model: nn.Module, ratio: float, ctx: PruneContext) -> Plan:
        weights = weight_parameters(model, self.include_classifier)
        masks = global_keep_masks({name: w.detach().abs() for name, w in weights.items()}, ratio)
        return Plan.weight_masks(masks, rewind=True, criterion="global |w|",
                                 include_classifier=self.include_classifier)
