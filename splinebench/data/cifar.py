"""CIFAR-10 and CIFAR-100 from the official python pickles (``cifar-10-batches-py``, ``cifar-100-python``).

Why not ``torchvision.datasets.CIFAR10(download=False)``: it refuses any file whose md5 differs from the
published one, so it can only ever be run on the 170 MB originals, and our tests could not exercise the real
reading path without bypassing its check. We read the same documented format ourselves (a pickled dict per
batch: ``data`` as N x 3072 uint8 rows in channel-major order, ``labels`` or ``fine_labels``; class names in
the meta file), use torchvision only for the augmentation transforms, and still compare the files with
torchvision's published md5s: the result is recorded in ``bundle.meta["files_match_published_md5"]``, and a
mismatch is warned about, not fatal.

Like torchvision, we unpickle these files: only point ``data.root`` at CIFAR files you trust.
Train images get the standard augmentation (random 32x32 crop of the 4-pixel zero-padded image, horizontal
flip); test images are only normalised. Images stay uint8 in memory and are transformed per sample.
"""

from __future__ import annotations

import hashlib
import pickle
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from splinebench.data.bundle import DatasetBundle
from splinebench.data.catalog import register_dataset
from splinebench.data.locations import default_data_root
from splinebench.errors import BadInputError, MissingDataError


@dataclass(frozen=True)
class CifarLayout:
    """File names, label key and normalisation of one CIFAR variant."""

    name: str
    folder: str
    archive_url: str
    train_files: tuple[str, ...]
    test_files: tuple[str, ...]
    meta_file: str
    label_key: str
    class_names_key: str
    num_classes: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def published_md5(self) -> dict[str, str]:
        """The md5 of each official file, as torchvision publishes them."""
        from torchvision import datasets

        source = datasets.CIFAR10 if self.num_classes == 10 else datasets.CIFAR100
        listed = dict(source.train_list + source.test_list)
        listed[source.meta["filename"]] = source.meta["md5"]
        return listed


CIFAR10 = CifarLayout(
    name="cifar10",
    folder="cifar-10-batches-py",
    archive_url="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    train_files=tuple(f"data_batch_{i}" for i in range(1, 6)),
    test_files=("test_batch",),
    meta_file="batches.meta",
    label_key="labels",
    class_names_key="label_names",
    num_classes=10,
    mean=(0.4914, 0.4822, 0.4465),
    std=(0.2470, 0.2435, 0.2616),
)

CIFAR100 = CifarLayout(
    name="cifar100",
    folder="cifar-100-python",
    archive_url="https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
    train_files=("train",),
    test_files=("test",),
    meta_file="meta",
    label_key="fine_labels",
    class_names_key="fine_label_names",
    num_classes=100,
    mean=(0.5071, 0.4865, 0.4409),
    std=(0.2673, 0.2564, 0.2762),
)


class TransformedImages(Dataset):
    """uint8 images ``(N, C, H, W)`` and labels in memory; ``transform`` makes one image a float tensor."""

    def __init__(
        self, images: torch.Tensor, labels: torch.Tensor, transform: Callable[[torch.Tensor], torch.Tensor]
    ):
        self.images = images
        self.labels = labels
        self.transform = transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.transform(self.images[index]), int(self.labels[index])


def cifar_transforms(
    mean: Sequence[float], std: Sequence[float], augment: bool
) -> tuple[Callable[[torch.Tensor], torch.Tensor], Callable[[torch.Tensor], torch.Tensor]]:
    """(train, test) transforms of uint8 CHW tensors: padded crop + flip for training, then normalise."""
    from torchvision.transforms import v2

    normalise = [v2.ToDtype(torch.float32, scale=True), v2.Normalize(list(mean), list(std))]
    augmentation = [v2.RandomCrop(32, padding=4), v2.RandomHorizontalFlip()] if augment else []
    return v2.Compose(augmentation + normalise), v2.Compose(normalise)


def locate_cifar(layout: CifarLayout, root: Path) -> Path:
    """The folder holding the batch files: ``root/<folder>`` or ``root`` itself."""
    needed = (*layout.train_files, *layout.test_files, layout.meta_file)
    for folder in (root / layout.folder, root):
        if all((folder / name).is_file() for name in needed):
            return folder
    missing = [name for name in needed if not (root / layout.folder / name).is_file()]
    raise MissingDataError(
        f"{layout.name}: no {layout.folder}/ under {root} (missing {', '.join(missing)}). Download "
        f"{layout.archive_url}, unpack it so that {root / layout.folder}/ holds {', '.join(needed)}, "
        f"or pass the folder that holds {layout.folder}/ with `--set data.root=FOLDER`."
    )


