"""torchvision classifiers by name: random weights, dataset-sized heads, stems fitted to the channels."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from splinebench.errors import BadInputError
from splinebench.zoo import create_model


def test_tv_resnet18_takes_one_channel_images_with_its_stem_hyperparameters_kept() -> None:
    model = create_model("tv:resnet18", num_classes=10, in_channels=1, input_shape=(1, 28, 28))
    stem = model.conv1
    assert (stem.in_channels, stem.out_channels) == (1, 64)
    assert (stem.kernel_size, stem.stride, stem.padding, stem.bias) == ((7, 7), (2, 2), (3, 3), None)
    assert model.fc.out_features == 10
    assert model.eval()(torch.randn(2, 1, 28, 28)).shape == (2, 10)


@pytest.mark.parametrize(
    ("name", "shape", "num_classes"),
    [
        ("tv:mobilenet_v3_small", (1, 32, 32), 7),
        ("tv:squeezenet1_1", (1, 32, 32), 5),
        ("tv:resnet18", (3, 32, 32), 100),
    ],
)
def test_tv_model_gives_one_logit_per_class(name: str, shape: tuple[int, ...], num_classes: int) -> None:
    model = create_model(name, num_classes=num_classes, in_channels=shape[0], input_shape=shape)
    with torch.no_grad():
        assert model.eval()(torch.randn(2, *shape)).shape == (2, num_classes)
    first_conv = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
    assert first_conv.in_channels == shape[0]


def test_tv_models_refuse_pretrained_weights_and_unknown_options() -> None:
    with pytest.raises(BadInputError, match="pretrained"):
        create_model("tv:resnet18", num_classes=10, in_channels=3, weights="DEFAULT")
    with pytest.raises(BadInputError, match="torchvision rejected"):
        create_model("tv:resnet18", num_classes=10, in_channels=3, not_an_option=1)


def test_tv_model_minimum_input_size_comes_from_torchvision() -> None:
    with pytest.raises(BadInputError, match="at least 75x75"):
        create_model("tv:inception_v3", num_classes=10, in_channels=3, input_shape=(3, 32, 32))
