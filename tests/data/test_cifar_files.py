"""CIFAR-10/100 read from python batch files in the official on-disk format, generated here in small sizes."""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from splinebench.data import load_dataset
from splinebench.errors import MissingDataError

CIFAR10_MEAN = torch.tensor([0.4914, 0.4822, 0.4465]).view(3, 1, 1)
CIFAR10_STD = torch.tensor([0.2470, 0.2435, 0.2616]).view(3, 1, 1)


def _batch(rng: np.random.Generator, count: int, label_key: str, classes: int) -> dict:
    return {
        "batch_label": "generated",
        label_key: rng.integers(0, classes, size=count).tolist(),
        "data": rng.integers(0, 256, size=(count, 3072), dtype=np.uint8),
        "filenames": [f"{i}.png" for i in range(count)],
    }


def _dump(path: Path, entry: dict, bytes_keys: bool = False) -> None:
    if bytes_keys:
        entry = {key.encode(): value for key, value in entry.items()}
    with path.open("wb") as handle:
        pickle.dump(entry, handle, protocol=2)


def _write_cifar10(root: Path, per_batch: int = 4, bytes_keys: bool = False) -> dict[str, dict]:
    rng = np.random.default_rng(0)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    batches = {f"data_batch_{i}": _batch(rng, per_batch, "labels", 10) for i in range(1, 6)}
    batches["test_batch"] = _batch(rng, 3, "labels", 10)
    for name, entry in batches.items():
        _dump(folder / name, entry, bytes_keys)
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    _dump(folder / "batches.meta", {"label_names": names, "num_cases_per_batch": per_batch}, bytes_keys)
    return batches


def _load_quietly(name: str, root: Path, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_dataset(name, root=root, **options)


def test_cifar10_batches_load_in_order_with_labels_and_class_names(tmp_path: Path) -> None:
    batches = _write_cifar10(tmp_path)
    bundle = _load_quietly("cifar10", tmp_path)
    assert (len(bundle.train), len(bundle.test)) == (20, 3)
    assert (bundle.input_shape, bundle.num_classes, bundle.in_channels) == ((3, 32, 32), 10, 3)
    assert bundle.class_names[1] == "automobile"
    expected_labels = [label for i in range(1, 6) for label in batches[f"data_batch_{i}"]["labels"]]
    assert [bundle.train[i][1] for i in range(20)] == expected_labels


def test_cifar_test_images_are_only_normalised_channel_major_rows(tmp_path: Path) -> None:
    batches = _write_cifar10(tmp_path)
    bundle = _load_quietly("cifar10", tmp_path)
    row = batches["test_batch"]["data"][1]
    expected = (torch.from_numpy(row.reshape(3, 32, 32)).float() / 255.0 - CIFAR10_MEAN) / CIFAR10_STD
    image, label = bundle.test[1]
    assert image.dtype == torch.float32 and torch.allclose(image, expected, atol=1e-5)
    assert label == batches["test_batch"]["labels"][1]


def test_cifar_training_images_are_augmented_by_crop_and_flip(tmp_path: Path) -> None:
    batches = _write_cifar10(tmp_path)
    bundle = _load_quietly("cifar10", tmp_path)
    plain = _load_quietly("cifar10", tmp_path, augment=False)
    raw = torch.from_numpy(batches["data_batch_1"]["data"][0].reshape(3, 32, 32)).float() / 255.0
    assert torch.allclose(plain.train[0][0], (raw - CIFAR10_MEAN) / CIFAR10_STD, atol=1e-5)
    torch.manual_seed(0)
    views = torch.stack([bundle.train[0][0] for _ in range(20)])
    assert views.shape == (20, 3, 32, 32)
    upright = plain.train[0][0]
    flipped = upright.flip(-1)
    shifted = [view for view in views if not torch.equal(view, upright) and not torch.equal(view, flipped)]
    assert shifted, "no view was cropped: every one is the image or its mirror"
    steps = [type(step).__name__ for step in bundle.train.transform.transforms]
    assert steps[:2] == ["RandomCrop", "RandomHorizontalFlip"]


def test_generated_files_are_flagged_as_not_the_published_cifar(tmp_path: Path) -> None:
    _write_cifar10(tmp_path)
    with pytest.warns(UserWarning, match="differ from the published"):
        bundle = load_dataset("cifar10", root=tmp_path)
    assert bundle.meta["files_match_published_md5"] is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        unchecked = load_dataset("cifar10", root=tmp_path, verify_checksums=False)
    assert unchecked.meta["files_match_published_md5"] is None


def test_the_batches_folder_itself_and_python3_bytes_keys_are_accepted(tmp_path: Path) -> None:
    _write_cifar10(tmp_path, bytes_keys=True)
    bundle = _load_quietly("cifar10", tmp_path / "cifar-10-batches-py")
    assert len(bundle.train) == 20 and bundle.class_names[0] == "airplane"


def test_cifar100_reads_fine_labels_and_their_names(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    train, test = _batch(rng, 6, "fine_labels", 100), _batch(rng, 2, "fine_labels", 100)
    _dump(folder / "train", {**train, "coarse_labels": [0] * 6})
    _dump(folder / "test", {**test, "coarse_labels": [0] * 2})
    _dump(folder / "meta", {"fine_label_names": [f"c{i}" for i in range(100)], "coarse_label_names": []})
    bundle = _load_quietly("cifar100", tmp_path)
    assert (len(bundle.train), len(bundle.test), bundle.num_classes) == (6, 2, 100)
    assert [bundle.test[i][1] for i in range(2)] == test["fine_labels"]
    assert bundle.class_names[99] == "c99"


def test_missing_cifar_files_say_where_to_put_them(tmp_path: Path) -> None:
    with pytest.raises(MissingDataError) as caught:
        load_dataset("cifar10", root=tmp_path)
    message = str(caught.value)
    assert "cifar-10-batches-py" in message and "cifar-10-python.tar.gz" in message and "data.root" in message
