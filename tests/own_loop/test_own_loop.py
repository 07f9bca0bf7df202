"""Bring your own loop: a plain PyTorch loop and a Lightning Trainer stream into the store like any run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import splinebench
from splinebench.store import StoreReader

SCRIPT = Path(sys.executable).with_name("splinebench")


def blobs(n: int = 256, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two Gaussian blobs in 4-D: learnable in a few epochs on one core."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.randn(n, 4, generator=g) + 2.0 * (y.float()[:, None] - 0.5)
    return x, y


def mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2))


def train_epoch(model: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> float:
    model.train()
    total = 0.0
    for i in range(0, len(x), 32):
        opt.zero_grad()
        loss = F.cross_entropy(model(x[i : i + 32]), y[i : i + 32])
        loss.backward()
        opt.step()
        total += loss.item() * len(x[i : i + 32])
    return total / len(x)


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


def read(store: Path, run_id: str) -> dict:
    reader = StoreReader(str(store))
    try:
        q = reader.query
        return {
            "run": reader.run(run_id),
            "epochs": [dict(r) for r in q("SELECT * FROM epochs WHERE run_id=? ORDER BY epoch", (run_id,))],
            "layers": [dict(r) for r in q("SELECT * FROM layer_distances WHERE run_id=?", (run_id,))],
            "matrix": q("SELECT COUNT(*) AS n FROM distance_matrix WHERE run_id=?", (run_id,))[0]["n"],
            "early_birds": [dict(r) for r in q("SELECT * FROM early_birds WHERE run_id=?", (run_id,))],
            "results": reader.results(run_id),
        }
    finally:
        reader.close()


def test_a_plain_loop_records_epochs_distances_and_its_result_and_reads_back_like_any_run(tmp_path):
    store = tmp_path / "s.sqlite"
    x, y = blobs()
    xt, yt = blobs(128, seed=1)
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with splinebench.track(model, probe=x[:64], store=store, name="plain-loop", epochs=4, eps=1e-9) as tracker:
        for _ in range(4):
            loss = train_epoch(model, opt, x, y)
            tracker.epoch(train_loss=loss, test_acc=accuracy(model, xt, yt), samples=len(x))
        tracker.result(accuracy=accuracy(model, xt, yt))
    got = read(store, tracker.run_id)
    assert got["run"].status == "finished" and got["run"].name == "plain-loop"
    assert [e["epoch"] for e in got["epochs"]] == [1, 2, 3, 4]
    assert all(e["training_flops"] > 0 for e in got["epochs"])
    assert {r["layer"] for r in got["layers"]} == {"1", "3"}  # the two ReLUs of the MLP
    assert len(got["layers"]) == 2 * 4  # per layer, epochs 1..4 against the epoch before
    assert got["matrix"] == 5 * 5  # epochs 0..4, both halves
    assert got["early_birds"] == []  # eps this small never fires
    (dense,) = got["results"]
    assert dense["pruner"] == "dense" and dense["accuracy"] == pytest.approx(accuracy(model, xt, yt))
    # the faces read it like an engine run: the run table and the report
    shown = subprocess.run([str(SCRIPT), "runs", "show", tracker.run_id, "--store", str(store)],
                           capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0 and "dense" in shown.stdout, shown.stderr
    report = subprocess.run([str(SCRIPT), "report", tracker.run_id, "--store", str(store)],
                            capture_output=True, text=True, timeout=120)
    assert report.returncode == 0, report.stderr


def test_the_dashboard_feed_sees_the_partition_series_while_the_loop_runs(tmp_path):
    from splinebench.tui.feed import RunFeed

    store = tmp_path / "s.sqlite"
    x, y = blobs()
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    tracker = splinebench.track(model, probe=x[:32], store=store, epochs=3)
    feed = RunFeed(tracker.run_id)
    for epoch in range(1, 3):
        tracker.epoch(train_loss=train_epoch(model, opt, x, y), test_acc=accuracy(model, x, y))
        reader = StoreReader(str(store))
        feed.poll(reader, force=True)
        reader.close()
        assert feed.run.status == "running" and max(feed.epochs["dense"]) == epoch
        assert feed.partition["dense"].epochs[-1] == epoch
    tracker.finish()


def test_the_spline_early_bird_can_stop_the_users_loop(tmp_path):
    store = tmp_path / "s.sqlite"
    x, y = blobs()
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    ran = 0
    with splinebench.track(model, probe=x[:64], store=store, epochs=10, eps=10.0, window=2,
                           stop_at_early_bird=True) as tracker:
        for _ in range(10):
            tracker.epoch(train_loss=train_epoch(model, opt, x, y))
            ran += 1
            if tracker.should_stop:
                break
    got = read(store, tracker.run_id)
    assert ran == 2  # a FIFO of 2 distances below eps = 10 is full after epoch 2
    assert [(e["detector"], e["epoch"]) for e in got["early_birds"]] == [("spline", 2)]
    assert got["run"].eb_epoch == 2 and got["run"].status == "finished"
    assert got["results"] == []  # no accuracy was given: no result row is made up


def test_an_exception_in_the_loop_records_a_failed_run(tmp_path):
    store = tmp_path / "s.sqlite"
    x, _ = blobs()
    with pytest.raises(RuntimeError), splinebench.track(mlp(), probe=x[:16], store=store) as tracker:
        tracker.epoch()
        raise RuntimeError("the user's loop broke")
    got = read(store, tracker.run_id)
    assert got["run"].status == "failed" and "the user's loop broke" in got["run"].error


def test_a_lightning_trainer_streams_its_fit_into_the_store_and_the_eb_stops_it(tmp_path):
    pl = pytest.importorskip("lightning.pytorch")
    from splinebench.integrations.lightning import SplineTracking

    class Module(pl.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net = mlp()

        def forward(self, x):
            return self.net(x)

        def training_step(self, batch, _):
            x, y = batch
            loss = F.cross_entropy(self(x), y)
            self.log("train_loss", loss, on_step=False, on_epoch=True)
            return loss

        def validation_step(self, batch, _):
            x, y = batch
            self.log("val_acc", (self(x).argmax(1) == y).float().mean(), on_epoch=True)

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    x, y = blobs()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=32)
    store = tmp_path / "s.sqlite"
    callback = SplineTracking(probe=x[:64], store=store, eps=10.0, window=2, stop_at_early_bird=True)
    trainer = pl.Trainer(max_epochs=6, callbacks=[callback], accelerator="cpu", logger=False,
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                         num_sanity_val_steps=0, default_root_dir=str(tmp_path))
    trainer.fit(Module(), loader, loader)
    got = read(store, callback.tracker.run_id)
    assert got["run"].status == "finished" and got["run"].name == "Module"
    assert [e["epoch"] for e in got["epochs"]] == [1, 2]  # the EB at epoch 2 stopped a 6-epoch fit
    assert all(e["test_acc"] is not None and e["train_loss"] is not None for e in got["epochs"])
    assert got["run"].eb_epoch == 2 and {r["layer"] for r in got["layers"]} == {"net.1", "net.3"}
    assert got["results"][0]["accuracy"] == pytest.approx(got["epochs"][-1]["test_acc"])
