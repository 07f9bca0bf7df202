"""The shared applier: plans become genuinely smaller models, residual nets stay consistent, structures rebuild."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from splinebench.measure.flops import forward_cost
from splinebench.prune import Plan, PlanError, apply_plan, prunable_layers, rebuild_structure
from splinebench.prune.units import output_layers
from splinebench.zoo import create_model


def _half_of_each_independent_layer(model: nn.Module, x: torch.Tensor) -> Plan:
    remove = {layer.name: list(range(0, layer.units, 2)) for layer in prunable_layers(model, x) if layer.independent}
    return Plan.channels(remove)


@pytest.mark.parametrize(("name", "shape"), [("tv:resnet18", (2, 3, 32, 32)), ("preresnet20", (2, 3, 32, 32)),
                                             ("vgg11", (2, 1, 28, 28))])
def test_pruned_models_run_forward_and_cost_fewer_macs(name, shape):
    torch.manual_seed(0)
    model = create_model(name, num_classes=10, in_channels=shape[1]).eval()
    x = torch.randn(*shape)
    plan = _half_of_each_independent_layer(model, x)
    assert plan.remove, f"{name}: no independent layer found"
    pruned, report = apply_plan(model, plan, x)
    assert pruned(x).shape == (shape[0], 10)
    before, after = forward_cost(model, x), forward_cost(pruned, x)
    assert after.flops < before.flops
    assert after.params < before.params
    assert report.achieved_ratio > 0
    assert model(x).shape == (shape[0], 10)  # the original is untouched


def test_layers_in_a_residual_group_are_reported_with_their_reason():
    model = create_model("tv:resnet18", num_classes=10, in_channels=3)
    layers = prunable_layers(model, torch.randn(1, 3, 32, 32))
    kept = [layer for layer in layers if not layer.independent]
    assert any("residual" in layer.reason for layer in kept)
    assert "fc" in output_layers(model)
    assert all(layer.name != "fc" for layer in layers)  # the classifier keeps its width


def test_asked_and_achieved_ratio_are_reported_per_layer():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 3))
    x = torch.randn(2, 4)
    pruned, report = apply_plan(model, Plan.channels({"0": [0, 1, 2, 3], "2": [5]}), x)
    by_name = {r.name: r for r in report.layers}
    assert (by_name["0"].units_before, by_name["0"].units_after, by_name["0"].achieved) == (8, 4, 0.5)
    assert (by_name["2"].units_before, by_name["2"].units_after) == (6, 5)
    assert pruned[2].in_features == 4 and pruned[4].in_features == 5
    assert report.achieved_ratio == pytest.approx(5 / 14)


def test_the_removed_units_are_the_ones_the_plan_named():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2))
    pruned, _ = apply_plan(model, Plan.channels({"0": [1, 3]}), torch.randn(1, 3))
    assert torch.equal(pruned[0].weight, model[0].weight[[0, 2, 4]])
    assert torch.equal(pruned[2].weight, model[2].weight[:, [0, 2, 4]])


def test_a_plan_naming_an_unknown_layer_or_emptying_one_is_refused():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    with pytest.raises(PlanError, match="cannot be pruned"):
        apply_plan(model, Plan.channels({"nope": [0]}), torch.randn(1, 3))
    with pytest.raises(PlanError, match="removes 4 of 4"):
        apply_plan(model, Plan.channels({"0": [0, 1, 2, 3]}), torch.randn(1, 3))


def test_a_pruned_model_rebuilds_from_name_history_and_state_without_pickling_the_class():
    torch.manual_seed(0)
    model = create_model("preresnet20", num_classes=10, in_channels=3).eval()
    x = torch.randn(2, 3, 32, 32)
    pruned, report = apply_plan(model, _half_of_each_independent_layer(model, x), x)
    state = pruned.state_dict()
    fresh = create_model("preresnet20", num_classes=10, in_channels=3)
    rebuild_structure(fresh, x, report.history)
    fresh.load_state_dict(state)
    fresh.eval()
    assert torch.allclose(fresh(x), pruned.eval()(x), atol=1e-6)


def test_unstructured_masks_zero_weights_and_rewind_restores_initial_values():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    init = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        model[0].weight.add_(1.0)  # "training"
    mask = torch.zeros(4, 3, dtype=torch.bool)
    mask[0] = True
    pruned, report = apply_plan(model, Plan.weight_masks({"0.weight": mask}, rewind=True), torch.randn(1, 3), init)
    assert torch.equal(pruned[0].weight[0], init["0.weight"][0])
    assert torch.count_nonzero(pruned[0].weight[1:]) == 0
    assert report.achieved_ratio == pytest.approx(9 / 12)
