"""Small, seeded array helpers shared by the in-memory loaders: splits, subsets, normalisation.

Every random choice takes an explicit seed and uses its own ``numpy.random.Generator`` (never the global
state), so the same options give the same split on every machine and in every process.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import TensorDataset

from splinebench.errors import BadInputError


def stratified_split(labels: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices holding ``test_fraction`` of each class in the test split (rounded per class).

    Per-class splitting keeps the class balance of small sets (digits, MNIST-5k) in both splits.
    """
    if not 0.0 < test_fraction < 1.0:
        raise BadInputError(f"test fraction must be between 0 and 1, got {test_fraction}")
    rng = np.random.default_rng(seed)
    train_parts, test_parts = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        n_test = int(round(len(members) * test_fraction))
        test_parts.append(members[:n_test])
        train_parts.append(members[n_test:])
    train = rng.permutation(np.concatenate(train_parts))
    test = rng.permutation(np.concatenate(test_parts))
    return train, test


def seeded_subset_indices(total: int, size: int, seed: int, split: str = "train") -> np.ndarray:
    """``size`` distinct indices out of ``range(total)`` drawn by a seeded generator, in ascending order."""
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= total:
        option = "subset" if split == "train" else f"{split}_subset"
        raise BadInputError(
            f"{option} must be a whole number from 1 to {total} (the {split} set's size), got {size!r}"
        )
    return np.sort(np.random.default_rng(seed).permutation(total)[:size])


def channel_statistics(images: np.ndarray, chunk: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation of ``images`` shaped ``(N, C, H, W)``, in float64.

    Accumulated over chunks of images so a 60,000-image uint8 array never gets a float64 copy.
    """
    channels = images.shape[1]
    total = np.zeros(channels)
    squares = np.zeros(channels)
    for start in range(0, len(images), chunk):
        block = images[start : start + chunk].astype(np.float64)
        total += block.sum(axis=(0, 2, 3))
        squares += np.square(block).sum(axis=(0, 2, 3))
    count = images.shape[0] * images.shape[2] * images.shape[3]
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - mean**2, 0.0))
    return mean, np.where(std > 0, std, 1.0)


def normalised_tensor(images: np.ndarray, mean: np.ndarray, std: np.ndarray) -> torch.Tensor:
    """``(images - mean) / std`` per channel as a float32 tensor (``images`` shaped ``(N, C, H, W)``)."""
    scaled = images.astype(np.float32)  # always a copy: the caller's array is left alone
    scaled -= mean.astype(np.float32)[None, :, None, None]
    scaled /= std.astype(np.float32)[None, :, None, None]
    return torch.from_numpy(np.ascontiguousarray(scaled))


def labelled_tensors(inputs: torch.Tensor, labels: np.ndarray) -> TensorDataset:
    """``TensorDataset(float32 inputs, int64 labels)``: the in-memory form the engine batches by index."""
    return TensorDataset(inputs.to(torch.float32), torch.from_numpy(np.asarray(labels, dtype=np.int64)))
