"""What splinebench can do with each standard architecture, checked by running it (docs/support-matrix.md).

For every model of ``MATRIX_MODELS`` (built from torchvision, timm or our zoo at small inputs, width-reduced where
the factory takes it) each capability is *run*, not assumed: partition codes of a probe batch, the spline early-bird
detector over a few perturbed snapshots, spline pruning (layerwise and global) and every structured baseline through
the one applier (channel removal with Torch-Pruning), a forward/backward pass after pruning, asked vs achieved ratio
per layer, and export/reload in the saved-model format (and ONNX when asked). A cell is ``ok`` (with the achieved
ratio), ``refused`` (a deliberate, named refusal: a spline method on a GELU/SiLU/ReLU6 net) or ``fails`` (an
unexpected error, a bug to fix). ``benchmarks/support_matrix.py`` writes the document; ``tests/engine`` runs it.
"""

from __future__ import annotations

import contextlib
import copy
import io
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from splinebench.engine import checkpoints
from splinebench.engine.training import check_forward_backward
from splinebench.errors import BadInputError
from splinebench.prune import PruneContext, apply_plan, create_pruner, prunable_layers
from splinebench.spline import EarlyBirdDetector, PartitionTracker, partition_distance
from splinebench.spline.activations import NotASplineError, non_spline_activations, require_spline
from splinebench.zoo import create_model

_NORMS = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm)
STRUCTURED_BASELINES = ("ns", "eb-mask", "thinet", "l1-norm", "random")
PRUNING = ("spline:layerwise", "spline:global", *STRUCTURED_BASELINES)
CAPABILITIES = ("codes", "eb", *PRUNING, "export")


@dataclass(frozen=True)
class MatrixModel:
    """One row: a display name, the registry name and options that build it small, and whether it is slow."""

    label: str
    name: str
    options: dict[str, Any] = field(default_factory=dict)
    input_shape: tuple[int, int, int] = (3, 32, 32)
    slow: bool = False
    note: str = ""


_QUARTER_VGG16 = (16, 16, "M", 32, 32, "M", 64, 64, 64, "M", 128, 128, 128, "M", 128, 128, 128)
#: options that keep the data-driven baseline affordable on a CPU (the matrix checks that it runs, not how well)
PRUNER_OPTIONS: dict[str, dict[str, Any]] = {"thinet": {"batches": 1, "positions": 32}}

MATRIX_MODELS: tuple[MatrixModel, ...] = (
    MatrixModel("VGG-16-BN", "vgg16", {"cfg": _QUARTER_VGG16}, note="ours (the paper's CIFAR VGG-16-BN), 1/4 width"),
    MatrixModel("ResNet-18", "tv:resnet18"),
    MatrixModel("ResNet-18 (timm)", "timm:resnet18"),
    MatrixModel("ResNet-50", "tv:resnet50", slow=True),
    MatrixModel("PreResNet-20", "preresnet20", note="ours (the paper's PreResNet family)"),
    MatrixModel("MobileNetV2", "tv:mobilenet_v2", {"width_mult": 0.5}, note="width 0.5"),
    MatrixModel("DenseNet-121", "tv:densenet121", slow=True),
    MatrixModel("EfficientNet-B0", "timm:efficientnet_b0", slow=True),
    MatrixModel("ConvNeXt-tiny", "timm:convnext_tiny", {"dims": (24, 48, 96, 192)}, note="dims 24-192"),
    MatrixModel("ViT-tiny", "timm:vit_tiny_patch16_224", {"patch_size": 8, "depth": 2},
                note="patch 8, depth 2, img 32"),
)


@dataclass
class Cell:
    status: str  # "ok" | "refused" | "fails"
    text: str = ""  # achieved ratio, layer count...
    detail: str = ""  # the refusal or error message
    layers: list[dict[str, Any]] = field(default_factory=list)  # per layer: asked vs achieved (pruning cells)


@dataclass
class ModelRow:
    model: MatrixModel
    params: int
    activations: str
    cells: dict[str, Cell]
    seconds: float


