"""``splinebench run --log ...``: the trackers see the run's events, read back from each tracker's own files."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wandb_log import read_run  # noqa: E402

SCRIPT = Path(sys.executable).with_name("splinebench")
TINY = """
name = "tiny"
seeds = [0]
device = "cpu"
threads = 1
[model]
name = "convnet-small"
[data]
name = "digits"
batch_size = 64
[train]
epochs = 3
lr = 0.05
[partition]
probe_size = 64
[early_bird]
eps = 0.5
window = 2
[prune]
ratios = [0.5]
pruners = [{name = "spline", ticket = "eb", label = "eb-spline"}]
[retrain]
epochs = 1
lr = 0.01
"""


def splinebench(*args: str, cwd: Path, env: dict[str, str | None] | None = None
                ) -> subprocess.CompletedProcess[str]:
    """The console script; ``env`` values of None remove the variable."""
    merged = {**os.environ, **(env or {})}
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, cwd=cwd, timeout=280,
                          env={k: v for k, v in merged.items() if v is not None})


@pytest.fixture(scope="module")
def logged_run(tmp_path_factory):
    """One tiny run logged to all three trackers at once (one run: the machine is small)."""
    pytest.importorskip("tensorboard")
    pytest.importorskip("mlflow")
    pytest.importorskip("wandb")
    root = tmp_path_factory.mktemp("trackers")
    (root / "tiny.toml").write_text(TINY)
    env = {"WANDB_API_KEY": None, "WANDB_MODE": None, "MLFLOW_ALLOW_FILE_STORE": None}
    result = splinebench("run", "tiny.toml", "--store", "s.sqlite", "--log", "tensorboard:tb", "--log",
                         "mlflow:mlruns", "--log", "wandb:wb", cwd=root, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "stopped logging" not in result.stderr
    conn = sqlite3.connect(root / "s.sqlite")
    run_id = conn.execute("SELECT id FROM runs").fetchone()[0]
    store = {
        "test_acc": [r[0] for r in conn.execute("SELECT test_acc FROM epochs WHERE phase='dense' ORDER BY epoch")],
        "eb_epoch": conn.execute("SELECT eb_epoch FROM runs").fetchone()[0],
        "accuracy": conn.execute("SELECT accuracy FROM results WHERE pruner='eb-spline'").fetchone()[0],
        "layers": [r[0] for r in conn.execute("SELECT DISTINCT layer FROM layer_distances")],
    }
    conn.close()
    return root, run_id, store


def test_tensorboard_event_files_hold_the_runs_epochs_distances_eb_plan_and_results(logged_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    root, run_id, store = logged_run
    events = EventAccumulator(str(root / "tb" / run_id), size_guidance={"scalars": 0, "tensors": 0})
    events.Reload()
    assert [s.value for s in events.Scalars("dense/test_acc")] == pytest.approx(store["test_acc"], rel=1e-6)
    for layer in store["layers"]:
        assert len(events.Scalars(f"distance/dense/{layer}")) >= 1
    assert events.Scalars("early_bird/spline/epoch")[0].value == store["eb_epoch"]
    assert events.Scalars("plan/eb-spline@0.5/achieved_ratio")[0].value == pytest.approx(0.5, abs=0.05)
    assert events.Scalars("result/eb-spline@0.5/accuracy")[0].value == pytest.approx(store["accuracy"], rel=1e-6)
    profile_text = events.Tensors("profile/text_summary")[0].tensor_proto.string_val[0].decode()
    assert '"convnet-small"' in profile_text


def test_mlflow_file_store_holds_a_finished_run_with_params_metrics_and_the_profile(logged_run):
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    from mlflow import MlflowClient

    root, run_id, store = logged_run
    client = MlflowClient(tracking_uri=(root / "mlruns").as_uri())
    experiment = client.get_experiment_by_name("tiny")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.run_name == run_id and run.info.status == "FINISHED"
    assert run.data.tags["splinebench.run_id"] == run_id
    assert run.data.params["model.name"] == "convnet-small"
    history = client.get_metric_history(run.info.run_id, "dense/test_acc")
    assert [m.value for m in sorted(history, key=lambda m: m.step)] == pytest.approx(store["test_acc"], rel=1e-6)
    assert run.data.metrics["result/eb-spline_0.5/accuracy"] == pytest.approx(store["accuracy"], rel=1e-6)
    assert run.data.metrics["early_bird/spline/epoch"] == store["eb_epoch"]
    for layer in store["layers"]:
        assert f"distance/dense/{layer}" in run.data.metrics
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert "profile.json" in artifacts


def test_wandb_writes_an_offline_run_directory_with_config_history_and_summary(logged_run):
    root, run_id, store = logged_run
    (run_file,) = (root / "wb" / "wandb").glob("offline-run-*/run-*.wandb")  # offline: nothing was sent
    run = read_run(run_file)
    assert run["name"] == run_id and run["project"] == "tiny" and run["exit_code"] == 0
    assert run["config"]["model"]["name"] == "convnet-small"
    acc = [row["dense/test_acc"] for row in run["history"] if "dense/test_acc" in row]
    assert acc == pytest.approx(store["test_acc"], rel=1e-6)
    assert any(f"distance/dense/{store['layers'][0]}" in row for row in run["history"])
    assert run["summary"]["result/eb-spline@0.5/accuracy"] == pytest.approx(store["accuracy"], rel=1e-6)
    assert run["summary"]["early_bird/spline/epoch"] == store["eb_epoch"]


def test_a_missing_tracker_extra_exits_2_naming_the_pip_extra(tmp_path):
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'mlflow':\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
    )
    (tmp_path / "tiny.toml").write_text(TINY)
    result = splinebench("run", "tiny.toml", "--store", "s.sqlite", "--log", "mlflow:mlruns", cwd=tmp_path,
                         env={"PYTHONPATH": str(blocker)})
    assert result.returncode == 2, result.stderr
    assert "pip install 'splinebench[mlflow]'" in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "s.sqlite").exists()


@pytest.mark.parametrize(("spec", "expected"), [
    ("tensorbord:tb", "unknown tracker 'tensorbord'. Did you mean: tensorboard?"),
    ("tensorboard", "--log tensorboard needs a target: --log tensorboard:DIR"),
])
def test_a_bad_log_spec_exits_2_with_one_line(tmp_path, spec, expected):
    (tmp_path / "tiny.toml").write_text(TINY)
    result = splinebench("run", "tiny.toml", "--store", "s.sqlite", "--log", spec, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert expected in " ".join(result.stderr.split())
    assert not (tmp_path / "s.sqlite").exists()
