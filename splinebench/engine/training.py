"""The short training loop: one epoch of SGD, and an evaluation pass. Nothing hides behind callbacks.

Batches come either from in-memory tensors (every bundled dataset: indexed directly, no DataLoader overhead) or from
a DataLoader (CIFAR, ImageFolder: decoding and augmentation on worker processes). Shuffling uses a generator seeded
from (seed, phase, epoch), so a run resumed at epoch k sees exactly the batches the uninterrupted run saw.
"""

from __future__ import annotations

import copy
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

Batch = tuple[torch.Tensor, torch.Tensor]


def epoch_seed(seed: int, phase: str, epoch: int) -> int:
    """A stable seed per (run seed, phase, epoch); crc32 because Python's hash() is salted per process."""
    return (seed * 1_000_003 + zlib.crc32(phase.encode()) * 7919 + epoch) % (2**63 - 1)


class BatchSource:
    """Yields (inputs, labels) on ``device``; ``shuffle`` batches use a per-epoch generator."""

    def __init__(self, dataset: Dataset, batch_size: int, device: torch.device, num_workers: int = 0) -> None:
        self.dataset = dataset
        self.batch_size = batch_size
        self.device = device
        self.num_workers = num_workers
        self.tensors: tuple[torch.Tensor, torch.Tensor] | None = None
        if isinstance(dataset, TensorDataset):
            x, y = dataset.tensors[0], dataset.tensors[1]
            self.tensors = (x.to(device), y.to(device))

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def batches(self, shuffle: bool, seed: int = 0) -> Iterator[Batch]:
        if self.tensors is not None:
            x, y = self.tensors
            n = x.shape[0]
            if shuffle:
                order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).to(x.device)
            else:
                order = torch.arange(n, device=x.device)
            for start in range(0, n, self.batch_size):
                idx = order[start : start + self.batch_size]
                yield x[idx], y[idx]
            return
        loader = DataLoader(
            self.dataset, batch_size=self.batch_size, shuffle=shuffle, num_workers=self.num_workers,
            generator=torch.Generator().manual_seed(seed) if shuffle else None,
            pin_memory=self.device.type == "cuda",
        )
        for xb, yb in loader:
            yield xb.to(self.device, non_blocking=True), yb.to(self.device, non_blocking=True)

    def first_inputs(self, n: int, seed: int) -> torch.Tensor:
        """``n`` inputs chosen by a seeded permutation (the partition probe set)."""
        order = torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))[:n]
        if self.tensors is not None:
            return self.tensors[0][order.to(self.tensors[0].device)]
        return torch.stack([self.dataset[int(i)][0] for i in order]).to(self.device)


@dataclass
class EpochStats:
    loss: float
    accuracy: float
    samples: int


def train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    batches: Iterator[Batch],
    after_backward: Callable[[nn.Module], None] | None = None,
) -> EpochStats:
    model.train()
    # loss and hits add up as tensors on the model's device: one synchronisation per epoch, not per batch
    total_loss: torch.Tensor | float = 0.0
    correct: torch.Tensor | int = 0
    seen = 0
    for x, y in batches:
        optimizer.zero_grad(set_to_none=True)
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        if after_backward is not None:
            after_backward(model)
        optimizer.step()
        n = y.shape[0]
        total_loss = total_loss + loss.detach() * n
        correct = correct + (logits.detach().argmax(1) == y).sum()
        seen += n
    return EpochStats(float(total_loss) / max(seen, 1), int(correct) / max(seen, 1), seen)


@torch.no_grad()
def evaluate(model: nn.Module, batches: Iterator[Batch]) -> EpochStats:
    was_training = model.training
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    for x, y in batches:
        logits = model(x)
        total_loss += float(F.cross_entropy(logits, y, reduction="sum"))
        correct += int((logits.argmax(1) == y).sum())
        seen += y.shape[0]
    model.train(was_training)
    return EpochStats(total_loss / max(seen, 1), correct / max(seen, 1), seen)


def make_optimizer(model: nn.Module, lr: float, momentum: float, weight_decay: float) -> torch.optim.SGD:
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)


def make_scheduler(
    optimizer: torch.optim.Optimizer, epochs: int, milestones: list[float], gamma: float
) -> torch.optim.lr_scheduler.MultiStepLR:
    """Step decay at fractions of the epochs (paper: /10 at 50% and 75%, i.e. epochs 80 and 120 of 160)."""
    steps = sorted({max(1, round(m * epochs)) for m in milestones})
    return torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=steps, gamma=gamma)


def check_forward_backward(model: nn.Module, batch: Batch) -> None:
    """One forward and backward pass on a real batch right after pruning (PEERS: pruned models that fail later).

    The pass must leave no trace: BatchNorm statistics and gradients are restored afterwards. (The state is saved
    and restored rather than the model copied: torch cannot deepcopy a freshly masked model.)
    """
    saved = copy.deepcopy(model.state_dict())
    was_training = model.training
    model.train()
    try:
        x, y = batch
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        if not torch.isfinite(loss):
            raise RuntimeError(f"pruned model gives a non-finite loss ({float(loss)}) on a training batch")
    finally:
        model.load_state_dict(saved)
        model.zero_grad(set_to_none=True)
        model.train(was_training)
