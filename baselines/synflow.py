"""SynFlow — Tanaka, Kunin, Yamins & Ganguli, "Pruning neural networks without any data by iteratively conserving
synaptic flow", NeurIPS 2020.

Data-free pruning at initialisation. Replace every parameter (and BatchNorm buffer) by its absolute value and feed
an all-ones input; the network's summed output is the *synaptic flow* (Eq. 3 for a plain ReLU net)

    R = 1^T ( prod_{l=1..L} |W^[l]| ) 1,

and each weight's score is (Eq. 2 with R as the objective) ``S(w) = (dR/dw) * w`` — for a net with positive weights and
inputs this is the flow through that weight. Pruning once by this score collapses layers, so SynFlow prunes
iteratively (Algorithm 1): over ``n`` rounds the kept fraction follows the exponential schedule
``(1 - ratio)^(k/n)``, k = 1..n, re-scoring the masked network each round; the lowest scores go, globally. As in the
authors' code the network is scored in eval mode and double precision, every conv and linear weight (the classifier
included) takes part, biases and BatchNorm stay dense, and the sparse net is then trained as usual.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from baselines._common import global_keep_masks, weight_parameters
from splinebench.prune.interface import PruneContext, Pruner
from splinebench.prune.plan import Plan


def synflow_scores(model: nn.Module, input_shape: tuple[int, ...], masks: dict[str, torch.Tensor] | None = None,
                   include_classifier: bool = True) -> dict[str, torch.Tensor]:
    """``|dR/dw * w|`` for every scored weight of the linearised (|.|) network, with ``masks`` applied first."""
    scratch = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        for tensor in scratch.state_dict().values():
            if tensor.is_floating_point():
                tensor.abs_()
    weights = weight_parameters(scratch, include_classifier)
    if masks:
        with torch.no_grad():
            for name, mask in masks.items():
                weights[name].mul_(mask.to(weights[name].dtype))
    names, params = list(weights), list(weights.values())
    flow = scratch(torch.ones((1, *input_shape), dtype=torch.float64)).sum()
    grads = torch.autograd.grad(flow, params)
    return {n: (g * p.detach()).abs().float() for n, g, p in zip(names, grads, params, strict=True)}


class SynFlow(Pruner):
    name = "synflow"
    description = "SynFlow (Tanaka et al. 2020): keep the weights carrying the most synaptic flow, data-free, at init"
    structured = False
    data_driven = False
    acts_on = "init"

    def __init__(self, iterations: int = 100, include_classifier: bool = True) -> None:
        super().__init__(iterations=iterations, include_classifier=include_classifier)
        if iterations < 1:
            raise ValueError(f"SynFlow needs at least one iteration, got iterations={iterations!r}")
        self.iterations, self.include_classifier = int(iterations), include_classifier

    def plan(self, model: nn.Module, ratio: float, ctx: PruneContext) -> Plan:
        input_shape = tuple(ctx.example_input.shape[1:])
        masks: dict[str, torch.Tensor] | None = None
        for k in range(1, self.iterations + 1):
            kept = (1.0 - ratio) ** (k / self.iterations)
            scores = synflow_scores(model, input_shape, masks, self.include_classifier)
            if masks:  # a weight pruned in an earlier round stays pruned, whatever its (zero) score ties with
                scores = {n: torch.where(masks[n], s + 1.0, torch.zeros_like(s)) for n, s in scores.items()}
            masks = global_keep_masks(scores, 1.0 - kept)
        assert masks is not None
        return Plan.weight_masks(masks, rewind=False, criterion="|dR/dw * w|, R = synaptic flow",
                                 iterations=self.iterations)
