"""Fashion-MNIST from its four IDX files (gzipped or not), by default where Debian's package puts them.

``apt-get install dataset-fashion-mnist`` installs
``/usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3, labels-idx1}-ubyte.gz``. Any folder holding the
same four files works (``--set data.root=DIR``); so does a torchvision download (``DIR/FashionMNIST/raw``).
The official 60,000/10,000 split is kept.
"""

from __future__ import annotations

from pathlib import Path

from splinebench.data.arrays import seeded_subset_indices
from splinebench.data.bundle import DatasetBundle
from splinebench.data.catalog import register_dataset
from splinebench.data.idx import read_idx
from splinebench.data.images_in_memory import in_memory_image_bundle
from splinebench.errors import BadInputError, MissingDataError

DEBIAN_FASHION_MNIST_ROOT = Path("/usr/share/datasets/fashion-mnist")

FASHION_MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def _existing(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def locate_fashion_mnist(root: Path) -> dict[str, Path]:
    """The four IDX files under ``root``, ``root/fashion-mnist`` or ``root/FashionMNIST/raw``.

    Raises :class:`MissingDataError` listing what is missing and the three ways to get it.
    """
    folders = [root, root / "fashion-mnist", root / "FashionMNIST" / "raw"]
    for folder in folders:
        found = {key: _existing(folder, stem) for key, stem in FASHION_MNIST_FILES.items()}
        if all(found.values()):
            return {key: path for key, path in found.items() if path is not None}
    missing = ", ".join(f"{stem}[.gz]" for stem in FASHION_MNIST_FILES.values())
    raise MissingDataError(
        f"fashion-mnist: the IDX files are not in {root} (also looked in {folders[1]} and {folders[2]}). "
        f"Get them with `sudo apt-get install dataset-fashion-mnist` "
        f"(installs them in {DEBIAN_FASHION_MNIST_ROOT}), "
        f"or put the four files ({missing}) from https://github.com/zalandoresearch/fashion-mnist "
        f"under a folder "
        f"and pass it with `--set data.root=FOLDER`."
    )


@register_dataset(
    "fashion-mnist",
    description="Fashion-MNIST 1x28x28, 10 classes, 60,000/10,000 (apt-get install dataset-fashion-mnist)",
    needs_files=True,
)
def load_fashion_mnist(root: Path | None, subset: int | None = None, subset_seed: int = 0) -> DatasetBundle:
    """Fashion-MNIST; ``subset=N`` keeps N seeded training samples (the test split stays whole).

    Normalisation statistics always come from the full training set, so a subset trains on the same scale.
    """
    files = locate_fashion_mnist(root if root is not None else DEBIAN_FASHION_MNIST_ROOT)
    arrays = {key: read_idx(path) for key, path in files.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise BadInputError(
                f"fashion-mnist {split}: images {images.shape} and labels {labels.shape} do not match "
                f"({files[f'{split}_images']}, {files[f'{split}_labels']})"
            )
    all_train_images = arrays["train_images"][:, None, :, :]
    train_images, train_labels = all_train_images, arrays["train_labels"]
    if subset is not None:
        keep = seeded_subset_indices(len(train_labels), subset, subset_seed)
        train_images, train_labels = train_images[keep], train_labels[keep]
    return in_memory_image_bundle(
        "fashion-mnist",
        train_images,
        train_labels,
        arrays["test_images"][:, None, :, :],
        arrays["test_labels"],
        num_classes=10,
        description=f"Fashion-MNIST, {len(train_labels)}/{len(arrays['test_labels'])}"
        + (f" (subset of {len(all_train_images)}, seed {subset_seed})" if subset is not None else ""),
        class_names=FASHION_MNIST_CLASSES,
        statistics_from=all_train_images,
        meta={"source": str(files["train_images"].parent), "subset": subset, "subset_seed": subset_seed},
    )
