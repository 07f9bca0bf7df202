"""Turn a labelled array of small images into a normalised in-memory :class:`DatasetBundle`.

Shared by the MNIST-like loaders (digits, MNIST-5k, Fashion-MNIST): they differ in how they read their files,
not in what they hand over. Normalisation statistics come from the training split only, so no test information
leaks into training, and they are stored in ``bundle.meta`` for whoever needs to undo them (plots, canvases).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from splinebench.data.arrays import channel_statistics, labelled_tensors, normalised_tensor
from splinebench.data.bundle import DatasetBundle


def in_memory_image_bundle(
    name: str,
    train_images: np.ndarray,
    train_labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    *,
    num_classes: int,
    description: str,
    class_names: Sequence[str] = (),
    statistics_from: np.ndarray | None = None,
    pixel_max: float = 255.0,
    meta: dict[str, Any] | None = None,
) -> DatasetBundle:
    """Images shaped ``(N, C, H, W)`` (any numeric dtype) -> standardised float32 TensorDatasets.

    Standardising is scale-free, so raw pixels (0..255, 0..16) give the same tensors as pixels scaled to [0,
    1]; ``pixel_max`` only converts the recorded statistics to the [0, 1] scale.

    ``statistics_from`` (default: ``train_images``) are the images whose per-channel mean/std normalise both
    splits; a loader that keeps a subset passes the full training set so the subset does not change the scale.
    """
    mean, std = channel_statistics(train_images if statistics_from is None else statistics_from)
    channels, height, width = train_images.shape[1:]
    return DatasetBundle(
        name=name,
        train=labelled_tensors(normalised_tensor(train_images, mean, std), train_labels),
        test=labelled_tensors(normalised_tensor(test_images, mean, std), test_labels),
        num_classes=num_classes,
        in_channels=int(channels),
        input_shape=(int(channels), int(height), int(width)),
        description=description,
        class_names=tuple(class_names),
        meta={
            **(meta or {}),
            "normalisation_mean": (mean / pixel_max).tolist(),
            "normalisation_std": (std / pixel_max).tolist(),
            "pixel_max": pixel_max,
        },
    )
