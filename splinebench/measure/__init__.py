"""Measurement: FLOPs (fvcore) and energy meters (``splinebench.measure.energy``)."""

from __future__ import annotations

from splinebench.measure.flops import (
    BACKWARD_FACTOR,
    UNIT,
    ModelCost,
    TrainingFlopAccountant,
    count_params,
    density_weighted_flops,
    forward_cost,
)

__all__ = [
    "BACKWARD_FACTOR", "UNIT", "ModelCost", "TrainingFlopAccountant", "count_params", "density_weighted_flops",
    "forward_cost",
]
