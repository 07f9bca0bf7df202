"""Results bundles: export runs, then read the bundle wherever a store is read, with the same answers."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

from typer.testing import CliRunner

from splinebench.cli.app import app
from splinebench.errors import BadInputError
from splinebench.store import StoreReader

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "report"))
from report_stores import synthetic_profile, write_run  # noqa: E402

RESULTS = [("spline", 0.3, 0.91, 8e11), ("eb-spline", 0.3, 0.90, 4e11), ("ns", 0.3, 0.905, 9e11)]


def _invoke(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


def _store(tmp_path: Path) -> Path:
    store = tmp_path / "s.sqlite"
    write_run(store, "run-a", synthetic_profile(), RESULTS)
    write_run(store, "run-b", synthetic_profile(seed=1), RESULTS)
    return store


def test_a_report_from_an_exported_bundle_equals_the_report_from_the_store(tmp_path):
    store = _store(tmp_path)
    bundle = tmp_path / "data" / "runs.json.gz"
    done = _invoke("export", "run-a", "run-b", "--store", str(store), "--out", str(bundle))
    assert done.exit_code == 0, done.output
    assert json.loads(gzip.decompress(bundle.read_bytes()))["format"] == "splinebench-results-bundle"
    for fmt in ("md", "json", "csv"):
        from_store = _invoke("report", "run-a", "run-b", "--store", str(store), "--format", fmt)
        from_bundle = _invoke("report", "run-a", "run-b", "--store", str(bundle), "--format", fmt)
        assert from_store.exit_code == from_bundle.exit_code == 0, from_bundle.output
        assert from_bundle.output == from_store.output
    assert "Table 2" in from_store.output or "table2" in from_store.output


def test_runs_show_and_diff_read_a_bundle_and_a_plain_json_bundle_too(tmp_path):
    store = _store(tmp_path)
    bundle = tmp_path / "runs.json"
    assert _invoke("export", "run-a", "--store", str(store), "--out", str(bundle)).exit_code == 0
    shown = _invoke("runs", "show", "run-a", "--store", str(bundle), "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["run"]["id"] == "run-a"
    same = _invoke("runs", "diff", "run-a", "run-a", "--store", str(store), "--store-b", str(bundle))
    assert same.exit_code == 0 and "identical" in same.output
    reader_store, reader_bundle = StoreReader(store), StoreReader(bundle)
    assert reader_bundle.results("run-a") == reader_store.results("run-a")
    assert reader_bundle.layer_distances("run-a") == reader_store.layer_distances("run-a")
    assert reader_bundle.run("run-a").status == reader_store.run("run-a").status


def test_exporting_twice_gives_the_same_bytes(tmp_path):
    store = _store(tmp_path)
    a, b = tmp_path / "a.json.gz", tmp_path / "b.json.gz"
    for out in (a, b):
        assert _invoke("export", "run-a", "--store", str(store), "--out", str(out)).exit_code == 0
    assert a.read_bytes() == b.read_bytes()


def test_a_file_that_is_not_a_bundle_is_bad_input_naming_it(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something else"}')
    result = _invoke("runs", "show", "x", "--store", str(bad))
    assert isinstance(result.exception, BadInputError)  # main() prints it as one line, exit code 2
    assert "bad.json is not a splinebench results bundle" in str(result.exception)
