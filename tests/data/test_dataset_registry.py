"""The dataset registry: names, suggestions for typos, options checking, generic subsets."""

from __future__ import annotations

import pytest
import torch

from splinebench.data import dataset_info, list_datasets, load_dataset
from splinebench.errors import BadInputError, UnknownNameError


def test_every_promised_dataset_is_registered() -> None:
    expected = {"toy-x", "digits", "mnist-5k", "fashion-mnist", "cifar10", "cifar100", "imagefolder"}
    assert expected <= set(list_datasets())
    assert dataset_info("cifar10").meta["needs_files"] is True
    assert dataset_info("mnist-5k").meta["needs_files"] is False


def test_a_misspelt_dataset_name_is_answered_with_close_names() -> None:
    with pytest.raises(UnknownNameError) as caught:
        load_dataset("mnist5k")
    assert "mnist-5k" in caught.value.suggestions
    assert caught.value.kind == "dataset"


def test_an_unknown_option_names_the_options_the_dataset_takes() -> None:
    with pytest.raises(BadInputError, match=r"unknown option\(s\) sede.*takes: .*seed"):
        load_dataset("digits", sede=1)


def test_any_dataset_can_keep_a_seeded_training_subset() -> None:
    full = load_dataset("toy-x")
    subset = load_dataset("toy-x", subset=50, subset_seed=2)
    assert len(subset.train) == 50 and len(subset.test) == len(full.test)
    assert subset.meta["subset"] == 50
    full_points = {tuple(p) for p in full.train.tensors[0].tolist()}
    assert all(tuple(p) in full_points for p in subset.train.tensors[0].tolist())
    assert torch.equal(
        subset.train.tensors[0], load_dataset("toy-x", subset=50, subset_seed=2).train.tensors[0]
    )


def test_any_dataset_can_keep_a_seeded_test_subset_and_leave_training_whole() -> None:
    full = load_dataset("toy-x")
    half = len(full.test) // 2
    subset = load_dataset("toy-x", test_subset=half, test_subset_seed=3)
    assert len(subset.test) == half and torch.equal(subset.train.tensors[0], full.train.tensors[0])
    assert subset.meta["test_subset"] == half
    full_points = {tuple(p) for p in full.test.tensors[0].tolist()}
    assert all(tuple(p) in full_points for p in subset.test.tensors[0].tolist())
    again = load_dataset("toy-x", test_subset=half, test_subset_seed=3)
    other = load_dataset("toy-x", test_subset=half, test_subset_seed=4)
    assert torch.equal(subset.test.tensors[0], again.test.tensors[0])
    assert not torch.equal(subset.test.tensors[0], other.test.tensors[0])


def test_a_test_subset_larger_than_the_test_split_is_refused_by_name() -> None:
    size = len(load_dataset("toy-x").test) + 1
    with pytest.raises(BadInputError, match=r"test_subset must be a whole number .* test set"):
        load_dataset("toy-x", test_subset=size)
