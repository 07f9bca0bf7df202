"""Image classification sets laid out as ROOT/train/<class>/*.png and ROOT/val/<class>/*.png."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from splinebench.data import load_dataset
from splinebench.errors import BadInputError, MissingDataError


def _write_tree(root: Path, splits=("train", "val"), classes=("cat", "dog"), per_class: int = 2) -> None:
    rng = np.random.default_rng(0)
    for split in splits:
        for name in classes:
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(per_class):
                pixels = rng.integers(0, 256, size=(20, 24, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(folder / f"{i}.png")


def test_an_image_tree_loads_with_classes_from_folder_names(tmp_path: Path) -> None:
    _write_tree(tmp_path)
    bundle = load_dataset("imagefolder", root=tmp_path, image_size=16)
    assert (len(bundle.train), len(bundle.test)) == (4, 4)
    assert (bundle.num_classes, bundle.class_names, bundle.input_shape) == (2, ("cat", "dog"), (3, 16, 16))
    image, label = bundle.test[3]
    assert image.shape == (3, 16, 16) and image.dtype == torch.float32 and label == 1
    assert bundle.train[0][0].shape == (3, 16, 16)


def test_a_test_folder_stands_in_for_val(tmp_path: Path) -> None:
    _write_tree(tmp_path, splits=("train", "test"))
    assert len(load_dataset("imagefolder", root=tmp_path, image_size=8).test) == 4


def test_a_missing_split_or_root_says_what_layout_is_expected(tmp_path: Path) -> None:
    _write_tree(tmp_path, splits=("train",))
    with pytest.raises(MissingDataError, match="val/ or test/"):
        load_dataset("imagefolder", root=tmp_path)
    with pytest.raises(MissingDataError, match="train/<class>"):
        load_dataset("imagefolder")


def test_different_classes_in_train_and_val_are_refused(tmp_path: Path) -> None:
    _write_tree(tmp_path, splits=("train",))
    _write_tree(tmp_path, splits=("val",), classes=("cat", "fox"))
    with pytest.raises(BadInputError, match="class folders differ"):
        load_dataset("imagefolder", root=tmp_path)
