"""``splinebench report`` and ``splinebench partition`` as commands: files written, bad input refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from report_stores import synthetic_profile, write_run
from typer.testing import CliRunner

from splinebench.cli.report import parse_fractions, partition_command, report_command
from splinebench.errors import BadInputError

RESULTS = [("spline", 0.3, 0.91, 8e11), ("eb-spline", 0.3, 0.90, 4e11), ("ns", 0.3, 0.905, 9e11)]


@pytest.fixture
def cli():
    app = typer.Typer()
    app.command("report")(report_command)
    app.command("partition")(partition_command)
    return app


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "s.sqlite"
    write_run(path, "run-a", synthetic_profile(), RESULTS)
    return path


def test_report_prints_the_table2_layout(cli, store):
    result = CliRunner().invoke(cli, ["report", "run-a", "--store", str(store)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Table 2: retrain accuracy" in result.output
    assert "Spline Improv." in result.output and "91.00" in result.output


def test_report_writes_the_chosen_format_and_figures_to_out(cli, real_run, tmp_path):
    store, run_id = real_run
    result = CliRunner().invoke(cli, ["report", run_id, "--store", str(store), "--format", "json", "--figures",
                                      "--out", str(tmp_path / "out"), "--name", "tables"])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "out" / "tables.json").read_text())
    assert {t["key"] for t in data["tables"]} >= {"table1", "table2", "table12", "early-bird"}
    figures = sorted((tmp_path / "out" / "figures").iterdir())
    assert any(f.name.endswith("distance-matrix.png") for f in figures)
    assert all(f.stat().st_size > 0 for f in figures)


def test_markdown_report_links_its_figures_relative_to_itself(store, tmp_path):
    from splinebench.report.build import build_report, write_report
    from splinebench.store import StoreReader

    reader = StoreReader(store)
    report = build_report(reader, ["run-a"])
    reader.close()
    report.figures = [tmp_path / "figures" / "x-tradeoff.png", tmp_path / "figures" / "x-tradeoff.svg"]
    text = write_report(report, "md", tmp_path).read_text()
    assert "![x-tradeoff](figures/x-tradeoff.png)" in text
    assert ".svg" not in text


def test_an_unknown_run_id_is_bad_input(cli, store):
    result = CliRunner().invoke(cli, ["report", "no-such-run", "--store", str(store)])
    assert isinstance(result.exception, BadInputError)
    assert "no run 'no-such-run'" in str(result.exception)


def test_an_unknown_format_is_bad_input(cli, store):
    result = CliRunner().invoke(cli, ["report", "run-a", "--store", str(store), "--format", "docx"])
    assert isinstance(result.exception, BadInputError)


def test_table12_fractions_are_checked():
    assert parse_fractions("0.1, 0.5,1") == [0.1, 0.5, 1.0]
    for bad in ("0", "1.5", "a,b", ""):
        with pytest.raises(BadInputError):
            parse_fractions(bad)


def test_partition_refuses_a_run_without_2d_inputs(cli, real_run):
    store, run_id = real_run
    result = CliRunner().invoke(cli, ["partition", run_id, "--store", str(store)])
    assert isinstance(result.exception, BadInputError)
    assert "2-D" in str(result.exception)


def test_partition_draws_a_toy_run_in_the_terminal_and_to_files(cli, toy_run, tmp_path):
    store, run_id = toy_run
    result = CliRunner().invoke(cli, ["partition", run_id, "--store", str(store), "--no-retrain", "--width", "16",
                                      "--ratio", "0.5", "--out", str(tmp_path)], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "dense:" in result.output and "spline 50% pruned" in result.output
    assert any(0x2800 < ord(ch) <= 0x28FF for ch in result.output)  # braille drawing
    for ext in ("png", "svg"):
        assert (tmp_path / f"toy-test-partition.{ext}").stat().st_size > 1000


def test_partition_refuses_a_ratio_the_run_did_not_prune_at_and_names_those_it_did(cli, toy_run):
    store, run_id = toy_run
    result = CliRunner().invoke(cli, ["partition", run_id, "--store", str(store), "--ratio", "1.5"])
    assert isinstance(result.exception, BadInputError)
    assert "--ratio 1.5" in str(result.exception) and "at 0.5 only" in str(result.exception)


def test_partition_draws_the_run_s_own_retrained_model(cli, toy_run):
    """No second pipeline: the "+retrain" picture is the model file the run saved, weight for weight."""
    import torch

    from splinebench.cli.report import ToyModels
    from splinebench.engine.checkpoints import load_pruned_model
    from splinebench.store import StoreReader

    store, run_id = toy_run
    reader = StoreReader(store)
    try:
        toy = ToyModels.from_run(reader, run_id)
        results_dir = reader.run(run_id).results_dir
    finally:
        reader.close()
    models = dict(toy.models(None, None, retrain=True))
    tuned = next(model for title, model in models.items() if "+retrain" in title)
    saved = load_pruned_model(Path(results_dir) / toy.plan.branches[0].runs[0].model_file)
    for (name, a), (_, b) in zip(tuned.state_dict().items(), saved.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
