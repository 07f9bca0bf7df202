"""Same profile and seed on the same machine and thread count -> the same numbers, whatever else ran or was listed.

Each test compares whole event streams with ``report.diff`` (every epoch, distance, matrix row, EB event, plan and
result), so a number that moves anywhere fails it.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from splinebench.engine import rng
from splinebench.engine.run import execute, resume
from splinebench.report.diff import diff_runs
from splinebench.store import StoreReader
from splinebench.zoo.catalog import MODELS, register_model

DROPOUT_NET = "test-dropout-fcnet"


@pytest.fixture
def dropout_net():
    """A tiny MLP with dropout (its training draws from torch's global RNG on every step), unregistered afterwards
    so the zoo's own listing (tests/zoo) never sees it."""

    @register_model(DROPOUT_NET, family="test", description="8x8 inputs: flatten, 32 ReLU units, dropout 0.5, linear")
    def dropout_fcnet(num_classes: int, in_channels: int) -> nn.Module:
        return nn.Sequential(nn.Flatten(), nn.Linear(in_channels * 64, 32), nn.ReLU(), nn.Dropout(0.5),
                             nn.Linear(32, num_classes))

    yield DROPOUT_NET
    MODELS.unregister(DROPOUT_NET)


def _diff(store: str, a: str, b: str):
    reader = StoreReader(store)
    try:
        return diff_runs(reader, a, reader, b)
    finally:
        reader.close()


def test_a_rerun_gives_identical_numbers_even_after_other_global_draws(tmp_path, tiny_profile):
    store = str(tmp_path / "store.sqlite")
    first, ok = execute(tiny_profile(), store)
    assert ok
    torch.manual_seed(12345)  # whatever ran before in this process must not matter
    torch.rand(1000)
    second, ok = execute(tiny_profile(), store)
    assert ok
    result = _diff(store, first, second)
    assert result.first is None, result.to_dict()
    assert result.identical and result.compared > 20
    assert result.only_in_a == result.only_in_b == 0


def test_the_dense_phase_does_not_depend_on_the_pruners_ratios_or_retraining_listed(tmp_path, tiny_profile):
    store = str(tmp_path / "store.sqlite")
    many = tiny_profile(**{
        "prune.ratios": [0.3, 0.5],
        "prune.pruners": [
            {"name": "random", "ticket": "final"},
            {"name": "spline", "ticket": "final", "label": "spline", "retrain": {"mode": "scratch"}},
            {"name": "spline", "ticket": "eb", "label": "eb-spline"},
        ],
        "retrain.epochs": 2,
    })
    only_eb = tiny_profile(**{
        "prune.ratios": [0.5], "prune.pruners": [{"name": "spline", "ticket": "eb", "label": "eb-spline"}],
        "retrain.epochs": 0,
    })
    a, ok_a = execute(many, store)
    b, ok_b = execute(only_eb, store)
    assert ok_a and ok_b
    result = _diff(store, a, b)
    reader = StoreReader(store)
    eb_epoch = reader.run(b).eb_epoch
    dense_b = [e for e in reader.epochs(b) if e["phase"] == "dense"]
    reader.close()
    assert eb_epoch is not None and len(dense_b) == eb_epoch  # b stopped at its EB: nothing needs the final model
    # every event b has (dense epochs, distances, matrix rows, the EB, eb-spline@0.5's plan) is equal in a
    # b stopped dense training at its EB and did not retrain: only those summaries may differ
    assert {(d.event, d.where.get("pruner")) for d in result.differences} <= {
        ("phase_finished", None), ("evaluated", "dense"), ("phase_started", "eb-spline"), ("phase_finished", None),
        ("evaluated", "eb-spline")}, result.to_dict()
    assert result.compared >= 3 * eb_epoch


def _interrupt_at(phase: str, epoch: int):
    def sink(event) -> None:
        if event.type == "checkpoint_saved" and (event.phase, event.epoch) == (phase, epoch):
            raise KeyboardInterrupt
    return sink


def test_a_run_with_dropout_resumed_mid_phase_ends_identical_to_an_uninterrupted_one(tmp_path, tiny_profile,
                                                                                     dropout_net):
    profile = tiny_profile(**{"model.name": DROPOUT_NET, "train.epochs": 4, "retrain.epochs": 2,
                              "early_bird.enabled": False,
                              "prune.pruners": [{"name": "spline", "ticket": "final"}]})
    store = str(tmp_path / "store.sqlite")
    reference, ok = execute(profile, store)
    assert ok
    interrupted = None
    try:
        execute(profile, store, sinks=[_interrupt_at("dense", 3)])
    except KeyboardInterrupt:
        interrupted = StoreReader(store).runs()[-1].id
    assert interrupted is not None
    torch.rand(100)  # the resumed process's global RNG is anywhere
    _, ok = resume(store, interrupted)
    assert ok
    result = _diff(store, reference, interrupted)
    assert result.first is None, result.to_dict()
    assert result.identical and result.only_in_a == result.only_in_b == 0


def test_streams_are_independent_of_each_other_and_leave_the_global_rng_alone():
    torch.manual_seed(7)
    before = torch.random.get_rng_state()
    with rng.global_stream(0, rng.MODEL_INIT):
        a = torch.rand(3)
    assert torch.equal(torch.random.get_rng_state(), before)
    torch.rand(50)
    with rng.global_stream(0, rng.MODEL_INIT):
        assert torch.equal(torch.rand(3), a)
    with rng.global_stream(0, rng.DATA_ORDER, "dense", 1):
        assert not torch.equal(torch.rand(3), a)
    assert rng.stream_seed(0, rng.DATA_ORDER, "dense", 1) != rng.stream_seed(0, rng.DATA_ORDER, "dense", 2)
    assert rng.stream_seed(0, rng.PROBE) != rng.stream_seed(1, rng.PROBE)
    g = rng.generator(3, rng.CALIBRATION)
    assert torch.equal(torch.randperm(10, generator=g), torch.randperm(10, generator=rng.generator(3, rng.CALIBRATION)))


ALERTING_NET = "test-nondeterministic-net"


@pytest.fixture
def alerting_net():
    """A tiny MLP whose forward fails as a CUDA op without a deterministic kernel does under deterministic mode
    (the message is c10's alertNotDeterministic text, which CPU torch cannot be made to raise); unregistered after."""

    class Alerting(nn.Sequential):
        def forward(self, x):
            if torch.are_deterministic_algorithms_enabled():
                raise RuntimeError(
                    "test_scatter_cuda does not have a deterministic implementation, but you set "
                    "'torch.use_deterministic_algorithms(True)'. You can turn off determinism just for this "
                    "operation, or you can use the 'warn_only=True' option, if that's acceptable for your "
                    "application.")
            return super().forward(x)

    @register_model(ALERTING_NET, family="test", description="8x8 inputs; alerts under deterministic algorithms")
    def alerting(num_classes: int, in_channels: int) -> nn.Module:
        return Alerting(nn.Flatten(), nn.Linear(in_channels * 64, 16), nn.ReLU(), nn.Linear(16, num_classes))

    yield ALERTING_NET
    MODELS.unregister(ALERTING_NET)


def test_deterministic_mode_is_recorded_and_refuses_a_nondeterministic_op_by_name(tmp_path, tiny_profile,
                                                                                  alerting_net):
    from splinebench.errors import BadInputError

    store = str(tmp_path / "store.sqlite")
    try:
        ok_id, ok = execute(tiny_profile(**{"deterministic": True, "train.epochs": 1, "retrain.epochs": 0}), store)
        assert ok
        environment = StoreReader(store).environment(ok_id)
        assert environment["deterministic_algorithms"] is True
        assert environment["cublas_workspace_config"] == ":4096:8"
        assert environment["torch_threads"] == 1 and environment["torch"] == torch.__version__
        with pytest.raises(BadInputError, match="test_scatter_cuda has no deterministic implementation"):
            execute(tiny_profile(**{"deterministic": True, "model.name": ALERTING_NET}), store)
    finally:
        torch.use_deterministic_algorithms(False)
    _, ok = execute(tiny_profile(**{"model.name": ALERTING_NET, "train.epochs": 1, "retrain.epochs": 0}), store)
    assert ok  # without deterministic = true the same model trains


def test_the_fingerprint_a_sweep_records_for_its_workers_is_the_one_they_train_in():
    """``task_fingerprint`` states what ``set_deterministic`` and the task's thread count will make of a worker
    without doing it in the driver: a worker process that applies both must report the very same fields."""
    import json
    import subprocess
    import sys

    from splinebench.engine.environment import task_fingerprint

    code = (
        "import json, torch\n"
        "from splinebench.engine.environment import fingerprint, set_deterministic\n"
        "set_deterministic(True)\n"
        "torch.set_num_threads(1)\n"
        "print(json.dumps(fingerprint(torch.device('cpu'))))\n"
    )
    worker = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                       check=True).stdout)
    stated = task_fingerprint(torch.device("cpu"), threads=1, deterministic=True)
    worker.pop("torch_interop_threads")  # not a task setting: left as each process starts
    stated.pop("torch_interop_threads")
    assert stated == worker
