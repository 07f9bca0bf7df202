"""The paper's tables carry the store's numbers: accuracies, training MACs, seeds pooled as mean ± sample std."""

from __future__ import annotations

import statistics

import pytest
from report_stores import LAYERS, RunWriter, synthetic_profile, write_run

from splinebench.errors import BadInputError
from splinebench.report.build import build_report
from splinebench.report.collect import load_settings
from splinebench.report.paper_tables import (
    cost_ratio_table,
    early_bird_table,
    rho_table,
    table1_layerwise,
    table2_comparison,
    table12_epochs,
    table12_layer_distances,
)
from splinebench.store import StoreReader

RESULTS = [
    ("spline", 0.3, 0.910, 8e11), ("spline", 0.5, 0.900, 7e11),
    ("eb-spline", 0.3, 0.905, 4e11), ("eb-spline", 0.5, 0.902, 3e11),
    ("ns", 0.3, 0.912, 9e11), ("ns", 0.5, 0.890, 8e11),
    ("thinet", 0.3, 0.880, 6e11), ("thinet", 0.5, 0.870, 5e11),
]


def _settings(store, *run_ids):
    reader = StoreReader(store)
    try:
        return load_settings(reader, list(run_ids))
    finally:
        reader.close()


def test_table2_shows_the_accuracy_and_training_macs_the_engine_stored(real_run):
    store, run_id = real_run
    reader = StoreReader(store)
    stored = {(r["pruner"], r["ratio"]): r for r in reader.results(run_id)}
    report = build_report(reader, [run_id])
    reader.close()
    table = report.table("table2")
    for label in ("spline", "eb-spline"):
        for ratio in (0.3, 0.5):
            row = stored[(label, ratio)]
            assert table.cell(label, f"acc p={ratio:.0%}").value == pytest.approx(100 * row["accuracy"])
            assert table.cell(label, f"cost p={ratio:.0%}").value == pytest.approx(row["total_training_flops"])
    dense = stored[("dense", 0.0)]
    assert table.cell("Unpruned (dense)", "acc p=30%").value == pytest.approx(100 * dense["accuracy"])


def test_table12_shows_the_stored_per_layer_distances(real_run):
    store, run_id = real_run
    reader = StoreReader(store)
    distances = {(d["layer"], d["epoch"]): d["distance"] for d in reader.layer_distances(run_id)
                 if d["phase"] == "dense"}
    settings = load_settings(reader, [run_id])
    reader.close()
    table = table12_layer_distances(settings[0])
    assert table is not None
    first_layer = min(distances)[0]
    assert table.rows[0].label.startswith("Early (1st: ")
    assert table.cell(table.rows[0].label, "epoch 2 (100%)").value == pytest.approx(distances[(first_layer, 2)])


def test_two_seeds_of_one_profile_are_pooled_as_mean_and_sample_std(tmp_path):
    store = tmp_path / "s.sqlite"
    write_run(store, "run-a", synthetic_profile(seed=0), [("spline", 0.3, 0.90, 1e12), ("ns", 0.3, 0.88, 2e12)])
    write_run(store, "run-b", synthetic_profile(seed=1), [("spline", 0.3, 0.94, 3e12), ("ns", 0.3, 0.86, 2e12)])
    settings = _settings(store, "run-a", "run-b")
    assert len(settings) == 1
    cell = table2_comparison(settings[0]).cell("spline", "acc p=30%")
    assert cell.value == pytest.approx(92.0)
    assert cell.std == pytest.approx(statistics.stdev([90.0, 94.0]))
    assert cell.n == 2
    # ± is the 95% t interval's half-width: 12.7062 * 2.8284 / sqrt(2) = 25.41
    assert cell.ci_low == pytest.approx(92.0 - 25.4124, abs=1e-3)
    assert cell.text == "92.00±25.41"
    assert table2_comparison(settings[0]).cell("spline", "cost p=30%").value == pytest.approx(2e12)


def test_runs_whose_settings_differ_beyond_the_seed_are_reported_apart(tmp_path):
    store = tmp_path / "s.sqlite"
    write_run(store, "run-a", synthetic_profile(seed=0), [("spline", 0.3, 0.90, 1e12)])
    write_run(store, "run-b", synthetic_profile(seed=1, epochs=40), [("spline", 0.3, 0.94, 1e12)])
    settings = _settings(store, "run-a", "run-b")
    assert [len(s.runs) for s in settings] == [1, 1]
    assert settings[0].id != settings[1].id


def test_table1_improvement_is_the_best_spline_variant_minus_network_slimming(tmp_path):
    store = tmp_path / "s.sqlite"
    write_run(store, "run-a", synthetic_profile(), RESULTS)
    table = table1_layerwise(_settings(store, "run-a")[0])
    assert table is not None
    assert table.columns == ["ns", "spline", "eb-spline", "Improv."]
    # 30%: max(91.0, 90.5) - 91.2 = -0.2; 50%: max(90.0, 90.2) - 89.0 = +1.2
    assert table.cell("p=30%", "Improv.").value == pytest.approx(-0.2)
    assert table.cell("p=50%", "Improv.").value == pytest.approx(1.2)
    assert table.cell("p=50%", "Improv.").text == "+1.20 one seed"  # one run: no interval, no verdict
    assert table.cell("Unpruned", "spline").value == pytest.approx(92.0)


