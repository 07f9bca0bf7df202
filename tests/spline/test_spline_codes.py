"""Partition codes: what the tracker records, how it names layers, and that it leaves the model as it was."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from splinebench.spline import (
    PartitionCodes,
    PartitionTracker,
    canvas_probe,
    pack_signs,
    pack_signs_on_device,
)


class SharedReluBlock(nn.Module):
    """Like torchvision's BasicBlock: one in-place ``relu`` module called twice per forward."""

    def __init__(self, width: int = 3) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.conv2(out) + x)


class TinyNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(1, 3, 3, padding=1)
        self.act = nn.LeakyReLU(0.1)
        self.block = SharedReluBlock(3)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 5), nn.ReLU(), nn.Linear(5, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.block(self.act(self.stem(x))))


def _manual_pre_activations(net: TinyNet, x: torch.Tensor) -> dict[str, torch.Tensor]:
    with torch.no_grad():
        stem = net.stem(x)
        a = net.act(stem)
        first = net.block.bn1(net.block.conv1(a))
        second = net.block.conv2(torch.relu(first)) + a
        hidden = net.head[1](torch.relu(second).flatten(1))
    return {"act": stem, "block.relu#0": first, "block.relu#1": second, "head.2": hidden}


def _all_hooks(model: nn.Module) -> int:
    return sum(len(m._forward_pre_hooks) + len(m._forward_hooks) for m in model.modules())


def test_a_relu_called_twice_gives_two_named_layers() -> None:
    torch.manual_seed(0)
    net = TinyNet()
    tracker = PartitionTracker(net, torch.randn(4, 1, 4, 4))
    assert tracker.tracked_layers == ["act", "block.relu#0", "block.relu#1", "head.2"]


def test_layer_patterns_narrow_the_tracked_layers() -> None:
    net = TinyNet()
    tracker = PartitionTracker(net, torch.randn(4, 1, 4, 4), layers=("block.*",))
    assert tracker.tracked_layers == ["block.relu#0", "block.relu#1"]
    with pytest.raises(ValueError, match="no ReLU"):
        PartitionTracker(net, torch.randn(4, 1, 4, 4), layers=("nothing*",))


def test_capture_records_the_sign_of_every_relu_input() -> None:
    torch.manual_seed(1)
    net = TinyNet()
    with torch.no_grad():  # move the BN away from identity so eval-mode statistics matter
        net.block.bn1.running_mean.uniform_(-0.5, 0.5)
        net.block.bn1.running_var.uniform_(0.5, 2.0)
    probes = torch.randn(37, 1, 4, 4)
    codes = PartitionTracker(net, probes, batch_size=8).capture()
    net.eval()
    expected = _manual_pre_activations(net, probes)
    assert codes.n_samples == 37
    for name, pre in expected.items():
        bits = pre[0].numel()
        assert codes.bits[name] == bits
        unpacked = np.unpackbits(codes.layers[name], axis=1, count=bits).astype(bool)
        np.testing.assert_array_equal(unpacked, (pre > 0).reshape(37, -1).numpy())


def test_an_exact_zero_input_is_recorded_as_off() -> None:
    layer = nn.Linear(2, 3)
    with torch.no_grad():
        layer.weight.zero_()
        layer.bias.copy_(torch.tensor([1.0, 0.0, -1.0]))
    model = nn.Sequential(layer, nn.ReLU())
    codes = PartitionTracker(model, torch.randn(5, 2)).capture()
    unpacked = np.unpackbits(codes.layers["1"], axis=1, count=3)
    np.testing.assert_array_equal(unpacked, np.tile([1, 0, 0], (5, 1)))


def test_capture_leaves_no_hooks_and_restores_each_modules_mode() -> None:
    net = TinyNet()
    net.train()
    net.block.bn1.eval()  # a frozen BN must stay frozen
    running_mean = net.block.bn1.running_mean.clone()
    tracker = PartitionTracker(net, torch.randn(6, 1, 4, 4))
    tracker.capture()
    assert _all_hooks(net) == 0
    assert net.training and net.stem.training
    assert not net.block.bn1.training
    torch.testing.assert_close(net.block.bn1.running_mean, running_mean)


def test_hooks_are_removed_even_when_the_forward_fails() -> None:
    net = TinyNet()
    tracker = PartitionTracker(net, torch.randn(3, 1, 4, 4))
    tracker.probe_inputs = torch.randn(3, 1, 5, 5)  # wrong size: the Linear head fails
    with pytest.raises(RuntimeError):
        tracker.capture()
    assert _all_hooks(net) == 0


def test_device_packing_matches_numpy_packbits() -> None:
    signs = torch.randn(9, 21) > 0
    np.testing.assert_array_equal(pack_signs_on_device(signs).numpy(), np.packbits(signs.numpy(), axis=1))
    np.testing.assert_array_equal(pack_signs(torch.randn(4, 2, 3)).shape, (4, 1))


def test_subset_keeps_matching_layers_in_order() -> None:
    codes = PartitionCodes(
        layers={n: np.zeros((2, 1), np.uint8) for n in ("a.relu", "b.relu", "c")},
        bits={"a.relu": 3, "b.relu": 8, "c": 1},
        n_samples=2,
    )
    sub = codes.subset(["*.relu"])
    assert sub.layer_names == ["a.relu", "b.relu"]
    assert sub.nbytes == 4
    with pytest.raises(ValueError):
        codes.subset("zzz")


def test_codes_with_a_wrong_byte_count_are_rejected() -> None:
    with pytest.raises(ValueError, match="expected uint8"):
        PartitionCodes(layers={"a": np.zeros((2, 2), np.uint8)}, bits={"a": 3}, n_samples=2)


def test_canvas_probe_follows_the_seed_codes_grid_order() -> None:
    img0 = torch.tensor([[1.0, 0.0]])
    img1 = torch.tensor([[0.0, 1.0]])
    canvas = canvas_probe(img0, img1, grid=3)
    assert canvas.shape == (9, 1, 2)
    # sample i * grid + j has a = lin[j] (weight of img0), b = lin[i] (weight of img1)
    torch.testing.assert_close(canvas[1, 0], torch.tensor([0.5, 0.0]))
    torch.testing.assert_close(canvas[3, 0], torch.tensor([0.0, 0.5]))
    torch.testing.assert_close(canvas[8, 0], torch.tensor([1.0, 1.0]))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_capture_on_cuda_packs_on_the_device_like_numpy() -> None:
    torch.manual_seed(2)
    net = TinyNet().cuda()
    probes = torch.randn(37, 1, 4, 4, device="cuda")
    codes = PartitionTracker(net, probes, batch_size=8).capture()
    net.eval()
    # same batch shapes as the capture, so the same kernels and bit-identical pre-activations
    chunks = [_manual_pre_activations(net, probes[i : i + 8]) for i in range(0, 37, 8)]
    for name in codes.layers:
        pre = torch.cat([chunk[name] for chunk in chunks])
        unpacked = np.unpackbits(codes.layers[name], axis=1, count=codes.bits[name]).astype(bool)
        np.testing.assert_array_equal(unpacked, (pre > 0).reshape(37, -1).cpu().numpy())
    signs = torch.randn(5, 29, device="cuda") > 0
    np.testing.assert_array_equal(pack_signs_on_device(signs).cpu().numpy(), np.packbits(signs.cpu().numpy(), axis=1))