def _unpickle(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            entry = pickle.load(handle, encoding="latin1")
    except (pickle.UnpicklingError, EOFError, ValueError) as error:
        raise BadInputError(f"{path} is not a CIFAR python batch: {error}") from None
    # Files pickled by Python 3 with bytes keys read back as bytes: accept both.
    return {key.decode() if isinstance(key, bytes) else key: value for key, value in entry.items()}


def read_cifar_batches(folder: Path, files: Sequence[str], label_key: str) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images ``(N, 3, 32, 32)`` and int64 labels from the pickled batch ``files`` in ``folder``."""
    images, labels = [], []
    for name in files:
        entry = _unpickle(folder / name)
        if "data" not in entry or label_key not in entry:
            raise BadInputError(
                f"{folder / name}: expected keys 'data' and {label_key!r}, found {sorted(entry)}"
            )
        data = np.asarray(entry["data"], dtype=np.uint8)
        if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(data) != len(entry[label_key]):
            raise BadInputError(f"{folder / name}: data {data.shape} with {len(entry[label_key])} labels")
        images.append(data.reshape(-1, 3, 32, 32))
        labels.append(np.asarray(entry[label_key], dtype=np.int64))
    return np.concatenate(images), np.concatenate(labels)


def files_match_published_md5(layout: CifarLayout, folder: Path) -> bool:
    """True when every file in ``folder`` has the md5 torchvision publishes for the official CIFAR files."""
    for name, expected in layout.published_md5().items():
        digest = hashlib.md5(usedforsecurity=False)
        with (folder / name).open("rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
        if digest.hexdigest() != expected:
            return False
    return True


def load_cifar(
    layout: CifarLayout, root: Path | None, augment: bool, verify_checksums: bool
) -> DatasetBundle:
    folder = locate_cifar(layout, root if root is not None else default_data_root())
    train_images, train_labels = read_cifar_batches(folder, layout.train_files, layout.label_key)
    test_images, test_labels = read_cifar_batches(folder, layout.test_files, layout.label_key)
    class_names = tuple(_unpickle(folder / layout.meta_file).get(layout.class_names_key, ()))
    official = files_match_published_md5(layout, folder) if verify_checksums else None
    if official is False:
        warnings.warn(
            f"{layout.name}: the files in {folder} differ from the published ones (md5); results are not "
            f"comparable "
            f"with published CIFAR numbers",
            stacklevel=3,
        )
    train_transform, test_transform = cifar_transforms(layout.mean, layout.std, augment)
    return DatasetBundle(
        name=layout.name,
        train=TransformedImages(
            torch.from_numpy(train_images), torch.from_numpy(train_labels), train_transform
        ),
        test=TransformedImages(torch.from_numpy(test_images), torch.from_numpy(test_labels), test_transform),
        num_classes=layout.num_classes,
        in_channels=3,
        input_shape=(3, 32, 32),
        description=f"{layout.name.upper()}, {len(train_labels)}/{len(test_labels)}"
        + (", train augmented (crop 32 pad 4, flip)" if augment else ""),
        class_names=class_names,
        meta={
            "source": str(folder),
            "augment": augment,
            "files_match_published_md5": official,
            "normalisation_mean": list(layout.mean),
            "normalisation_std": list(layout.std),
        },
    )


@register_dataset(
    "cifar10",
    description="CIFAR-10 3x32x32, 10 classes, 50,000/10,000 (python batches; crop+flip augmentation)",
    needs_files=True,
)
def load_cifar10(root: Path | None, augment: bool = True, verify_checksums: bool = True) -> DatasetBundle:
    """CIFAR-10 from ``root/cifar-10-batches-py`` (default root: ``$SPLINEBENCH_DATA_ROOT``)."""
    return load_cifar(CIFAR10, root, augment, verify_checksums)


@register_dataset(
    "cifar100",
    description="CIFAR-100 3x32x32, 100 fine classes, 50,000/10,000 (python batches; crop+flip augmentation)",
    needs_files=True,
)
def load_cifar100(root: Path | None, augment: bool = True, verify_checksums: bool = True) -> DatasetBundle:
    """CIFAR-100 (fine labels) from ``root/cifar-100-python`` (default root: ``$SPLINEBENCH_DATA_ROOT``)."""
    return load_cifar(CIFAR100, root, augment, verify_checksums)
