"""Small model helpers shared by the tracker and the unit collector."""

from __future__ import annotations

import torch
from torch import nn


def model_device(model: nn.Module) -> torch.device:
    """Device of the model's first parameter (or buffer); CPU for a model with neither."""
    for tensor in model.parameters():
        return tensor.device
    for tensor in model.buffers():
        return tensor.device
    return torch.device("cpu")


class EvalMode:
    """Put every module in eval mode and restore each module's own flag afterwards (frozen BNs stay
    frozen)."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.flags: list[tuple[nn.Module, bool]] = []

    def __enter__(self) -> None:
        self.flags = [(module, module.training) for module in self.model.modules()]
        self.model.eval()

    def __exit__(self, *exc: object) -> None:
        for module, flag in self.flags:
            module.training = flag