def test_table1_has_no_improvement_column_without_network_slimming(tmp_path):
    store = tmp_path / "s.sqlite"
    pruners = [p for p in synthetic_profile()["prune"]["pruners"] if p["name"] == "spline"]
    write_run(store, "run-a", synthetic_profile(pruners=pruners), RESULTS[:4])
    table = table1_layerwise(_settings(store, "run-a")[0])
    assert table is not None and "Improv." not in table.columns


def test_improvement_row_compares_with_the_most_accurate_baseline(tmp_path):
    store = tmp_path / "s.sqlite"
    write_run(store, "run-a", synthetic_profile(), RESULTS)
    table = table2_comparison(_settings(store, "run-a")[0])
    # 30%: strongest baseline is ns (91.2); best spline 91.0 -> -0.2; cost ns 9e11 / cheapest spline 4e11 = 2.25
    assert table.cell("Spline Improv.", "acc p=30%").value == pytest.approx(-0.2)
    assert table.cell("Spline Improv.", "cost p=30%").value == pytest.approx(9e11 / 4e11)
    # 50%: ns (89.0) beats thinet (87.0); best spline 90.2 -> +1.2; cost 8e11 / 3e11
    assert table.cell("Spline Improv.", "acc p=50%").value == pytest.approx(1.2)
    assert table.cell("Spline Improv.", "cost p=50%").text == "2.7x one seed"
    assert [r.label for r in table.rows] == ["Unpruned (dense)", "ns", "thinet", "spline", "eb-spline",
                                             "Spline Improv."]
    assert table.cell("ns", "acc p=30%").best and not table.cell("spline", "acc p=30%").best
    assert table.cell("eb-spline", "cost p=50%").best


def test_energy_joins_the_cost_cells_when_a_meter_ran(tmp_path):
    store = tmp_path / "s.sqlite"
    write_run(store, "run-a", synthetic_profile(), RESULTS, energy=True)
    table = table2_comparison(_settings(store, "run-a")[0])
    assert "kJ" in table.title
    assert table.cell("spline", "cost p=30%").text == "800 J / 800G"
    assert table.cell("Spline Improv.", "cost p=30%").text == "2.2x/2.2x one seed"


def test_cost_ratios_divide_each_method_by_eb_spline(tmp_path):
    store = tmp_path / "s.sqlite"
    write_run(store, "run-a", synthetic_profile(), RESULTS)
    table = cost_ratio_table(_settings(store, "run-a")[0])
    assert table is not None
    assert [r.label for r in table.rows] == ["spline", "ns", "thinet"]
    assert table.cell("thinet", "p=50%").value == pytest.approx(5e11 / 3e11)
    assert table.cell("thinet", "p=50%").text == "1.67x"


def test_a_failed_pruner_shows_where_it_failed(tmp_path):
    store = tmp_path / "s.sqlite"
    run = write_run(store, "run-a", synthetic_profile(), RESULTS[:6])
    from splinebench.store import StoreWriter

    run.writer = StoreWriter(store)
    run.emit("pruner_failed", pruner="thinet", ratio=0.3, error="boom", stage="plan")
    run.writer.close()
    table = table2_comparison(_settings(store, "run-a")[0])
    assert table.cell("thinet", "acc p=30%").text == "failed (plan)"
    assert table.cell("thinet", "acc p=30%").value is None


def test_table12_epochs_are_fractions_of_the_planned_epochs():
    assert table12_epochs(160) == [(0.1, 16), (0.25, 40), (0.5, 80), (0.75, 120), (1.0, 160)]
    assert table12_epochs(3) == [(1 / 3, 1), (2 / 3, 2), (1.0, 3)]


def test_table12_picks_the_first_middle_and_last_layer(tmp_path):
    store = tmp_path / "s.sqlite"
    from splinebench.store import StoreWriter

    writer = StoreWriter(store)
    run = RunWriter(writer, "run-a", synthetic_profile(epochs=10))
    for epoch in range(1, 11):
        run.distances(epoch, {layer: (k + 1) / (10 * epoch) for k, layer in enumerate(LAYERS)})
    run.finish()
    writer.close()
    table = table12_layer_distances(_settings(store, "run-a")[0])
    assert table is not None
    assert [r.label for r in table.rows] == ["Early (1st: features.relu1)", "Middle (3rd: features.relu3)",
                                             "Late (5th: features.relu5)"]
    assert table.columns == ["epoch 1 (10%)", "epoch 3 (30%)", "epoch 5 (50%)", "epoch 8 (80%)",
                             "epoch 10 (100%)"]
    assert table.cell("Late (5th: features.relu5)", "epoch 5 (50%)").value == pytest.approx(5 / 50)


