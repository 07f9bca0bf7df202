"""The pipeline end to end on a tiny profile, checked through the store with plain SQL."""

from __future__ import annotations

import sqlite3

from splinebench.engine.events import event_from_dict
from splinebench.engine.run import execute


def test_a_run_records_epochs_distances_eb_plans_and_flops(tmp_path, tiny_profile):
    store = str(tmp_path / "store.sqlite")
    events = []
    run_id, ok = execute(tiny_profile(), store, sinks=[events.append])
    assert ok
    db = sqlite3.connect(store)
    q = lambda sql: db.execute(sql, (run_id,)).fetchall()  # noqa: E731
    assert [r[0] for r in q("SELECT epoch FROM epochs WHERE run_id=? AND phase='dense' ORDER BY epoch")] == [1, 2, 3]
    layers = q("SELECT DISTINCT layer FROM layer_distances WHERE run_id=?")
    assert len(layers) == 3  # convnet-small has three ReLUs
    per_epoch = q("SELECT epoch, COUNT(*) FROM layer_distances WHERE run_id=? GROUP BY epoch")
    assert per_epoch == [(1, 3), (2, 3), (3, 3)]
    assert q("SELECT status FROM runs WHERE id=?") == [("finished",)]
    plans = q("SELECT pruner, ratio, achieved_ratio FROM plans WHERE run_id=? ORDER BY pruner")
    assert [p[0] for p in plans] == ["eb-spline", "spline"]
    assert all(abs(p[2] - 0.5) < 0.05 for p in plans)
    flops = dict(q("SELECT tag, flops FROM models WHERE run_id=?"))
    assert flops["spline@0.5"] < flops["dense"]
    results = q("SELECT pruner, total_training_flops, dense_training_flops + retrain_training_flops FROM results "
                "WHERE run_id=?")
    assert {r[0] for r in results} == {"dense", "spline", "eb-spline"}
    assert all(abs(r[1] - r[2]) < 1e-6 * r[1] for r in results)
    # events are numbered 1..n without holes, and round-trip through their JSON form
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert all(event_from_dict(e.to_dict()) == e for e in events)
    stored = db.execute("SELECT COUNT(*) FROM events WHERE run_id=?", (run_id,)).fetchone()[0]
    assert stored == len(events)


def test_eb_spline_is_charged_only_the_dense_epochs_up_to_its_ticket(tmp_path, tiny_profile):
    store = str(tmp_path / "store.sqlite")
    run_id, ok = execute(tiny_profile(**{"early_bird.eps": 0.99, "train.epochs": 4}), store)
    assert ok
    db = sqlite3.connect(store)
    eb_epoch = db.execute("SELECT eb_epoch FROM runs WHERE id=?", (run_id,)).fetchone()[0]
    assert eb_epoch == 2  # window 2: distances after epochs 1 and 2, both below 0.99
    cum = db.execute("SELECT SUM(training_flops) FROM epochs WHERE run_id=? AND phase='dense' AND epoch<=?",
                     (run_id, eb_epoch)).fetchone()[0]
    dense_eb, dense_final = (
        db.execute("SELECT dense_training_flops FROM results WHERE run_id=? AND pruner=?", (run_id, p)).fetchone()[0]
        for p in ("eb-spline", "spline")
    )
    assert dense_eb < dense_final
    initial_probe = dense_eb - cum  # the probe pass at initialisation is charged too
    assert 0 < initial_probe < cum / eb_epoch


def test_dense_training_stops_at_the_early_bird_when_no_pruner_needs_the_final_model(tmp_path, tiny_profile):
    store = str(tmp_path / "store.sqlite")
    profile = tiny_profile(**{"early_bird.eps": 0.99, "train.epochs": 6,
                              "prune.pruners": [{"name": "spline", "ticket": "eb"}]})
    run_id, ok = execute(profile, store)
    assert ok
    db = sqlite3.connect(store)
    epochs = db.execute("SELECT MAX(epoch), (SELECT stopped_early FROM phases WHERE run_id=?1 AND phase='dense') "
                        "FROM epochs WHERE run_id=?1 AND phase='dense'", (run_id,)).fetchone()
    assert epochs == (2, 1)


def test_a_pruned_model_loads_back_from_its_file_with_the_same_logits(tmp_path, tiny_profile):
    import torch

    from splinebench.data import load_dataset
    from splinebench.engine.checkpoints import load_pruned_model
    from splinebench.engine.run import run_dir_for

    store = str(tmp_path / "store.sqlite")
    run_id, ok = execute(tiny_profile(), store)
    assert ok
    path = run_dir_for(store, run_id) / "models" / "spline_0.5.pt"
    model = load_pruned_model(path)
    x = load_dataset("digits").test.tensors[0][:16]
    accuracy = sqlite3.connect(store).execute(
        "SELECT accuracy FROM results WHERE run_id=? AND pruner='spline'", (run_id,)).fetchone()[0]
    y = load_dataset("digits").test.tensors[1]
    with torch.no_grad():
        full = (model(load_dataset("digits").test.tensors[0]).argmax(1) == y).float().mean().item()
    assert abs(full - accuracy) < 1e-6  # the file holds exactly the model that was evaluated
    assert model(x).shape == (16, 10)
