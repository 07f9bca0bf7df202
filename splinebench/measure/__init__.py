"""Measurement: FLOPs (fvcore) and energy meters (``splinebench.measure.energy``).

The FLOP names are loaded on first use: ``splinebench.measure.energy`` (which the CLI's ``energy`` commands import to
build their help) must not pull torch and fvcore into every ``splinebench --help``.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "BACKWARD_FACTOR", "UNIT", "ModelCost", "TrainingFlopAccountant", "count_params", "density_weighted_flops",
    "forward_cost",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("splinebench.measure.flops"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
