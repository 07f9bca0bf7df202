"""Early-Bird tickets by mask distance — You, Li, Xu, Fu, Wang, Chen, Baraniuk, Wang & Lin, "Drawing
Early-Bird Tickets: Towards More Efficient Training of Deep Networks", ICLR 2020 (Sec. 4.2, Alg. 1).

Dense training runs with network slimming's L1 penalty on BN scales (same hook key as ``ns``, so both share
one dense run). At the **start** of every epoch — the first check sees the initialisation — the channel mask
network slimming would prune at each target ratio p is computed from the BN scales (one global |gamma|
threshold). The last ``fifo`` = 5 masks per ratio are kept; the normalised Hamming distances from the newest
mask to each of the 4 older ones are measured (not consecutive pairs: the public code's ``cal_dist``), and the
ticket at ratio p is drawn when all of them are <= ``eps`` = 0.1. The ticket is then pruned exactly as network
slimming prunes (``NetworkSlimming``) and retrained; its total training cost counts dense epochs only up to
the EB epoch, as for the spline EB (Alg. 1), so the two stand head to head in one run.

The mask is taken over every BatchNorm of the model, as the public code does; the plan, like ``ns``, scores
only the layers the shared applier can prune alone. The two coincide on plain chains (convnet, VGG).
"""

from __future__ import annotations

from collections import deque
from typing import Any

import torch
from torch import nn

from baselines.network_slimming import DEFAULT_SPARSITY, BnL1Hook, NetworkSlimming, slimming_removals
from splinebench.prune.interface import TrainingHook
from splinebench.prune.units import NORM_TYPES

DEFAULT_EPS = 0.1
DEFAULT_FIFO = 5


def bn_scales(model: nn.Module) -> dict[str, torch.Tensor]:
    """Every BatchNorm's scale vector by module name (the public code's ``model.modules()`` walk)."""
    return {
        name: module.weight.detach()
        for name, module in model.named_modules()
        if isinstance(module, NORM_TYPES) and getattr(module, "weight", None) is not None
    }


def channel_keep_mask(scales: dict[str, torch.Tensor], ratio: float) -> torch.Tensor:
    """Network slimming's global keep-mask at ``ratio``, concatenated over the layers (True = kept)."""
    removals = slimming_removals(scales, ratio, "global")
    parts = []
    for name, gamma in scales.items():
        keep = torch.ones(gamma.numel(), dtype=torch.bool)
        keep[removals[name]] = False
        parts.append(keep)
    return torch.cat(parts) if parts else torch.zeros(0, dtype=torch.bool)


def mask_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """Normalised Hamming distance: the fraction of channels on which two masks disagree."""
    return int((a != b).sum()) / a.numel() if a.numel() else 0.0  # exact: 2/20 must compare equal to 0.1


class EarlyBirdMaskHook(BnL1Hook):
    """Network slimming's L1 hook plus the mask-distance early-bird detector, one per target ratio."""

    def __init__(self, sparsity: float = DEFAULT_SPARSITY, eps: float = DEFAULT_EPS, fifo: int = DEFAULT_FIFO,
                 during_retrain: bool = True) -> None:
        super().__init__(sparsity, during_retrain)
        if fifo < 2:
            raise ValueError(f"the early-bird FIFO keeps at least 2 masks, got {fifo!r}")
        self.eps, self.fifo = float(eps), int(fifo)
        default = (self.eps, self.fifo) == (DEFAULT_EPS, DEFAULT_FIFO)
        self.detector = "mask" if default else f"mask-eps{self.eps:g}-fifo{self.fifo}"
        self.masks: dict[float, deque[torch.Tensor]] = {}
        self.distances: dict[float, list[float]] = {}
        self.fired: dict[float, int] = {}  # ratio -> epoch whose start drew the ticket
        self._pending_info: deque[dict[str, Any]] = deque()
        self._last_info: dict[str, Any] = {"eps": self.eps, "window": self.fifo, "fifo": []}

    def detector_for(self, ratio: float) -> str:
        return f"{self.detector}@{ratio:g}"

    def on_epoch_start(self, model: nn.Module, epoch: int) -> list[str]:
        """Record this epoch's masks; return the detectors (one per ratio) that fire now."""
        waiting = [r for r in self.ratios if r not in self.fired]
        if not waiting:
            return []
        scales = bn_scales(model)
        fired_now = []
        for ratio in waiting:
            history = self.masks.setdefault(ratio, deque(maxlen=self.fifo))
            history.append(channel_keep_mask(scales, ratio))
            if len(history) < self.fifo:
                continue
            newest = history[-1]
            self.distances[ratio] = [mask_distance(newest, older) for older in list(history)[:-1]]
            if max(self.distances[ratio]) <= self.eps:
                self.fired[ratio] = epoch
                fired_now.append(self.detector_for(ratio))
                info = {"eps": self.eps, "window": self.fifo, "fifo": self.distances[ratio]}
                self._pending_info.append(info)
        return fired_now

    def early_bird_info(self) -> dict[str, Any]:
        """eps, FIFO length and distances of the detectors that just fired, in the order returned."""
        if self._pending_info:
            self._last_info = self._pending_info.popleft()
        return dict(self._last_info)

    def state_dict(self) -> dict[str, Any]:
        return {
            "masks": {r: [m.clone() for m in h] for r, h in self.masks.items()},
            "distances": {r: list(d) for r, d in self.distances.items()},
            "fired": dict(self.fired),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if not state:
            return
        self.masks = {float(r): deque(h, maxlen=self.fifo) for r, h in state.get("masks", {}).items()}
        self.distances = {float(r): list(d) for r, d in state.get("distances", {}).items()}
        self.fired = {float(r): int(e) for r, e in state.get("fired", {}).items()}


class EarlyBirdMask(NetworkSlimming):
    name = "eb-mask"
    description = "Early-Bird tickets (You et al. 2020): NS masks stable (<= 0.1) over a FIFO of 5, NS prune"

    def __init__(self, sparsity: float = DEFAULT_SPARSITY, eps: float = DEFAULT_EPS, fifo: int = DEFAULT_FIFO,
                 scope: str = "global", during_retrain: bool = True) -> None:
        super().__init__(sparsity=sparsity, scope=scope, during_retrain=during_retrain)
        self.options.update(eps=eps, fifo=fifo)
        self.eps, self.fifo = eps, fifo

    def training_hook(self) -> TrainingHook:
        return EarlyBirdMaskHook(self.sparsity, self.eps, self.fifo, self.during_retrain)
