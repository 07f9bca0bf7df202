"""Dataset registry: every dataset a profile can name, loaded into a :class:`DatasetBundle`.

    from splinebench.data import load_dataset, list_datasets
    bundle = load_dataset("mnist-5k")            # TensorDatasets, 4,000/1,000, 1x28x28, 10 classes
    bundle = load_dataset("fashion-mnist", subset=5000)

In-memory sets (toy-x, digits, mnist-5k, fashion-mnist) come as ``TensorDataset(float32, int64)`` standardised
with training-split statistics; CIFAR and image folders as map-style datasets that augment per sample. Files
that are missing raise :class:`~splinebench.errors.MissingDataError` saying how to get them.
"""

from __future__ import annotations

from splinebench.data import bundled, cifar, fashion_mnist, imagefolder, toy  # noqa: F401  (they register)
from splinebench.data.bundle import DatasetBundle
from splinebench.data.catalog import (
    DATASETS,
    dataset_info,
    keep_test_subset,
    keep_training_subset,
    list_datasets,
    load_dataset,
    register_dataset,
)

__all__ = [
    "DATASETS",
    "DatasetBundle",
    "dataset_info",
    "keep_test_subset",
    "keep_training_subset",
    "list_datasets",
    "load_dataset",
    "register_dataset",
]
