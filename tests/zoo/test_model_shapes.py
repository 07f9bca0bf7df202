"""Every zoo model runs on the shapes of the datasets it is meant for, with one ReLU module per activation."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from splinebench.errors import BadInputError
from splinebench.zoo import create_model, list_models

POINTS = (2,)
DIGITS = (1, 8, 8)
MNIST = (1, 28, 28)
CIFAR = (3, 32, 32)

# Each of our own models with the dataset shapes it must take; a model added without an entry fails below.
DATASET_SHAPES: dict[str, tuple[tuple[int, ...], ...]] = {
    "fcnet": (POINTS,),
    "fcnet-1x20": (POINTS,),
    "fcnet-2x20": (POINTS,),
    "convnet-small": (DIGITS, MNIST, CIFAR),
    "vgg11": (MNIST, CIFAR),
    "vgg13": (CIFAR,),
    "vgg16": (MNIST, CIFAR),
    "vgg19": (CIFAR,),
    "preresnet": (CIFAR,),
    "preresnet20": (MNIST, CIFAR),
    "preresnet56": (CIFAR,),
    "preresnet101": (CIFAR, (3, 8, 8)),
    "preresnet164": (CIFAR, (3, 8, 8)),
}
# The deepest nets' first forward pass takes seconds on a busy 2-core CPU: the default run checks
# PreResNet-101 on 8x8 inputs and leaves PreResNet-164 to the slow run.
SLOW = {("preresnet101", CIFAR), ("preresnet164", CIFAR), ("preresnet164", (3, 8, 8))}
CASES = [
    pytest.param(
        name,
        shape,
        id=f"{name}-{'x'.join(map(str, shape))}",
        marks=[pytest.mark.slow] * ((name, shape) in SLOW),
    )
    for name, shapes in DATASET_SHAPES.items()
    for shape in shapes
]


def _own_models() -> list[str]:
    return [name for name in list_models() if ":" not in name]


def test_every_own_model_has_a_shape_test() -> None:
    assert sorted(_own_models()) == sorted(DATASET_SHAPES)


@pytest.mark.parametrize(("name", "shape"), CASES)
def test_model_gives_one_logit_per_class_on_its_dataset_shape(name: str, shape: tuple[int, ...]) -> None:
    num_classes = 7
    model = create_model(name, num_classes=num_classes, in_channels=shape[0], input_shape=shape)
    model.eval()
    with torch.no_grad():
        logits = model(torch.randn(2, *shape))
    assert logits.shape == (2, num_classes)
    assert torch.isfinite(logits).all()


def _relu_calls(model: nn.Module, shape: tuple[int, ...]) -> dict[str, int]:
    calls: dict[str, int] = {}
    handles = [
        module.register_forward_hook(
            lambda m, i, o, name=name: calls.__setitem__(name, calls.get(name, 0) + 1)
        )
        for name, module in model.named_modules()
        if isinstance(module, nn.ReLU)
    ]
    with torch.no_grad():
        model.eval()(torch.randn(2, *shape))
    for handle in handles:
        handle.remove()
    return calls


@pytest.mark.parametrize(
    ("name", "shape"),
    [("convnet-small", MNIST), ("vgg11", CIFAR), ("preresnet20", CIFAR), ("fcnet-2x20", POINTS)],
)
def test_each_activation_is_its_own_relu_module_called_once(name: str, shape: tuple[int, ...]) -> None:
    model = create_model(name, num_classes=10, in_channels=shape[0])
    relus = [n for n, m in model.named_modules() if isinstance(m, nn.ReLU)]
    calls = _relu_calls(model, shape)
    assert sorted(calls) == sorted(relus)
    assert set(calls.values()) == {1}
    assert not any(m.inplace for m in model.modules() if isinstance(m, nn.ReLU))
    batch_norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    if batch_norms:  # every BN output is a ReLU input: the partition code the spline tracker records
        assert len(batch_norms) == len(relus)


def test_fcnets_have_the_hidden_layers_their_names_promise() -> None:
    one = create_model("fcnet-1x20", num_classes=2, in_channels=2)
    two = create_model("fcnet-2x20", num_classes=2, in_channels=2)
    generic = create_model("fcnet", num_classes=3, in_channels=2, hidden=[8, 4, 2])
    widths = [
        [m.out_features for m in net.modules() if isinstance(m, nn.Linear)] for net in (one, two, generic)
    ]
    assert widths == [[20, 2], [20, 20, 2], [8, 4, 2, 3]]


def test_an_fcnet_given_an_image_shape_flattens_the_images() -> None:
    model = create_model("fcnet-1x20", num_classes=10, in_channels=1, input_shape=MNIST)
    assert model(torch.zeros(4, *MNIST)).shape == (4, 10)


@pytest.mark.parametrize("name", ["vgg16", "preresnet20"])
def test_slimming_models_start_with_bn_gamma_half_and_bias_free_convs(name: str) -> None:
    model = create_model(name, num_classes=10, in_channels=3)
    gammas = torch.cat([m.weight.detach() for m in model.modules() if isinstance(m, nn.BatchNorm2d)])
    assert torch.all(gammas == 0.5)
    assert all(m.bias is None for m in model.modules() if isinstance(m, nn.Conv2d))


def test_vgg16_has_thirteen_convs_and_one_linear() -> None:
    model = create_model("vgg16", num_classes=100, in_channels=3)
    assert sum(isinstance(m, nn.Conv2d) for m in model.modules()) == 13
    assert [m.out_features for m in model.modules() if isinstance(m, nn.Linear)] == [100]


@pytest.mark.parametrize(("depth", "blocks"), [(20, 2), (56, 6), (101, 11)])
def test_preresnet_depth_counts_bottleneck_blocks_per_stage(depth: int, blocks: int) -> None:
    model = create_model("preresnet", num_classes=10, in_channels=3, depth=depth)
    assert [len(stage) for stage in (model.layer1, model.layer2, model.layer3)] == [blocks] * 3
    main_path_convs = [
        m for n, m in model.named_modules() if isinstance(m, nn.Conv2d) and "downsample" not in n
    ]
    assert len(main_path_convs) + 1 == depth  # the stem, 3 convs per block, and the linear layer


@pytest.mark.parametrize("depth", [18, 21, 2, 0])
def test_a_preresnet_depth_that_is_not_9n_plus_2_is_refused_clearly(depth: int) -> None:
    with pytest.raises(BadInputError, match=r"9n\+2") as caught:
        create_model("preresnet", num_classes=10, in_channels=3, depth=depth)
    assert str(depth) in str(caught.value)


def test_the_preresnet_depth_error_names_the_nearest_valid_depths() -> None:
    with pytest.raises(BadInputError, match=r"Nearest valid: 20, 11"):
        create_model("preresnet", num_classes=10, in_channels=3, depth=18)


def test_vgg_refuses_images_too_small_for_its_four_pools() -> None:
    with pytest.raises(BadInputError, match="at least 16x16"):
        create_model("vgg16", num_classes=10, in_channels=1, input_shape=DIGITS)


def test_an_image_model_refuses_point_data_and_mismatched_channels() -> None:
    with pytest.raises(BadInputError, match="takes images"):
        create_model("convnet-small", num_classes=2, in_channels=2, input_shape=POINTS)
    with pytest.raises(BadInputError, match="in_channels=3"):
        create_model("convnet-small", num_classes=10, in_channels=3, input_shape=MNIST)
