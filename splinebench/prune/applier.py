"""The one applier: turns any plan into a pruned model.

Structured plans go through Torch-Pruning's dependency graph, so residual and concatenated models stay consistent
and the model becomes genuinely smaller. Unstructured plans become weight masks with ``torch.nn.utils.prune``: the
mask multiplies the weight in every forward pass, so pruned weights stay zero through retraining (and the model is
*not* faster — FLOPs are reported dense and density-weighted).
"""

from __future__ import annotations

import copy
from typing import Any

import torch
import torch.nn.utils.prune as torch_prune
from torch import nn

from splinebench.errors import BadInputError
from splinebench.prune.plan import LayerReport, Plan, PruneReport
from splinebench.prune.units import _out_pruning_fn, build_graph, prunable_layers


class PlanError(BadInputError):
    """A plan names a layer that does not exist or cannot be pruned as asked."""


def apply_plan(
    model: nn.Module, plan: Plan, example_input: torch.Tensor, init_state: dict[str, torch.Tensor] | None = None
) -> tuple[nn.Module, PruneReport]:
    """Return a pruned *copy* of ``model`` and what was asked vs achieved per layer."""
    pruned = copy.deepcopy(model)
    if plan.structured:
        return pruned, _apply_structured(pruned, plan, example_input)
    return pruned, _apply_masks(pruned, plan, init_state)


def _apply_structured(model: nn.Module, plan: Plan, example_input: torch.Tensor) -> PruneReport:
    graph = build_graph(model, example_input)
    layers = {layer.name: layer for layer in prunable_layers(model, example_input, graph)}
    unknown = sorted(set(plan.remove) - set(layers))
    if unknown:
        raise PlanError(f"plan names layers that cannot be pruned: {', '.join(unknown[:5])}")
    reports: list[LayerReport] = []
    total_before = total_removed = total_asked = 0
    for name, layer in layers.items():
        idxs = sorted(set(plan.remove.get(name, [])))
        before = layer.units
        total_before += before
        total_asked += len(idxs)
        asked = len(idxs) / before
        if not layer.independent:
            reason = layer.reason + ("" if not idxs else " — plan ignored for this layer")
            reports.append(LayerReport(name, before, before, asked, 0.0, reason))
            continue
        if idxs and (max(idxs) >= before or len(idxs) >= before):
            raise PlanError(f"plan for {name} removes {len(idxs)} of {before} units (indices up to {max(idxs)})")
        if idxs:
            group = graph.get_pruning_group(layer.module, _out_pruning_fn(layer.module), idxs)
            if not graph.check_pruning_group(group):
                raise PlanError(f"plan for {name} would empty a coupled layer")
            group.prune()
        after = layer.module.out_channels if isinstance(layer.module, nn.Conv2d) else layer.module.out_features
        total_removed += before - after
        reports.append(LayerReport(name, before, after, asked, (before - after) / before))
    return PruneReport(
        layers=reports,
        asked_ratio=total_asked / max(total_before, 1),
        achieved_ratio=total_removed / max(total_before, 1),
        history=graph.pruning_history(),
    )


def _apply_masks(model: nn.Module, plan: Plan, init_state: dict[str, torch.Tensor] | None) -> PruneReport:
    params = dict(model.named_parameters())
    unknown = sorted(set(plan.masks) - set(params))
    if unknown:
        raise PlanError(f"plan masks unknown parameters: {', '.join(unknown[:5])}")
    if plan.rewind:
        if init_state is None:
            raise PlanError("plan asks to rewind to initialisation but no initial state was kept")
        _rewind(model, init_state)
    modules = dict(model.named_modules())
    reports = []
    total = kept = 0
    for pname, mask in plan.masks.items():
        owner, _, attr = pname.rpartition(".")
        param = params[pname]
        if mask.shape != param.shape:
            raise PlanError(f"mask for {pname} has shape {tuple(mask.shape)}, parameter {tuple(param.shape)}")
        torch_prune.custom_from_mask(modules[owner], attr, mask.to(param.device))
        n, k = mask.numel(), int(mask.sum())
        total += n
        kept += k
        reports.append(LayerReport(pname, n, k, 1 - k / n, 1 - k / n, "weights masked (unstructured)"))
    ratio = 1 - kept / max(total, 1)
    return PruneReport(layers=reports, asked_ratio=ratio, achieved_ratio=ratio)


def _rewind(model: nn.Module, init_state: dict[str, torch.Tensor]) -> None:
    """Lottery-ticket rewinding: every tensor whose shape still matches goes back to its initial value."""
    state = model.state_dict()
    with torch.no_grad():
        for key, value in init_state.items():
            if key in state and state[key].shape == value.shape:
                state[key].copy_(value)


def make_masks_permanent(model: nn.Module) -> None:
    """Fold ``weight_orig * weight_mask`` back into ``weight`` (for export)."""
    for module in model.modules():
        for name, _ in list(module.named_buffers(recurse=False)):
            if name.endswith("_mask"):
                torch_prune.remove(module, name[: -len("_mask")])


def weight_density(model: nn.Module) -> dict[str, float]:
    """Fraction of kept weights per masked module (for density-weighted FLOPs)."""
    out: dict[str, float] = {}
    for name, module in model.named_modules():
        mask = getattr(module, "weight_mask", None)
        if mask is not None:
            out[name] = float(mask.float().mean())
    return out


def rebuild_structure(model: nn.Module, example_input: torch.Tensor, history: list[Any],
                      masks: dict[str, torch.Tensor] | None = None) -> nn.Module:
    """Replay a pruning history (and masks) on a freshly built model of the same architecture.

    Pruned models are stored as (registry name, history, state_dict) rather than a pickled class, so they load back
    with any version of the code that can build the base model.
    """
    if history:
        graph = build_graph(model, example_input)
        graph.load_pruning_history(history)
    if masks:
        modules = dict(model.named_modules())
        for pname, mask in masks.items():
            owner, _, attr = pname.rpartition(".")
            torch_prune.custom_from_mask(modules[owner], attr, mask)
    return model


__all__ = ["PlanError", "apply_plan", "make_masks_permanent", "rebuild_structure", "weight_density"]
