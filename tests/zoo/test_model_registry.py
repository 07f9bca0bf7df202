"""The model zoo's names: listing, lookup, suggestions for typos, and options checking."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from splinebench.errors import BadInputError, UnknownNameError
from splinebench.registry import Registry
from splinebench.zoo import catalog, create_model, list_models, model_info, register_model


def test_a_misspelt_model_name_is_answered_with_close_names() -> None:
    with pytest.raises(UnknownNameError) as caught:
        create_model("vgg61", num_classes=10, in_channels=3)
    assert "vgg16" in caught.value.suggestions
    assert "vgg16" in str(caught.value)
    assert caught.value.kind == "model"


def test_the_vgg_pattern_lists_exactly_the_four_cifar_vggs() -> None:
    assert list_models("vgg*") == ["vgg11", "vgg13", "vgg16", "vgg19"]


def test_preresnet_names_include_the_papers_depths_and_the_generic_builder() -> None:
    assert {"preresnet", "preresnet20", "preresnet56", "preresnet101"} <= set(list_models("preresnet*"))


def test_every_torchvision_classifier_is_listed_under_the_tv_prefix() -> None:
    from torchvision import models

    expected = {f"tv:{name}" for name in models.list_models(module=models)}
    listed = set(list_models("tv:*"))
    assert listed == expected
    assert {"tv:resnet18", "tv:resnet50", "tv:mobilenet_v3_small"} <= listed
    assert model_info("tv:resnet50").meta["family"] == "torchvision"


def test_model_info_carries_family_input_kind_and_description() -> None:
    info = model_info("fcnet-1x20")
    assert info.name == "fcnet-1x20"
    assert info.meta["family"] == "fcnet"
    assert info.meta["input_kind"] == "2d-points"
    assert "20" in info.meta["description"]
    assert model_info("vgg16").meta["input_kind"] == "image"


def test_an_unknown_option_is_a_bad_input_naming_the_options_the_model_takes() -> None:
    with pytest.raises(BadInputError, match=r"unknown option\(s\) depth.*takes: cfg"):
        create_model("vgg16", num_classes=10, in_channels=3, depth=16)


def _two_logit_probe(num_classes: int, in_channels: int, width: int = 3) -> nn.Module:
    return nn.Sequential(
        nn.Flatten(), nn.Linear(in_channels, width), nn.ReLU(), nn.Linear(width, num_classes)
    )


def test_a_registered_factory_is_built_by_name_with_its_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalog, "MODELS", Registry("model"))  # keep the probe out of the session's zoo
    register_model("probe-mlp", family="test", input_kind="2d-points", description="a test's")(
        _two_logit_probe
    )
    model = create_model("probe-mlp", num_classes=4, in_channels=2, width=7)
    assert model[1].out_features == 7
    assert model(torch.zeros(5, 2)).shape == (5, 4)
    assert list_models("probe-*") == ["probe-mlp"]
