"""``splinebench export-model``: the pruned model as ONNX (checked in onnxruntime) or .pt (reloaded elsewhere)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from tiny_profiles import tiny_profile_dict

from splinebench.engine.checkpoints import load_pruned_model, pruned_model_path
from splinebench.engine.run import execute, run_dir_for
from splinebench.profiles import profile_from_dict

SCRIPT = Path(sys.executable).with_name("splinebench")


def splinebench(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One tiny run with a structured (spline) and an unstructured (lottery ticket) pruner at 50%."""
    where = tmp_path_factory.mktemp("export")
    store = where / "store.sqlite"
    profile = profile_from_dict(tiny_profile_dict(**{"prune.pruners": [{"name": "spline"}, {"name": "lt"}],
                                                      "latency.enabled": False}))
    run_id, ok = execute(profile, str(store))
    assert ok
    return store, run_id


def _inputs() -> torch.Tensor:
    return torch.randn(5, 1, 8, 8, generator=torch.Generator().manual_seed(3))  # digits: 1x8x8


@pytest.mark.parametrize("pruner", ["spline", pytest.param("lt", marks=pytest.mark.slow)])  # lt: masks folded
def test_an_onnx_export_gives_the_torch_models_outputs_in_onnxruntime(finished_run, tmp_path, pruner) -> None:
    ort = pytest.importorskip("onnxruntime")
    store, run_id = finished_run
    out = tmp_path / f"{pruner}.onnx"
    done = splinebench("export-model", run_id, "--pruner", pruner, "--ratio", "0.5", "--format", "onnx",
                       "--out", str(out), "--store", str(store), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    (got,) = session.run(["logits"], {"input": _inputs().numpy()})  # batch 5: the batch axis is dynamic
    model = load_pruned_model(pruned_model_path(run_dir_for(store, run_id), f"retrain:{pruner}@0.5"))
    with torch.no_grad():
        expected = model(_inputs()).numpy()
    assert got.shape == (5, 10)
    assert abs(got - expected).max() < 1e-4
    provenance = json.loads((tmp_path / f"{pruner}.onnx.json").read_text())
    assert provenance["run_id"] == run_id and provenance["pruner"] == pruner and provenance["ratio"] == 0.5
    assert provenance["format"] == "onnx" and provenance["model"] == "convnet-small"
    assert provenance["ticket"] == "final" and provenance["achieved_ratio"] == pytest.approx(0.5, abs=0.05)
    assert {"torch", "onnx", "onnxruntime"} <= set(provenance["exported_with"])
    assert provenance["onnxruntime_max_abs_diff"] < 1e-4


def test_a_pt_export_reloads_in_a_fresh_process_with_the_same_logits(finished_run, tmp_path) -> None:
    store, run_id = finished_run
    out = tmp_path / "spline.pt"
    done = splinebench("export-model", run_id[:12], "--pruner", "spline", "--ratio", "0.5", "--out", str(out),
                       "--store", str(store), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    torch.save(_inputs(), tmp_path / "x.pt")
    reload = (
        "import sys, torch\n"
        "from splinebench.engine.checkpoints import load_pruned_model\n"
        "model = load_pruned_model(sys.argv[1])\n"
        "torch.save(model(torch.load(sys.argv[2])).detach(), sys.argv[3])\n"
    )
    fresh = subprocess.run([sys.executable, "-c", reload, str(out), str(tmp_path / "x.pt"), str(tmp_path / "y.pt")],
                           capture_output=True, text=True, timeout=300)
    assert fresh.returncode == 0, fresh.stderr
    model = load_pruned_model(pruned_model_path(run_dir_for(store, run_id), "retrain:spline@0.5"))
    with torch.no_grad():
        assert torch.equal(torch.load(tmp_path / "y.pt"), model(_inputs()))
    # no pickled class: the file is plain names, numbers and tensors
    saved = torch.load(out, weights_only=True)
    assert saved["model"] == "convnet-small" and saved["history"]
    assert json.loads((tmp_path / "spline.pt.json").read_text())["format"] == "pt"


def test_exporting_a_pruner_or_ratio_the_run_lacks_exits_2_naming_what_it_has(finished_run, tmp_path) -> None:
    store, run_id = finished_run
    done = splinebench("export-model", run_id, "--pruner", "spline", "--ratio", "0.3", "--out", str(tmp_path / "x"),
                       "--store", str(store), cwd=tmp_path)
    assert done.returncode == 2
    assert "no such pruned model. Exportable: lt --ratio 0.5; spline --ratio 0.5" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "x").exists()
