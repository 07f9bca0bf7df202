"""Spline pruning cost: global plan for ResNet-50 and layerwise plan for CIFAR VGG-16, against a forward pass.

Times (best of ``--repeats``) the scoring and selection of
- global spline pruning (PCA to a common dimension, Eq. 2, greedy orders, merge by cost) over every conv of a
  randomly initialised torchvision ResNet-50 (53 convs, 26,560 channels) at ratio 0.5; goal <= 1 s;
- layerwise spline pruning over the 13 convs of CIFAR VGG-16 (4,224 channels) at ratio 0.5; goal <= 0.2 s;
and, in the same run, one forward pass of a batch of each model (ResNet-50: 8 x 3 x 224 x 224, VGG-16:
128 x 3 x 32 x 32) as the baseline the ratios are given against. Gathering the layers (one hooked forward at
batch 1 plus BN folding) is timed separately. BN statistics are randomised (seeded) so that the folded biases,
and with them Eq. 2's rho term, are not all zero as they are at initialisation.

    .venv/bin/python benchmarks/spline_pruning.py [--repeats 3] [--threads N] [--fa]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch
import torchvision
from torch import nn

from splinebench.spline import affine_units, global_plan, layerwise_plan
from splinebench.zoo import create_model


def best_of(repeats: int, action: Callable[[], object]) -> float:
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return min(timings)


def randomise_batch_norms(model: nn.Module, seed: int = 0) -> None:
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                size = module.num_features
                module.weight.copy_(torch.rand(size, generator=generator) + 0.5)
                module.bias.copy_(torch.randn(size, generator=generator) * 0.2)
                module.running_mean.copy_(torch.randn(size, generator=generator) * 0.2)
                module.running_var.copy_(torch.rand(size, generator=generator) + 0.5)


def forward_seconds(model: nn.Module, batch: torch.Tensor, repeats: int) -> float:
    model.eval()
    with torch.no_grad():
        model(batch)  # warm-up
        return best_of(repeats, lambda: model(batch))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--ratio", type=float, default=0.5)
    parser.add_argument("--fa", action="store_true", help="also time the global plan with factor analysis")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, best of {args.repeats}")

    resnet = torchvision.models.resnet50(weights=None)
    randomise_batch_norms(resnet)
    start = time.perf_counter()
    resnet_units = affine_units(resnet, torch.randn(1, 3, 224, 224), layers=("*conv*", "*downsample.0"))
    gather = time.perf_counter() - start
    channels = sum(w.shape[0] for w, _ in resnet_units.values())
    plan_seconds = best_of(args.repeats, lambda: global_plan(resnet_units, args.ratio))
    baseline = forward_seconds(resnet, torch.randn(8, 3, 224, 224), args.repeats)
    removed = sum(len(v) for v in global_plan(resnet_units, args.ratio).values())
    print(
        f"ResNet-50 global (PCA, ratio {args.ratio}): {len(resnet_units)} convs, {channels} channels, {removed} removed"
    )
    print(f"  gather layers + fold BN: {gather:.3f} s (one hooked forward at batch 1)")
    print(f"  scoring + selection:     {plan_seconds:.3f} s   (goal <= 1 s)")
    print(f"  baseline forward, batch 8 x 224^2: {baseline:.3f} s -> ratio {plan_seconds / baseline:.2f}")
    if args.fa:
        fa_seconds = best_of(1, lambda: global_plan(resnet_units, args.ratio, reducer="fa"))
        print(f"  scoring + selection with FA: {fa_seconds:.3f} s -> ratio {fa_seconds / baseline:.2f}")

    vgg = create_model("vgg16", num_classes=10, in_channels=3)
    randomise_batch_norms(vgg)
    vgg_units = affine_units(vgg, torch.randn(1, 3, 32, 32), layers=("features.*",))
    layer_seconds = best_of(args.repeats, lambda: layerwise_plan(vgg_units, args.ratio))
    vgg_baseline = forward_seconds(vgg, torch.randn(128, 3, 32, 32), args.repeats)
    channels = sum(w.shape[0] for w, _ in vgg_units.values())
    print(f"CIFAR VGG-16 layerwise (ratio {args.ratio}): {len(vgg_units)} convs, {channels} channels")
    print(f"  scoring + selection:     {layer_seconds:.3f} s   (goal <= 0.2 s)")
    print(f"  baseline forward, batch 128 x 32^2: {vgg_baseline:.3f} s -> ratio {layer_seconds / vgg_baseline:.2f}")


if __name__ == "__main__":
    main()