def test_early_bird_table_gives_each_detectors_epoch_as_a_fraction_of_training(tmp_path):
    store = tmp_path / "s.sqlite"
    from splinebench.store import StoreWriter

    writer = StoreWriter(store)
    run = RunWriter(writer, "run-a", synthetic_profile(epochs=20))
    for epoch in range(1, 21):
        run.epoch(epoch, 0.5 + epoch / 100)
    run.early_bird("spline", 4)
    run.early_bird("mask@0.5", 7, phase="dense:l1")
    run.early_bird("spline", 5, phase="dense:l1")
    run.result("dense", 0.0, 0.9, 1e12)
    run.finish()
    writer.close()
    table = early_bird_table(_settings(store, "run-a")[0])
    assert table is not None
    assert [r.label for r in table.rows] == ["spline", "spline (dense:l1)", "mask@0.5 (dense:l1)", "dense (final)"]
    assert table.cell("spline", "epoch").value == 4
    assert table.cell("spline", "% of dense epochs").value == pytest.approx(20.0)
    assert table.cell("spline", "test acc at EB (%)").value == pytest.approx(54.0)
    assert table.cell("mask@0.5 (dense:l1)", "test acc at EB (%)").text == "-"  # no epochs of that phase


def test_rho_table_lists_spline_variants_by_rho_with_their_spread(tmp_path):
    store = tmp_path / "s.sqlite"
    pruners = [{"name": "spline", "ticket": "final", "label": f"rho{rho}", "options": {"rho": rho}}
               for rho in (0.4, 0.01, 0.1)]
    write_run(store, "run-a", synthetic_profile(pruners=pruners),
              [("rho0.4", 0.3, 0.90, 1e12), ("rho0.01", 0.3, 0.91, 1e12), ("rho0.1", 0.3, 0.87, 1e12)])
    table = rho_table(_settings(store, "run-a")[0])
    assert table is not None
    assert [r.label for r in table.rows] == ["0.01 (rho0.01)", "0.1 (rho0.1)", "0.4 (rho0.4)", "max - min"]
    assert table.cell("max - min", "p=30%").value == pytest.approx(4.0)


def test_no_rho_table_without_a_rho_sweep(tmp_path):
    store = tmp_path / "s.sqlite"
    write_run(store, "run-a", synthetic_profile(), RESULTS)
    assert rho_table(_settings(store, "run-a")[0]) is None


def test_an_unknown_run_id_is_bad_input(tmp_path):
    store = tmp_path / "s.sqlite"
    write_run(store, "run-a", synthetic_profile(), RESULTS)
    reader = StoreReader(store)
    with pytest.raises(BadInputError, match="no run 'nope'"):
        build_report(reader, ["nope"])
    reader.close()


def test_achieved_ratios_are_the_plans_achieved_ratios(real_run):
    from splinebench.report.paper_tables import achieved_ratio_table

    store, run_id = real_run
    reader = StoreReader(store)
    plans = {(p["pruner"], p["ratio"]): p["achieved_ratio"] for p in reader.plans(run_id)}
    settings = load_settings(reader, [run_id])
    reader.close()
    table = achieved_ratio_table(settings[0])
    assert table is not None
    assert table.cell("eb-spline", "p=50%").value == pytest.approx(100 * plans[("eb-spline", 0.5)])


def test_the_runs_table_names_the_training_and_test_images_each_run_used(tmp_path):
    from splinebench.report.paper_tables import runs_table

    store = tmp_path / "s.sqlite"
    partial = synthetic_profile(seed=0)
    partial["data"]["options"] = {"subset": 10000, "test_subset": 5000}
    write_run(store, "run-a", partial, [("spline", 0.3, 0.90, 1e12)])
    write_run(store, "run-b", synthetic_profile(seed=0, epochs=40), [("spline", 0.3, 0.90, 1e12)])
    table = runs_table(_settings(store, "run-a", "run-b"))
    assert table.cell("run-a", "images (train/test)").text == "10,000/5,000"
    assert table.cell("run-b", "images (train/test)").text == "all/all"


def test_an_energy_total_that_includes_a_partial_window_is_marked_in_table2(tmp_path):
    import sqlite3

    store = tmp_path / "s.sqlite"
    write_run(store, "run-a", synthetic_profile(), RESULTS, energy=True)
    db = sqlite3.connect(store)  # what the store's projection records when a window the total adds up was partial
    db.execute("UPDATE results SET energy_partial=1, energy_coverage=0.05 WHERE pruner='spline' AND ratio=0.3")
    db.commit()
    db.close()
    table = table2_comparison(_settings(store, "run-a")[0])
    assert table.cell("spline", "cost p=30%").text == "800 J (partial) / 800G"
    assert "(partial)" not in table.cell("spline", "cost p=50%").text
    assert any("under-counts" in note for note in table.notes)
