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