def _seeded_batches(shape: tuple[int, ...], batch: int, num_classes: int, seed: int):
    def batches(n: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        generator = torch.Generator().manual_seed(seed)
        for _ in range(n):
            yield (torch.randn(batch, *shape, generator=generator),
                   torch.randint(0, num_classes, (batch,), generator=generator))

    return batches


def _run(check) -> Cell:
    try:
        return check()
    except NotASplineError as error:
        return Cell("refused", "refused", str(error))
    except Exception as error:  # noqa: BLE001 - an unexpected failure is what the matrix exists to show
        return Cell("fails", "fails", f"{type(error).__name__}: {error}"[:300])


def _codes(model: nn.Module, probe: torch.Tensor, name: str) -> Cell:
    require_spline(model, "partition tracking", name)
    tracker = PartitionTracker(model, probe)
    codes = tracker.capture(model)
    return Cell("ok", f"{len(tracker.tracked_layers)} layers, {codes.bits_per_sample} bits")


def _early_bird(model: nn.Module, probe: torch.Tensor, seed: int, name: str) -> Cell:
    """Four snapshots whose weights drift less and less: the detector must see shrinking distances and fire."""
    require_spline(model, "the spline early-bird detector", name)
    tracker = PartitionTracker(model, probe)
    moving = copy.deepcopy(model)
    detector = EarlyBirdDetector(eps=0.5, window=2)
    generator = torch.Generator().manual_seed(seed)
    previous = tracker.capture(moving)
    distances = []
    for step in range(1, 5):
        with torch.no_grad():
            for parameter in moving.parameters():
                parameter.add_(torch.randn(parameter.shape, generator=generator) * parameter.std().nan_to_num(0.1)
                               * 0.5 / step**2)
        codes = tracker.capture(moving)
        distances.append(partition_distance(previous, codes).mean_of_layers)
        detector.update(distances[-1])
        previous = codes
    if not detector.fired:
        return Cell("fails", "did not fire", "distances " + ", ".join(f"{d:.3f}" for d in distances))
    return Cell("ok", f"fired at {detector.fired_epoch}")


def _prune(model: nn.Module, pruner: str, ratio: float, ctx: PruneContext) -> tuple[Cell, nn.Module]:
    if pruner.startswith("spline:"):
        instance = create_pruner("spline", scope=pruner.split(":")[1])
    else:
        instance = create_pruner(pruner, **PRUNER_OPTIONS.get(pruner, {}))
    plan = instance.plan(model, ratio, ctx)
    pruned, report = apply_plan(model, plan, ctx.example_input, ctx.init_state)
    check_forward_backward(pruned, next(ctx.batches(1)))
    layers = [r.to_dict() for r in report.layers]
    pruned_layers = sum(1 for r in report.layers if r.units_after < r.units_before)
    kept = sum(1 for r in report.layers if r.reason)
    text = f"{report.achieved_ratio:.2f} ({pruned_layers} pruned, {kept} kept)"
    detail = (f"ratio {ratio:g} asked; the plan asked {report.asked_ratio:.2f} and removed {report.achieved_ratio:.2f} "
              "of all units of the prunable layers")
    cell = Cell("ok", text, detail, layers)
    cell.history = report.history  # type: ignore[attr-defined]  # for the export check
    return cell, pruned


def _export(spec: MatrixModel, pruned: nn.Module, history: list[Any], example: torch.Tensor, num_classes: int,
            onnx: bool) -> Cell:
    """The saved-model format round trip (registry name + history + state_dict), and ONNX when asked."""
    saved = {"model": spec.name, "options": dict(spec.options), "num_classes": num_classes,
             "in_channels": spec.input_shape[0], "example_shape": list(example.shape), "history": history,
             "masks": {}, "state_dict": checkpoints.cpu_state(pruned)}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.pt"
        checkpoints.atomic_save(saved, path)
        reloaded = checkpoints.load_pruned_model(path)
        pruned.eval()
        with torch.no_grad():
            same = torch.allclose(reloaded(example), pruned(example), atol=1e-5)
        if not same:
            return Cell("fails", "reload differs", "the reloaded model's outputs differ")
        text = ".pt"
        if onnx:
            from splinebench.engine.export import export_onnx

            diff = export_onnx(copy.deepcopy(pruned), list(example.shape), Path(tmp) / "model.onnx")
            if diff is not None and diff > 1e-3:
                return Cell("fails", ".pt, onnx differs", f"onnxruntime differs from torch by {diff:.2e}")
            text += ", onnx"
    return Cell("ok", text)


def check_model(spec: MatrixModel, ratio: float = 0.5, batch: int = 4, seed: int = 0, onnx: bool = False) -> ModelRow:
    """Run every capability on one model; never raises for a capability (its cell says what happened)."""
    t0 = time.time()
    num_classes = 10
    torch.manual_seed(seed)
    model = create_model(spec.name, num_classes=num_classes, in_channels=spec.input_shape[0],
                         input_shape=spec.input_shape, **spec.options)
    batches = _seeded_batches(spec.input_shape, batch, num_classes, seed)
    example = next(batches(1))[0]
    probe = torch.randn(8, *spec.input_shape, generator=torch.Generator().manual_seed(seed + 1))
    init_state = checkpoints.cpu_state(model)
    layers = prunable_layers(model, example)
    ctx = PruneContext(example_input=example, batches=batches, init_state=init_state, device=torch.device("cpu"),
                       seed=seed, num_classes=num_classes, prunable=[x.name for x in layers if x.independent],
                       model_name=spec.name)
    cells: dict[str, Cell] = {"codes": _run(lambda: _codes(model, probe, spec.name)),
                              "eb": _run(lambda: _early_bird(model, probe, seed, spec.name))}
    exportable: tuple[nn.Module, list[Any]] | None = None
    for pruner in PRUNING:
        result: list[Any] = []

        def attempt(pruner: str = pruner, result: list[Any] = result) -> Cell:
            torch.manual_seed(seed)
            cell, pruned = _prune(model, pruner, ratio, ctx)
            result.append((pruned, cell.history))  # type: ignore[attr-defined]
            return cell

        cells[pruner] = _run(attempt)
        if result and exportable is None:
            exportable = result[0]
    if exportable is None:
        cells["export"] = Cell("fails", "nothing pruned", "no pruner produced a model to export")
    else:
        cells["export"] = _run(lambda: _export(spec, exportable[0], exportable[1], example, num_classes, onnx))
    return ModelRow(spec, sum(p.numel() for p in model.parameters()), describe_units(model), cells,
                    time.time() - t0)


def activation_kinds(model: nn.Module) -> list[str]:
    return sorted({kind for _, kind in non_spline_activations(model)} |
                  {type(m).__name__ for m in model.modules() if isinstance(m, nn.ReLU | nn.LeakyReLU)})


def describe_units(model: nn.Module) -> str:
    """"ReLU, BatchNorm2d": the activation and normalisation classes of the model."""
    norms = sorted({type(m).__name__ for m in model.modules() if isinstance(m, _NORMS)})
    return ", ".join(activation_kinds(model) + norms)


def find_model(label_or_name: str) -> MatrixModel:
    for spec in MATRIX_MODELS:
        if label_or_name in (spec.label, spec.name):
            return spec
    raise BadInputError(f"no support-matrix model {label_or_name!r}; have: {', '.join(m.label for m in MATRIX_MODELS)}")


# --- the document ------------------------------------------------------------------------------------------------

_MARK = {"ok": "✓", "refused": "✗ refused", "fails": "‼ fails"}


def render_markdown(rows: list[ModelRow], ratio: float, onnx: bool, command: str) -> str:
    """docs/support-matrix.md: the summary table, then per model what was refused and why, and per-layer ratios."""
    lines = [
        "# Support matrix",
        "",
        f"Generated by `{command}` — do not edit by hand; `tests/engine/test_support_matrix.py` re-runs the checks",
        "and compares their outcomes with this file.",
        "",
        "Each cell is a capability *run* on the model (random init, `pretrained=False`, nothing downloaded; 32x32",
        f"inputs, batch 4, seed 0), pruning at ratio {ratio:g}: ✓ worked (pruning cells: the fraction of all units",
        "of the model's conv/linear layers actually removed — lower than the ratio when layers are kept whole — and",
        "the layers pruned / kept), ✗ refused on purpose (the reason is below), ‼ failed",
        "unexpectedly (a bug). Pruning cells remove channels with Torch-Pruning's dependency graph and then run a",
        "forward and backward pass on the pruned model. *export* round-trips the first pruned model through the",
        "saved-model format (registry name + pruning history + state_dict)" + (" and ONNX (onnxruntime within 1e-3)."
                                                                               if onnx else "."),
        "",
        "A spline (partition codes, the spline EB, spline pruning) is defined for (leaky-)ReLU networks only: on",
        "GELU/SiLU/ReLU6 nets those are refused with an error naming the activation, never answered silently.",
        "Layers coupled through residual adds or concatenations keep their width and are reported (\"kept\"): the",
        "ratio is of the units a pruner may remove.",
        "",
        "| model | registry name | activations / norms | params | " + " | ".join(CAPABILITIES) + " |",
        "|---" * (4 + len(CAPABILITIES)) + "|",
    ]
    for row in rows:
        cells = []
        for capability in CAPABILITIES:
            cell = row.cells[capability]
            cells.append(cell.text if cell.status == "ok" else _MARK[cell.status])
        options = ", ".join(f"{k}={v}" for k, v in row.model.options.items())
        name = f"`{row.model.name}`" + (f" ({options})" if options else "")
        lines.append(f"| {row.model.label} | {name} | {row.activations} | {row.params / 1e6:.2f}M | "
                     + " | ".join(cells) + " |")
    lines += ["", "## Refusals and failures", ""]
    for row in rows:
        for capability in CAPABILITIES:
            cell = row.cells[capability]
            if cell.status != "ok":
                lines.append(f"- **{row.model.label}**, {capability} ({cell.status}): {cell.detail}")
    lines += ["", "## Asked vs achieved per layer", "",
              "Per model and pruner: layers pruned at the asked ratio, and layers kept whole with the reason.", ""]
    for row in rows:
        for capability in PRUNING:
            cell = row.cells[capability]
            if cell.status != "ok":
                continue
            kept: dict[str, int] = {}
            pruned = [r for r in cell.layers if r["units_after"] < r["units_before"]]
            for r in cell.layers:
                if r.get("reason"):
                    reason = r["reason"].split(":")[0]
                    kept[reason] = kept.get(reason, 0) + 1
            spread = ""
            if pruned:
                achieved = [r["achieved"] for r in pruned]
                spread = f"; per pruned layer achieved {min(achieved):.2f}-{max(achieved):.2f}"
            why = "; ".join(f"{n} kept: {reason}" for reason, n in sorted(kept.items()))
            lines.append(f"- {row.model.label}, {capability}: {cell.detail}, {len(pruned)} layers pruned{spread}"
                         + (f"; {why}" if why else ""))
    lines.append("")
    return "\n".join(lines)


def outcomes(markdown: str) -> dict[tuple[str, str], str]:
    """(model label, capability) -> ok/refused/fails, read back from a rendered document's summary table."""
    found: dict[tuple[str, str], str] = {}
    for line in markdown.splitlines():
        if not line.startswith("| ") or line.startswith("| model"):
            continue
        parts = [p.strip() for p in line.strip().strip("|").split("|")]
        label, cells = parts[0], parts[4:]
        for capability, text in zip(CAPABILITIES, cells, strict=False):
            found[(label, capability)] = "refused" if text.startswith("✗") else \
                "fails" if text.startswith("‼") else "ok"
    return found


def quiet(fn, *args: Any, **kwargs: Any) -> Any:
    """Run ``fn`` with stdout captured (timm and the ONNX exporter narrate)."""
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args, **kwargs)
