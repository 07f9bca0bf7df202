"""FLOPs: fvcore's per-sample forward count of a model, and the training-FLOP accountant of a run.

Units. fvcore counts one multiply-add as one "flop" (its maintainers agree these are MACs); the paper reports that
count, so it is our primary figure and every display labels it "MACs (fvcore)". ``torch.utils.flop_counter`` counts a
multiply-add as 2 FLOPs; ``tests/measure/test_flops.py`` checks our backward factor against it.

Training cost. One training step on one sample costs about 3x its forward pass: the forward, plus a backward that
computes gradients for the activations and for the weights (each about one forward) — ``BACKWARD_FACTOR = 2``.
The partition tracker adds forward-only passes over the probe set once per epoch; evaluation passes are not
training and are not charged, as in the paper's Tables 2-3.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field

import torch
from torch import nn

#: training MACs per sample = forward MACs x (1 + BACKWARD_FACTOR)
BACKWARD_FACTOR = 2.0
UNIT = "MACs (fvcore)"


@dataclass
class ModelCost:
    params: int
    flops: float  # per-sample forward MACs (fvcore)
    by_module: dict[str, float] = field(default_factory=dict)
    unsupported_ops: dict[str, int] = field(default_factory=dict)


def count_params(model: nn.Module) -> int:
    """Parameters, counting masked weights as dense (masks do not shrink storage)."""
    return sum(p.numel() for p in model.parameters())


def forward_cost(model: nn.Module, example_input: torch.Tensor) -> ModelCost:
    """fvcore's forward MACs for one sample (``example_input`` is a batch; its first sample is used)."""
    from fvcore.nn import FlopCountAnalysis  # imported lazily: fvcore pulls in iopath and friends

    was_training = model.training
    model.eval()
    sample = example_input[:1]
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            logging.getLogger("fvcore").setLevel(logging.ERROR)
            analysis = FlopCountAnalysis(model, sample)
            analysis.unsupported_ops_warnings(False)
            analysis.uncalled_modules_warnings(False)
            analysis.tracer_warnings("none")
            total = float(analysis.total())
            by_module = {k: float(v) for k, v in analysis.by_module().items()}
            unsupported = dict(analysis.unsupported_ops())
    finally:
        model.train(was_training)
    return ModelCost(count_params(model), total, by_module, {str(k): int(v) for k, v in unsupported.items()})


def density_weighted_flops(cost: ModelCost, density: dict[str, float]) -> float:
    """MACs if masked weights were skipped: each masked module's MACs scaled by its weight density.

    This is what unstructured pruning *could* save on sparse hardware — labelled "sparse" wherever it is shown,
    never reported as a speed-up of the dense model.
    """
    total = cost.flops
    for module, d in density.items():
        total -= cost.by_module.get(module, 0.0) * (1.0 - d)
    return total


@dataclass
class TrainingFlopAccountant:
    """Adds up the training MACs of a phase: optimisation steps plus partition-tracker passes."""

    forward_flops: float  # per-sample forward MACs of the model being trained
    backward_factor: float = BACKWARD_FACTOR
    total: float = 0.0

    def training_step(self, samples: int) -> float:
        cost = self.forward_flops * (1.0 + self.backward_factor) * samples
        self.total += cost
        return cost

    def forward_only(self, samples: int) -> float:
        cost = self.forward_flops * samples
        self.total += cost
        return cost
