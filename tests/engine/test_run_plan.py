"""The run plan: every branch, phase and file name resolved once, as plain JSON that RunStarted can carry."""

from __future__ import annotations

import json

import pytest

from splinebench.engine.plan import RunPlan, resolve_plan
from splinebench.errors import BadInputError

SPLINE_EB = {"name": "spline", "ticket": "eb", "label": "eb-spline"}


def test_each_entry_runs_over_its_own_ratios_with_its_own_retraining(tiny_profile):
    entries = [{"name": "spline", "ratios": [0.7], "retrain": {"lr": 0.5, "mode": "scratch"}}, SPLINE_EB]
    plan, _ = resolve_plan(tiny_profile(**{"prune.pruners": entries, "prune.ratios": [0.3, 0.5],
                                           "retrain.epochs": 2}))
    assert [(b.label, r.ratio, r.phase) for b, r in plan.tasks()] == [
        ("spline", 0.7, "retrain:spline@0.7"), ("eb-spline", 0.3, "retrain:eb-spline@0.3"),
        ("eb-spline", 0.5, "retrain:eb-spline@0.5")]
    assert plan.branch_count == 3
    spline, eb = plan.branches
    assert (spline.retrain_settings().lr, spline.retrain_settings().mode, spline.retrain_settings().epochs) == (
        0.5, "scratch", 2)
    assert (eb.retrain_settings().lr, eb.retrain_settings().mode) == (tiny_profile().retrain.lr, "finetune")
    assert spline.run_at(0.7).model_file == "models/spline_0.7.pt"
    (dense,) = plan.dense
    assert (dense.phase, dense.final_ticket, dense.eb_ticket("spline")) == (
        "dense", "tickets/dense-final.pt", "tickets/dense-eb-spline.pt")
    assert dense.stop_after is None  # "spline" needs the final model


def test_the_plan_round_trips_through_json(tiny_profile):
    plan, _ = resolve_plan(tiny_profile(**{"prune.pruners": [SPLINE_EB, {"name": "eb-mask", "ticket": "eb"}]}))
    assert RunPlan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan
    assert [d.phase for d in plan.dense][0] == "dense" and plan.dense[1].phase.startswith("dense:")


def test_a_ticket_the_pruner_cannot_use_is_bad_input(tiny_profile):
    with pytest.raises(BadInputError, match=r"prune.pruners\[0\] \(eb-snip\): ticket = 'eb'"):
        resolve_plan(tiny_profile(**{"prune.pruners": [{"name": "snip", "ticket": "eb"}]}))
