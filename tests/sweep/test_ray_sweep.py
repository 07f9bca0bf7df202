"""The Ray executor on a two-node loopback cluster: placement, a worker killed mid-retrain, a driver killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from sweep_helpers import QUICKSTART, RAY_GRID, RAY_OVERRIDES, final_metrics, metrics, run_cli, sweep_cli

from splinebench.sweep import sweep_runs
from splinebench.sweep.driver import SweepRequest, plan_sweep, run_sweep
from splinebench.sweep.storage import ATTEMPTS, HOLD

ray = pytest.importorskip("ray")


def _request(tmp: Path, **changes) -> SweepRequest:
    return SweepRequest(store=str(tmp / "store.sqlite"), profile=QUICKSTART, overrides=RAY_OVERRIDES, grid=RAY_GRID,
                        executor="ray", storage=str(tmp / "storage"), **changes)


def _attempts(storage: Path, sweep_id: str, task: str) -> list[dict]:
    path = storage / sweep_id / "tasks" / task / ATTEMPTS
    return [json.loads(line) for line in path.read_text().splitlines()]


def _wait_gone(pid: int, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise AssertionError(f"process {pid} still alive after {timeout}s")


@pytest.fixture(scope="module")
def undisturbed(ray_cluster, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ray")
    plan = plan_sweep(_request(tmp))
    outcome = run_sweep(plan, str(tmp / "store.sqlite"), [])
    assert outcome.ok
    return plan, outcome, str(tmp / "store.sqlite")


def test_the_trials_run_on_both_nodes_and_every_task_records_its_node(undisturbed):
    plan, outcome, store = undisturbed
    by_resource = {}
    for node in ray.nodes():
        for name in ("node_a", "node_b"):
            if name in node["Resources"]:
                by_resource[name] = node["NodeID"]
    tasks = [*outcome.summary["dense_tasks"].values(), *outcome.summary["branch_tasks"].values()]
    assert len(tasks) == 6 and all(t["nodes"] for t in tasks)
    used = {t["nodes"][-1] for t in tasks}
    assert used == set(by_resource.values())  # both nodes, and nothing else
    assert sorted(outcome.summary["tasks_per_node"].values())[0] >= 1
    assert len(sweep_runs(store, plan.sweep_id)) == 2


@pytest.mark.slow  # minutes of the default run's budget; `scripts/test -m slow` runs it
def test_a_worker_killed_mid_retrain_is_retried_and_ends_with_the_undisturbed_metrics(undisturbed, tmp_path):
    reference_plan, _, reference_store = undisturbed
    plan = plan_sweep(_request(tmp_path, sweep_id="sweep-worker-kill"))
    target = "t00-spline@0.5"
    hold = tmp_path / "storage" / plan.sweep_id / "tasks" / target / HOLD
    hold.parent.mkdir(parents=True)
    hold.touch()  # the task waits at its first retraining checkpoint, so the kill lands mid-retrain
    killed: list[int] = []

    def kill_the_held_worker(record: dict) -> None:
        if record["type"] == "task_held" and record["task"] == target and not killed:
            assert record["phase"] == "retrain:spline@0.5" and record["epoch"] == 1
            os.kill(record["pid"], signal.SIGKILL)
            killed.append(record["pid"])
            hold.unlink()

    outcome = run_sweep(plan, str(tmp_path / "store.sqlite"), [kill_the_held_worker])
    assert killed and outcome.ok
    attempts = _attempts(tmp_path / "storage", plan.sweep_id, target)
    assert [a["attempt"] for a in attempts] == [1, 2]
    assert attempts[0]["pid"] == killed[0] and attempts[1]["pid"] != killed[0]
    assert attempts[1]["resumed_from"] == {"phase": "retrain:spline@0.5", "epoch": 1}
    got_ids, want_ids = [t.run_id for t in plan.trials], [t.run_id for t in reference_plan.trials]
    assert final_metrics(tmp_path / "store.sqlite", got_ids) == final_metrics(reference_store, want_ids)
    for got, want in zip(got_ids, want_ids, strict=True):
        assert metrics(tmp_path / "store.sqlite", got) == metrics(reference_store, want)


@pytest.mark.slow  # minutes of the default run's budget; `scripts/test -m slow` runs it
def test_a_driver_killed_with_sigkill_resumes_without_rerunning_finished_branches(undisturbed, ray_cluster, tmp_path):
    reference_plan, _, reference_store = undisturbed
    storage, store = tmp_path / "storage", tmp_path / "store.sqlite"
    args = [QUICKSTART, "--executor", "ray", "--address", ray_cluster.address, "--storage", str(storage),
            "--store", str(store), "--json"]
    for override in RAY_OVERRIDES:
        args += ["--set", override]
    for axis in RAY_GRID:
        args += ["--grid", axis]
    last = "t01-eb-spline@0.5"  # held, so the sweep cannot finish before the kill
    proc = subprocess.Popen(sweep_cli(*args), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            cwd=tmp_path, env={**os.environ, "OMP_NUM_THREADS": "1"})
    sweep_id, held_pid, written = None, None, []
    assert proc.stdout is not None
    for line in proc.stdout:
        record = json.loads(line)
        if record["type"] == "sweep_started":
            sweep_id = record["sweep_id"]
            hold = storage / sweep_id / "tasks" / last / HOLD
            hold.parent.mkdir(parents=True, exist_ok=True)
            hold.touch()
        if record["type"] == "evaluated" and record["pruner"] != "dense":
            written.append(record["run_id"])
        if record["type"] == "task_held" and record["task"] == last:
            held_pid = record["pid"]
        if written and held_pid:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL and sweep_id is not None and held_pid is not None
    finished = {p.parent.name for p in (storage / sweep_id / "tasks").glob("*/result.pt")}
    assert any(not key.startswith("dense") for key in finished)
    _wait_gone(held_pid)  # Ray stops a dead driver's tasks
    (storage / sweep_id / "tasks" / last / HOLD).unlink()

    resumed = run_cli("--resume", sweep_id, "--address", ray_cluster.address, "--store", str(store), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    for key in finished:  # finished before the kill: never run again
        assert len(_attempts(storage, sweep_id, key)) == 1, key
    again = _attempts(storage, sweep_id, last)
    assert len(again) == 2 and again[1]["resumed_from"] == {"phase": "retrain:eb-spline@0.5", "epoch": 1}
    got_ids = sweep_runs(store, sweep_id)
    want_ids = [t.run_id for t in reference_plan.trials]
    for got, want in zip(got_ids, want_ids, strict=True):
        assert metrics(store, got) == metrics(reference_store, want)  # every event once, numbered without holes


def test_tasks_ask_ray_for_a_gpu_only_when_the_profile_trains_on_cuda(ray_cluster, tmp_path):
    from splinebench.sweep.ray_executor import RayExecutor
    from splinebench.sweep.storage import open_storage

    executor = RayExecutor(open_storage(str(tmp_path)), address=ray_cluster.address, cpus_per_task=1,
                           gpus_per_task=0.5)
    try:
        assert executor.device_for({"device": "auto"}) == "cpu"  # this cluster has no GPU
        assert "num_gpus" not in executor._options({"device": "cpu"}, "t")
        assert executor._options({"device": "cuda"}, "t")["num_gpus"] == 0.5
        assert executor._options({"device": "cuda", "threads": 1}, "t")["num_cpus"] == 1
        labels = executor.node_labels()
        assert sorted(label.split()[-1] for label in labels.values()) == ["node_a", "node_b"]
    finally:
        executor.close()
