"""ThiNet — Luo, Wu & Lin, "ThiNet: A Filter Level Pruning Method for Deep Neural Network Compression", ICCV
2017.

A layer's channel c may go if the *next* layer's output hardly changes without it. Sec. 3.2: sample entries
``y`` of the next layer's output (a random image, output channel and spatial position); each is a sum over
input channels, ``y = sum_c xhat_c + b`` with ``xhat_c = sum_k W[o, c, k] * x[c, k]`` (Eq. 3-4). Pruning the
set T of channels removes ``sum_{c in T} xhat_c`` from every sample, so ThiNet picks T of size m to minimise
the reconstruction error (Eq. 5) ``sum_i (sum_{c in T} xhat_ic)^2``, greedily (Alg. 1): start from T = {} and
repeatedly add the channel that keeps the error smallest. Here ``m = round(ratio * K)`` per layer the shared
applier can prune alone.

What we leave out, and why: Eq. 6's least-squares rescaling of the surviving weights (a plan never edits
weights; retraining follows, as in the paper's fine-tuning), and the layer-by-layer prune/fine-tune loop (one
plan on the trained model; every layer is scored on its unpruned neighbours). Consumers are found with
Torch-Pruning's dependency graph, so a layer feeding a flattening Linear, or several layers, is handled with
the right index map. Sampling: ``batches`` training batches from ``ctx.batches``, ``positions`` output entries
per batch and consumer (Luo et al. sample 10 per image; a few hundred in all keep CPU runs of small nets
fast).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from baselines._common import units_to_remove
from splinebench.prune.interface import PruneContext, Pruner
from splinebench.prune.plan import Plan
from splinebench.prune.units import PRUNABLE_TYPES, _out_pruning_fn, build_graph, prunable_layers


@dataclass
class ConsumerSamples:
    """Per independent layer: xhat (samples x its channels); the sampled next-layer outputs minus bias (by
    Eq. 3 the row sums of xhat, when the next layer reads only this layer); layers no conv/linear reads."""

    xhat: dict[str, torch.Tensor]
    targets: dict[str, torch.Tensor]
    skipped: list[str]


def reconstruction_error(contributions: torch.Tensor, removed: list[int]) -> float:
    """Eq. 5: ``sum_i (sum_{c in removed} xhat_ic)^2`` for contributions of shape (samples, channels)."""
    if not removed:
        return 0.0
    return float(contributions[:, removed].sum(dim=1).pow(2).sum())


def greedy_channel_selection(contributions: torch.Tensor, count: int) -> list[int]:
    """Alg. 1: grow the removed set T one channel at a time, each time the one keeping Eq. 5 lowest."""
    contributions = contributions.double()
    channels = contributions.shape[1]
    running = torch.zeros(contributions.shape[0], dtype=torch.float64)  # sum over T of xhat, per sample
    available = torch.ones(channels, dtype=torch.bool)
    removed: list[int] = []
    for _ in range(count):
        errors = (running[:, None] + contributions).pow(2).sum(dim=0)
        errors[~available] = float("inf")
        best = int(torch.argmin(errors))  # ties: the lowest index
        removed.append(best)
        available[best] = False
        running += contributions[:, best]
    return sorted(removed)


class _ConsumerSampler:
    """Forward hook on a next layer: per-channel contributions xhat (Eq. 4) at random output entries."""

    def __init__(self, module: nn.Module, idxs: list[int], root_idxs: list[int], units: int, positions: int,
                 generator: torch.Generator) -> None:
        self.module, self.units, self.positions, self.generator = module, units, positions, generator
        self.idxs = torch.tensor(idxs, dtype=torch.long)
        self.root_idxs = torch.tensor(root_idxs, dtype=torch.long)
        self.samples: list[torch.Tensor] = []
        self.targets: list[torch.Tensor] = []  # sampled outputs minus bias: by Eq. 3, sum_c xhat_c

    def __call__(self, module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        x = inputs[0].detach().float()
        weight = module.weight.detach().float()
        out = output.detach().float()
        if isinstance(module, nn.Conv2d):
            contrib, picked = self._conv(module, x, weight)
            target = out.reshape(out.shape[0], out.shape[1], -1)[picked]
        else:
            contrib, picked = self._linear(x, weight)
            target = out.reshape(-1, out.shape[-1])[picked]
        if module.bias is not None:
            target = target - module.bias.detach().float()[picked[1]]
        self.targets.append(target.cpu())
        per_channel = torch.zeros(contrib.shape[0], self.units, dtype=contrib.dtype)
        per_channel.index_add_(1, self.root_idxs, contrib[:, self.idxs].cpu())
        self.samples.append(per_channel)

    def _draw(self, high: int) -> torch.Tensor:
        return torch.randint(high, (self.positions,), generator=self.generator)

    def _conv(self, conv: nn.Conv2d, x: torch.Tensor, weight: torch.Tensor
              ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """xhat (positions x input channels) at random (image, output channel, location), and where."""
        patches = F.unfold(x, conv.kernel_size, conv.dilation, conv.padding, conv.stride)  # N, C*k, L
        image = self._draw(patches.shape[0]).to(x.device)
        out_channel = self._draw(weight.shape[0]).to(x.device)
        location = self._draw(patches.shape[2]).to(x.device)
        channels = weight.shape[1]
        picked = patches[image, :, location].reshape(self.positions, channels, -1)
        kernels = weight.reshape(weight.shape[0], channels, -1)[out_channel]
        return (picked * kernels).sum(dim=-1), (image, out_channel, location)

    def _linear(self, x: torch.Tensor, weight: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        x = x.reshape(-1, x.shape[-1])
        row, out_unit = self._draw(x.shape[0]).to(x.device), self._draw(weight.shape[0]).to(x.device)
        return x[row] * weight[out_unit], (row, out_unit)  # positions x input features


class ThiNet(Pruner):
    name = "thinet"
    description = "ThiNet (Luo et al. 2017): greedy channels minimising the next layer's reconstruction error"
    structured = True
    data_driven = True
    acts_on = "trained"

    def __init__(self, batches: int = 4, positions: int = 128) -> None:
        super().__init__(batches=batches, positions=positions)
        if batches < 1 or positions < 1:
            raise ValueError(f"ThiNet needs batches >= 1 and positions >= 1, got {batches!r}, {positions!r}")
        self.batches, self.positions = int(batches), int(positions)

    def sample(self, model: nn.Module, ctx: PruneContext) -> ConsumerSamples:
        """Sampled contributions per independent layer, gathered from its next layers on ``ctx.batches``."""
        graph = build_graph(model, ctx.example_input)
        generator = torch.Generator().manual_seed(ctx.seed)
        samplers: dict[str, list[_ConsumerSampler]] = {}
        skipped: list[str] = []
        for layer in prunable_layers(model, ctx.example_input, graph):
            if not layer.independent:
                continue
            everything = list(range(layer.units))
            group = graph.get_pruning_group(layer.module, _out_pruning_fn(layer.module), everything)
            found = []
            for item in group:
                target = item.dep.target.module
                usable = isinstance(target, nn.Linear) or (
                    isinstance(target, nn.Conv2d) and target.groups == 1)
                if (target is not layer.module and isinstance(target, PRUNABLE_TYPES) and usable
                        and graph.is_in_channel_pruning_fn(item.dep.handler)):
                    found.append(_ConsumerSampler(target, list(item.idxs), list(item.root_idxs), layer.units,
                                                  self.positions, generator))
            if found:
                samplers[layer.name] = found
            else:
                skipped.append(layer.name)
        handles = [s.module.register_forward_hook(s) for group in samplers.values() for s in group]
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                for x, _ in ctx.batches(self.batches):
                    model(x)
        finally:
            model.train(was_training)
            for handle in handles:
                handle.remove()
        return ConsumerSamples(
            xhat={name: torch.cat([torch.cat(s.samples) for s in group]) for name, group in samplers.items()},
            targets={name: torch.cat([torch.cat(s.targets) for s in group])
                     for name, group in samplers.items()},
            skipped=skipped,
        )

    def plan(self, model: nn.Module, ratio: float, ctx: PruneContext) -> Plan:
        samples = self.sample(model, ctx)
        remove = {
            name: greedy_channel_selection(xhat, units_to_remove(ratio, xhat.shape[1]))
            for name, xhat in samples.xhat.items()
        }
        return Plan.channels(remove, batches=self.batches, positions=self.positions,
                             kept_without_next_layer=samples.skipped)
