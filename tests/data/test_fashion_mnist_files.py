"""Fashion-MNIST read from IDX files in the layout Debian's dataset-fashion-mnist installs."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from splinebench.data import load_dataset
from splinebench.data.fashion_mnist import DEBIAN_FASHION_MNIST_ROOT
from splinebench.data.idx import read_idx, write_idx
from splinebench.errors import BadInputError, MissingDataError


def _idx_bytes(array: np.ndarray) -> bytes:
    """IDX written by hand from the format's description (uint8 only), independent of splinebench.data.idx."""
    return (
        struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
        + struct.pack(f">{array.ndim}I", *array.shape)
        + (array.astype(np.uint8).tobytes())
    )


def _write_fashion(
    folder: Path, n_train: int = 30, n_test: int = 12, gz: bool = True
) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, size=n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, size=n_test, dtype=np.uint8),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for stem, array in arrays.items():
        if gz:
            with gzip.open(folder / f"{stem}.gz", "wb") as handle:
                handle.write(_idx_bytes(array))
        else:
            (folder / stem).write_bytes(_idx_bytes(array))
    return arrays


def _pixels(bundle, split: str) -> np.ndarray:
    """Undo the standardisation: back to 0..255 pixel values."""
    images = getattr(bundle, split).tensors[0].numpy()[:, 0]
    mean, std = bundle.meta["normalisation_mean"][0], bundle.meta["normalisation_std"][0]
    return (images * std + mean) * 255.0


def test_gzipped_idx_files_load_with_their_pixels_and_labels(tmp_path: Path) -> None:
    written = _write_fashion(tmp_path)
    bundle = load_dataset("fashion-mnist", root=tmp_path)
    assert (len(bundle.train), len(bundle.test)) == (30, 12)
    assert (bundle.input_shape, bundle.num_classes) == ((1, 28, 28), 10)
    assert np.allclose(_pixels(bundle, "test"), written["t10k-images-idx3-ubyte"], atol=1e-3)
    assert bundle.train.tensors[1].tolist() == written["train-labels-idx1-ubyte"].tolist()
    assert bundle.class_names[0] == "T-shirt/top"


def test_uncompressed_files_in_torchvisions_layout_load_too(tmp_path: Path) -> None:
    written = _write_fashion(tmp_path / "FashionMNIST" / "raw", gz=False)
    bundle = load_dataset("fashion-mnist", root=tmp_path)
    assert bundle.test.tensors[1].tolist() == written["t10k-labels-idx1-ubyte"].tolist()


def test_missing_files_say_how_to_get_them(tmp_path: Path) -> None:
    _write_fashion(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(MissingDataError) as caught:
        load_dataset("fashion-mnist", root=tmp_path)
    message = str(caught.value)
    assert "apt-get install dataset-fashion-mnist" in message
    assert "t10k-labels-idx1-ubyte" in message
    assert "data.root" in message


def test_a_subset_keeps_n_seeded_training_samples_on_the_full_sets_scale(tmp_path: Path) -> None:
    _write_fashion(tmp_path)
    full = load_dataset("fashion-mnist", root=tmp_path)
    subset = load_dataset("fashion-mnist", root=tmp_path, subset=10, subset_seed=3)
    again = load_dataset("fashion-mnist", root=tmp_path, subset=10, subset_seed=3)
    assert len(subset.train) == 10 and len(subset.test) == 12
    assert torch.equal(subset.train.tensors[0], again.train.tensors[0])
    assert subset.meta["normalisation_mean"] == full.meta["normalisation_mean"]
    # every kept sample is one of the full set's samples
    full_rows = {row.tobytes() for row in full.train.tensors[0].numpy()}
    assert all(row.tobytes() in full_rows for row in subset.train.tensors[0].numpy())
    with pytest.raises(BadInputError, match="subset"):
        load_dataset("fashion-mnist", root=tmp_path, subset=31)


def test_a_truncated_idx_file_is_reported_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "cut-idx3-ubyte"
    path.write_bytes(_idx_bytes(np.zeros((4, 28, 28), dtype=np.uint8))[:-5])
    with pytest.raises(BadInputError, match="cut-idx3-ubyte"):
        read_idx(path)


def test_a_file_that_is_not_idx_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes-idx1-ubyte"
    path.write_bytes(b"\x00\x00\x07\x01" + struct.pack(">I", 3) + b"abc")
    with pytest.raises(BadInputError, match="not an IDX file"):
        read_idx(path)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_idx_round_trips_every_idx_type(tmp_path: Path, dtype: type) -> None:
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    write_idx(tmp_path / "a.idx.gz", array)
    restored = read_idx(tmp_path / "a.idx.gz")
    assert restored.dtype == np.dtype(dtype) and np.array_equal(restored, array)


@pytest.mark.skipif(not DEBIAN_FASHION_MNIST_ROOT.is_dir(), reason="dataset-fashion-mnist is not installed")
def test_debians_fashion_mnist_loads_60000_and_10000() -> None:
    bundle = load_dataset("fashion-mnist", subset=100)
    assert (len(bundle.train), len(bundle.test)) == (100, 10000)
    assert abs(bundle.meta["normalisation_mean"][0] - 0.2860) < 1e-3
