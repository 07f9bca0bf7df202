"""Pruning: the plug-in interface, plans, the shared applier and pruner discovery."""

from __future__ import annotations

from splinebench.prune.applier import PlanError, apply_plan, rebuild_structure, weight_density
from splinebench.prune.discovery import (
    GROUP,
    PluginError,
    PrunerInfo,
    check_names,
    check_options,
    create_pruner,
    discover,
)
from splinebench.prune.interface import Batch, PruneContext, Pruner, TrainingHook
from splinebench.prune.plan import LayerReport, Plan, PruneReport
from splinebench.prune.units import PrunableLayer, output_layers, prunable_layers, unit_vectors

__all__ = [
    "GROUP", "Batch", "LayerReport", "Plan", "PlanError", "PluginError", "PrunableLayer", "PruneContext",
    "PruneReport", "Pruner", "PrunerInfo", "TrainingHook", "apply_plan", "check_names", "check_options",
    "create_pruner", "discover",
    "output_layers", "prunable_layers", "rebuild_structure", "unit_vectors", "weight_density",
]
