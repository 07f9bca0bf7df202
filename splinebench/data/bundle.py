"""What a dataset loader hands the engine: both splits plus the numbers a model factory needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch.utils.data import Dataset, TensorDataset


@dataclass
class DatasetBundle:
    """Train and test splits of one dataset, with its shape.

    ``train`` and ``test`` are ``TensorDataset(float32 inputs, int64 labels)`` for data held in memory (the
    engine batches those by index, no DataLoader), or map-style datasets yielding ``(tensor, int)`` for CIFAR
    and image folders (augmentation happens per sample). ``input_shape`` is ``(C, H, W)`` for images,
    ``(features,)`` for points. ``meta`` records provenance: source files, the options used, normalisation
    statistics, checksums.
    """

    name: str
    train: Dataset
    test: Dataset
    num_classes: int
    in_channels: int
    input_shape: tuple[int, ...]
    description: str
    class_names: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def in_memory(self) -> bool:
        """True when both splits are tensors in memory that can be indexed in batches."""
        return isinstance(self.train, TensorDataset) and isinstance(self.test, TensorDataset)

    def summary(self) -> str:
        """One line for logs: name, sizes, shape, classes."""
        shape = "x".join(map(str, self.input_shape))
        return (
            f"{self.name}: {len(self.train)} train / {len(self.test)} test, "  # type: ignore[arg-type]
            f"inputs {shape}, {self.num_classes} classes"
        )
