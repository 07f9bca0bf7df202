"""Partition codes: which side of every ReLU's subdivision line each probe input lies on.

Paper Sec. 3.2 and Appendix L: a ReLU network cuts its input space into regions, and the region an input lies
in is named by the on/off pattern of every ReLU unit for that input (its *binary code*). Recording that
pattern over a fixed probe set at two training epochs, and counting how many bits changed, measures how far
the partition moved. The authors' code keeps float activations (about 11 GB per VGG-16 snapshot on its
canvas); here each unit at each spatial position for each sample costs one bit, packed with ``np.packbits``,
which is what makes tracking during training affordable.

What is recorded: the sign of every input to an ``nn.ReLU`` / ``nn.LeakyReLU`` *module call* (``> 0`` is 1, an
exact 0 is 0), captured with forward *pre*-hooks so that in-place ReLUs are seen before they overwrite their
input. A module called several times per forward (torchvision's ``BasicBlock`` reuses one ``relu``) gives one
tracked layer per call, named ``"<module path>#<call index>"``. Functional ``F.relu`` calls are invisible to
module hooks and are not tracked: ``PartitionTracker.tracked_layers`` says exactly what is.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from splinebench.spline._model import EvalMode, model_device
from splinebench.spline.activations import require_spline

#: Module types whose inputs are recorded. LeakyReLU has the same kink at 0 (Appendix N).
TRACKED_ACTIVATIONS: tuple[type[nn.Module], ...] = (nn.ReLU, nn.LeakyReLU)

_BIT_WEIGHTS = (128, 64, 32, 16, 8, 4, 2, 1)  # np.packbits' default big-endian bit order


@dataclass
class PartitionCodes:
    """Bit-packed partition codes of one snapshot of a model.

    ``layers[name]`` is a uint8 array ``[n_samples, ceil(bits[name] / 8)]`` holding, per sample, the signs of
    that layer's ReLU inputs flattened in (channel, height, width) order and packed big-endian by
    ``np.packbits`` (padding bits in the last byte are 0). ``bits[name]`` is the true number of bits per
    sample.
    """

    layers: dict[str, np.ndarray]
    bits: dict[str, int]
    n_samples: int

    def __post_init__(self) -> None:
        if set(self.layers) != set(self.bits):
            raise ValueError(
                f"PartitionCodes: layers {sorted(self.layers)} and bits {sorted(self.bits)} name different layers"
            )
        for name, packed in self.layers.items():
            expected = (self.n_samples, (self.bits[name] + 7) // 8)
            if packed.dtype != np.uint8 or packed.shape != expected:
                raise ValueError(
                    f"PartitionCodes: layer {name!r} holds {packed.dtype} {packed.shape}, "
                    f"expected uint8 {expected} "
                    f"for {self.n_samples} samples of {self.bits[name]} bits"
                )

    @property
    def layer_names(self) -> list[str]:
        """Layer names in the order the network computes them."""
        return list(self.layers)

    @property
    def nbytes(self) -> int:
        """Bytes held by the packed codes (what a snapshot costs in memory)."""
        return int(sum(packed.nbytes for packed in self.layers.values()))

    @property
    def bits_per_sample(self) -> int:
        """Total code length of one sample over all layers."""
        return int(sum(self.bits.values()))

    def subset(self, patterns: str | Iterable[str]) -> PartitionCodes:
        """The codes of the layers whose names match any of the fnmatch ``patterns`` (order kept).

        Raises ValueError when nothing matches, since an empty snapshot would make every distance undefined.
        """
        if isinstance(patterns, str):
            patterns = (patterns,)
        patterns = tuple(patterns)
        names = [name for name in self.layers if any(fnmatch.fnmatchcase(name, p) for p in patterns)]
        if not names:
            raise ValueError(f"no tracked layer matches {list(patterns)}; tracked layers: {list(self.layers)}")
        return PartitionCodes(
            layers={name: self.layers[name] for name in names},
            bits={name: self.bits[name] for name in names},
            n_samples=self.n_samples,
        )


def pack_signs(pre_activation: torch.Tensor) -> np.ndarray:
    """Pack ``pre_activation > 0`` per sample into a uint8 array ``[batch, ceil(bits / 8)]``.

    On the CPU this is ``np.packbits``; on an accelerator the packing runs on the device
    (``pack_signs_on_device``, same bit order) so that only one eighth of the bits cross to the host.
    """
    signs = (pre_activation.detach() > 0).reshape(pre_activation.shape[0], -1)
    if signs.device.type == "cpu":
        return np.packbits(signs.numpy(), axis=1)
    return pack_signs_on_device(signs).cpu().numpy()


def pack_signs_on_device(signs: torch.Tensor) -> torch.Tensor:
    """``np.packbits(signs, axis=1)`` computed in torch on the tensor's own device (bool ``[B, n]`` in)."""
    pad = (-signs.shape[1]) % 8
    if pad:
        signs = torch.nn.functional.pad(signs, (0, pad))
    weights = torch.tensor(_BIT_WEIGHTS, dtype=torch.uint8, device=signs.device)
    return (signs.reshape(signs.shape[0], -1, 8).to(torch.uint8) * weights).sum(-1, dtype=torch.uint8)


