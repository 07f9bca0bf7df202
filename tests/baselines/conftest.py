"""Tiny hand-checkable models and a PruneContext builder for the baseline tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import torch
from torch import nn

from splinebench.prune.interface import Batch, PruneContext


class TwoBlockNet(nn.Module):
    """conv(1->4)-BN-ReLU, conv(4->6)-BN-ReLU, global pool, linear(6->3): prunable layers of 4 and 6."""

    def __init__(self, widths: tuple[int, int] = (4, 6), classes: int = 3) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, widths[0], 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.conv2 = nn.Conv2d(widths[0], widths[1], 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(widths[1])
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(widths[1], classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        return self.fc(self.pool(x).flatten(1))


def make_ctx(model: nn.Module, example: torch.Tensor, batches: list[Batch] | None = None, seed: int = 0,
             init_state: dict[str, torch.Tensor] | None = None) -> PruneContext:
    stored = batches or []

    def batch_source(n: int) -> Iterator[Batch]:
        yield from stored[:n]

    return PruneContext(example_input=example, batches=batch_source, init_state=init_state or {},
                        device=torch.device("cpu"), seed=seed, num_classes=3)


@pytest.fixture
def two_block_net() -> TwoBlockNet:
    torch.manual_seed(0)
    return TwoBlockNet()


@pytest.fixture
def ctx_for() -> Callable[..., PruneContext]:
    return make_ctx
