"""What a pruner returns: a *plan* (which units of which layers go), never a modified model.

Separating the answer from its application (as Torch-Pruning separates importance from the dependency graph) means
every structured pruner is applied by the same mechanism, and what was asked can be compared with what was got.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass
class Plan:
    """A pruner's answer.

    * structured: ``remove`` maps a module name (a Conv2d/Linear) to the output-unit indices to remove;
    * unstructured: ``masks`` maps a parameter name (``"features.0.weight"``) to a boolean keep-mask of its shape;
    * ``rewind``: after masking, reset the surviving weights to their values at initialisation (lottery ticket).
    """

    structured: bool
    remove: dict[str, list[int]] = field(default_factory=dict)
    masks: dict[str, torch.Tensor] = field(default_factory=dict)
    rewind: bool = False
    notes: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def channels(cls, remove: dict[str, list[int]], **notes: Any) -> Plan:
        return cls(structured=True, remove={k: sorted(int(i) for i in v) for k, v in remove.items()}, notes=notes)

    @classmethod
    def weight_masks(cls, masks: dict[str, torch.Tensor], rewind: bool = False, **notes: Any) -> Plan:
        return cls(structured=False, masks={k: m.bool() for k, m in masks.items()}, rewind=rewind, notes=notes)


@dataclass
class LayerReport:
    """Asked vs got for one layer (PEERS: layers silently left unpruned must show)."""

    name: str
    units_before: int
    units_after: int
    asked: float  # fraction the plan asked to remove
    achieved: float  # fraction actually removed
    reason: str = ""  # why a layer was left alone or pruned differently

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "units_before": self.units_before, "units_after": self.units_after,
            "asked": round(self.asked, 6), "achieved": round(self.achieved, 6), "reason": self.reason,
        }


@dataclass
class PruneReport:
    layers: list[LayerReport]
    asked_ratio: float
    achieved_ratio: float
    history: list[Any] = field(default_factory=list)  # torch-pruning's pruning history: rebuilds the structure
