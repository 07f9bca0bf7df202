"""The rules that turn pruner entries into a run's graph, shared by the pipeline and the sweep planner."""

from __future__ import annotations

from splinebench.engine.branches import (
    branch_order,
    dense_groups,
    group_members,
    resolve_branches,
    stop_detectors,
)

SPLINE_EB = {"name": "spline", "ticket": "eb", "label": "eb-spline"}
SPLINE_FINAL = {"name": "spline", "ticket": "final", "label": "spline"}
EB_MASK = {"name": "eb-mask", "ticket": "eb", "options": {"sparsity": 1e-4}}
SNIP = {"name": "snip", "ticket": "final"}


def test_a_pruner_that_cannot_be_created_becomes_a_branch_with_its_error_and_no_dense_group(tiny_profile):
    broken = {"name": "ns", "ticket": "final", "options": {"sparsity": "much"}}
    branches = resolve_branches(tiny_profile(**{"prune.pruners": [SPLINE_FINAL, broken]}))
    assert [b.pruner is None for b in branches] == [False, True]
    assert branches[1].error
    assert dense_groups(branches) == [""]  # the broken entry's would-be L1 dense run is not trained


def test_the_plain_dense_group_comes_first_and_each_hook_key_gets_its_own(tiny_profile):
    branches = resolve_branches(tiny_profile(**{"prune.pruners": [EB_MASK, SPLINE_FINAL]}))
    groups = dense_groups(branches)
    assert groups[0] == "" and len(groups) == 2 and groups[1].startswith("bn-l1")
    assert [b.label for b in group_members(branches, groups[1])] == ["eb-mask"]


def test_branches_run_in_profile_order_each_over_its_own_ratios(tiny_profile):
    entries = [{**SPLINE_FINAL, "ratios": [0.7]}, SPLINE_EB]
    profile = tiny_profile(**{"prune.pruners": entries, "prune.ratios": [0.3, 0.5]})
    order = [(b.label, r) for b, r in branch_order(profile, resolve_branches(profile))]
    assert order == [("spline", 0.7), ("eb-spline", 0.3), ("eb-spline", 0.5)]


def test_hooks_are_told_the_ratios_they_serve_so_a_mask_early_bird_has_one_detector_per_ratio(tiny_profile):
    profile = tiny_profile(**{"prune.pruners": [EB_MASK], "prune.ratios": [0.3, 0.5]})
    (branch,) = resolve_branches(profile)
    assert branch.hook is not None and list(branch.hook.ratios) == [0.3, 0.5]
    assert stop_detectors(profile, [branch]) == ["mask@0.3", "mask@0.5"]


def test_dense_training_stops_early_only_when_no_member_needs_the_final_model(tiny_profile):
    profile = tiny_profile(**{"prune.pruners": [SPLINE_EB, SPLINE_FINAL]})
    eb, final = resolve_branches(profile)
    assert stop_detectors(profile, [eb]) == ["spline"]
    assert stop_detectors(profile, [eb, final]) is None
    assert stop_detectors(tiny_profile(**{"early_bird.stop_dense": False}), [eb]) is None


def test_a_phase_whose_members_all_act_at_initialisation_needs_no_early_bird(tiny_profile):
    profile = tiny_profile(**{"prune.pruners": [SNIP]})
    (snip,) = resolve_branches(profile)
    assert snip.ticket == "init"
    assert stop_detectors(profile, [snip]) == []