def canvas_probe(img0: torch.Tensor, img1: torch.Tensor, grid: int = 100) -> torch.Tensor:
    """The seed code's 2-D canvas probe: ``a * img0 + b * img1`` for a, b on a ``grid x grid`` lattice over
    [0, 1].

    Sample ``i * grid + j`` has ``a = lin[j]`` and ``b = lin[i]`` (``lin = linspace(0, 1, grid)``), the order
    of ``np.meshgrid`` in the authors' ``getCanvas``, so a row of the canvas varies ``a``. Returns
    ``[grid * grid, *img0.shape]``.
    """
    if img0.shape != img1.shape:
        raise ValueError(f"canvas_probe: the two images differ in shape: {tuple(img0.shape)} vs {tuple(img1.shape)}")
    if grid < 2:
        raise ValueError(f"canvas_probe: grid must be at least 2, got {grid}")
    lin = torch.linspace(0.0, 1.0, grid, dtype=img0.dtype, device=img0.device)
    b, a = torch.meshgrid(lin, lin, indexing="ij")
    view = (-1,) + (1,) * img0.dim()
    return a.reshape(view) * img0.unsqueeze(0) + b.reshape(view) * img1.unsqueeze(0)


class PartitionTracker:
    """Records the partition codes of a model over a fixed probe set.

    ``tracked_layers`` is found once, at construction, by running one probe sample through the model and
    noting every ReLU/LeakyReLU module call; ``layers`` are fnmatch patterns that narrow that list (e.g.
    ``("features.*",)``). ``capture()`` then runs the whole probe set in eval mode under ``no_grad`` with
    temporary hooks (removed afterwards, even on error) and returns :class:`PartitionCodes`.
    """

    def __init__(
        self,
        model: nn.Module,
        probe_inputs: torch.Tensor,
        layers: Sequence[str] = ("*",),
        batch_size: int = 256,
    ) -> None:
        if probe_inputs.dim() < 2 or probe_inputs.shape[0] == 0:
            raise ValueError(f"probe_inputs must be a non-empty batch [N, ...], got shape {tuple(probe_inputs.shape)}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        if isinstance(layers, str):
            layers = (layers,)
        require_spline(model, "partition tracking")  # codes of a GELU/SiLU net's few ReLUs would mislead
        self.model = model
        self.probe_inputs = probe_inputs
        self.batch_size = batch_size
        self.patterns = tuple(layers)
        self._calls_per_module = self._discover_calls(model)
        all_layers = self._layer_names(self._calls_per_module)
        self.tracked_layers: list[str] = [
            name for name in all_layers if any(fnmatch.fnmatchcase(name, p) for p in self.patterns)
        ]
        if not self.tracked_layers:
            raise ValueError(
                f"no ReLU/LeakyReLU layer matches {list(self.patterns)}; the model has: {all_layers or 'none'}"
            )

    @staticmethod
    def _layer_names(calls_per_module: dict[str, int]) -> list[str]:
        # Kept in call order: dicts preserve the order modules were first called in.
        names: list[str] = []
        for module_name, calls in calls_per_module.items():
            names.extend([module_name] if calls == 1 else [f"{module_name}#{i}" for i in range(calls)])
        return names

    def _activation_modules(self, model: nn.Module) -> dict[str, nn.Module]:
        return {name: m for name, m in model.named_modules() if isinstance(m, TRACKED_ACTIVATIONS)}

    def _discover_calls(self, model: nn.Module) -> dict[str, int]:
        """Call count of each activation module in one forward, keyed in first-call order."""
        calls: dict[str, int] = {}
        handles = []

        def make_hook(name: str):
            def count(_module: nn.Module, _args: tuple) -> None:
                calls[name] = calls.get(name, 0) + 1

            return count

        try:
            for name, module in self._activation_modules(model).items():
                handles.append(module.register_forward_pre_hook(make_hook(name)))
            with EvalMode(model), torch.no_grad():
                model(self.probe_inputs[:1].to(model_device(model)))
        finally:
            for handle in handles:
                handle.remove()
        return calls

    def capture(self, model: nn.Module | None = None) -> PartitionCodes:
        """Run the probe set through ``model`` (default: the tracker's) and return its partition codes.

        ``model`` may be another instance of the same architecture (e.g. a checkpoint copy); its activation
        calls must match the ones found at construction.
        """
        model = self.model if model is None else model
        modules = self._activation_modules(model)
        missing = [name for name in self._calls_per_module if name not in modules]
        if missing:
            raise ValueError(f"the model has no activation module(s) {missing} that the tracker was built for")
        wanted = set(self.tracked_layers)
        n_samples = self.probe_inputs.shape[0]
        out: dict[str, np.ndarray] = {}
        on_device: dict[str, list[torch.Tensor]] = {}
        bits: dict[str, int] = {}
        state = {"start": 0, "calls": {}}

        def make_hook(module_name: str):
            total_calls = self._calls_per_module[module_name]

            def record(_module: nn.Module, args: tuple) -> None:
                index = state["calls"].get(module_name, 0)
                state["calls"][module_name] = index + 1
                if index >= total_calls:
                    raise RuntimeError(
                        f"{module_name} was called more than the {total_calls} time(s) seen at construction; "
                        "partition tracking needs a forward whose ReLU calls do not depend on the input"
                    )
                layer = module_name if total_calls == 1 else f"{module_name}#{index}"
                if layer not in wanted:
                    return
                pre_activation = args[0].detach()
                bits.setdefault(layer, int(pre_activation[0].numel()))
                if pre_activation.device.type != "cpu":
                    # stay on the device: no host sync inside the forward, one copy per layer at the end
                    signs = (pre_activation > 0).reshape(pre_activation.shape[0], -1)
                    on_device.setdefault(layer, []).append(pack_signs_on_device(signs))
                    return
                packed = pack_signs(pre_activation)
                if layer not in out:
                    out[layer] = np.empty((n_samples, packed.shape[1]), dtype=np.uint8)
                start = state["start"]
                out[layer][start : start + packed.shape[0]] = packed

            return record

        handles = []
        device = model_device(model)
        try:
            for module_name in self._calls_per_module:
                handles.append(modules[module_name].register_forward_pre_hook(make_hook(module_name)))
            with EvalMode(model), torch.no_grad():
                for start in range(0, n_samples, self.batch_size):
                    state["start"] = start
                    state["calls"] = {}
                    batch = self.probe_inputs[start : start + self.batch_size].to(device, non_blocking=True)
                    model(batch)
        finally:
            for handle in handles:
                handle.remove()
        for layer, parts in on_device.items():
            out[layer] = torch.cat(parts).cpu().numpy()
        not_seen = [name for name in self.tracked_layers if name not in out]
        if not_seen:
            raise RuntimeError(f"tracked layer(s) {not_seen} were not called during capture")
        ordered = {name: out[name] for name in self.tracked_layers}
        return PartitionCodes(
            layers=ordered, bits={name: bits[name] for name in self.tracked_layers}, n_samples=n_samples
        )
