"""The X-shaped 2-D toy: points in the square, labels by the wedge rule, a seeded 80/20 split."""

from __future__ import annotations

import torch

from splinebench.data import load_dataset


def _all_points(bundle) -> tuple[torch.Tensor, torch.Tensor]:
    train_x, train_y = bundle.train.tensors
    test_x, test_y = bundle.test.tensors
    return torch.cat([train_x, test_x]), torch.cat([train_y, test_y])


def test_toy_labels_are_one_exactly_in_the_top_and_bottom_wedges() -> None:
    points, labels = _all_points(load_dataset("toy-x"))
    top_or_bottom = points[:, 1].abs() > points[:, 0].abs()
    assert torch.equal(labels, top_or_bottom.long())
    assert 0.4 < labels.float().mean() < 0.6  # the four wedges have equal area


def test_toy_has_2000_points_in_the_square_split_80_20() -> None:
    bundle = load_dataset("toy-x")
    points, _ = _all_points(bundle)
    assert (len(bundle.train), len(bundle.test)) == (1600, 400)
    assert points.abs().max() <= 5.0 and points.abs().max() > 4.9
    assert (bundle.input_shape, bundle.in_channels, bundle.num_classes) == ((2,), 2, 2)
    assert bundle.train.tensors[0].dtype == torch.float32 and bundle.train.tensors[1].dtype == torch.int64


def test_the_same_seed_gives_the_same_toy_and_another_seed_another() -> None:
    first, again, other = (load_dataset("toy-x", seed=s).train.tensors[0] for s in (3, 3, 4))
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


def test_the_number_of_toy_points_is_an_option() -> None:
    bundle = load_dataset("toy-x", n=500)
    assert (len(bundle.train), len(bundle.test)) == (400, 100)
