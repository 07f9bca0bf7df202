"""Which trials share a dense phase: exactly those whose dense phases would emit the same events."""

from __future__ import annotations

from splinebench.sweep.grid import expand
from splinebench.sweep.plan import build_graph

SPLINE_FINAL = {"name": "spline", "ticket": "final", "label": "spline"}
SPLINE_EB = {"name": "spline", "ticket": "eb", "label": "eb-spline"}


def _graph(profile, axes):
    return build_graph("sweep-x", expand(profile, {**axes, "seed": axes.get("seed", [0])}, "sweep-x", "p.toml"))


def test_trials_differing_only_in_pruning_and_retraining_share_one_dense_task_per_seed(tiny_profile):
    graph = _graph(tiny_profile(), {"prune.ratios": [[0.3], [0.5]], "retrain.lr": [0.01, 0.02], "seed": [0, 1]})
    assert len(graph.trials) == 8
    assert len(graph.dense) == 2
    assert sorted(len(d.run_ids) for d in graph.dense.values()) == [4, 4]
    assert len(graph.branches) == 16  # 8 trials x 2 pruner entries x 1 ratio


def test_trials_with_different_dense_training_do_not_share(tiny_profile):
    graph = _graph(tiny_profile(), {"train.lr": [0.05, 0.1]})
    assert len(graph.dense) == 2


def test_an_eb_only_trial_stops_dense_training_early_so_it_shares_only_when_stopping_is_off(tiny_profile):
    axes = {"prune.pruners": [[SPLINE_FINAL], [SPLINE_EB]]}
    assert len(_graph(tiny_profile(), axes).dense) == 2  # the EB-only trial's dense phase ends at its ticket
    assert len(_graph(tiny_profile(**{"early_bird.stop_dense": False}), axes).dense) == 1


def test_a_training_hook_makes_its_own_dense_group_shared_only_with_the_same_hook(tiny_profile):
    ns = {"name": "ns", "ticket": "final", "options": {"sparsity": 1e-4}}
    ns_other = {"name": "ns", "ticket": "final", "options": {"sparsity": 1e-3}}
    graph = _graph(tiny_profile(), {"prune.pruners": [[SPLINE_FINAL, ns], [SPLINE_FINAL, ns_other]]})
    phases = sorted(d.phase for d in graph.dense.values())
    assert phases[0] == "dense" and len(phases) == 3  # the plain dense phase is shared, the two L1 runs are not
    assert all(len(t.dense_keys()) == 2 for t in graph.trials)


def test_a_trial_lists_its_units_in_the_order_a_plain_run_emits_them(tiny_profile):
    graph = _graph(tiny_profile(**{"prune.ratios": [0.3, 0.5]}), {})
    units = [u.kind + ":" + u.name for u in graph.trials[0].units]
    assert units == ["start:start", "dense:dense", "branch:spline@0.3", "branch:spline@0.5", "branch:eb-spline@0.3",
                     "branch:eb-spline@0.5", "finish:finish"]


def test_a_pruner_entry_that_cannot_be_built_becomes_a_recorded_failure_without_a_task(tiny_profile):
    broken = {"name": "eb-mask", "ticket": "eb", "options": {"fifo": 1}}  # its hook refuses a FIFO of 1
    graph = _graph(tiny_profile(**{"prune.pruners": [SPLINE_FINAL, broken]}), {})
    kinds = [u.kind for u in graph.trials[0].units]
    assert kinds == ["start", "dense", "branch", "import_failed", "finish"]
    assert len(graph.branches) == 1
