"""Energy that under-counts is never silent: a window the meter's samples cover less than ``energy_min_coverage`` of
is marked partial with its coverage, and so are the phase window and every result total that include it — in the
events, the store and ``runs show``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from splinebench.engine import energy_windows
from splinebench.engine.energy_windows import EnergyWindows
from splinebench.engine.events import Evaluated, EventBus, PhaseFinished, PhaseStarted, RunStarted
from splinebench.measure.energy import EnergyMeter
from splinebench.measure.energy.tegrastats import parse_tegrastats_line
from splinebench.store import StoreReader, StoreWriter

TRACE = Path(__file__).resolve().parents[1] / "fixtures" / "tegrastats" / "recorded" / "tx2.txt"
SCRIPT = Path(sys.executable).with_name("splinebench")


class Clock:
    """The run's and the board's clock, moved by the test."""

    t = 0.0

    @classmethod
    def time(cls) -> float:
        return cls.t


class ReplayedTrace(EnergyMeter):
    """A recorded TX2 tegrastats trace replayed at 1 s per line, with the samples of a link drop left out."""

    name = "replay"

    def __init__(self, until: float, gap: tuple[float, float]) -> None:
        super().__init__(interval_ms=1000)
        lines = [x for x in TRACE.read_text().splitlines() if x and not x.startswith("#")]
        samples = [parse_tegrastats_line(lines[int(t) % len(lines)], t=float(t)) for t in range(int(until) + 1)]
        self._record([s for s in samples if s is not None and not gap[0] < s.t < gap[1]])

    def start(self) -> None:
        self._mark_running(True)

    def stop(self) -> None:
        self._mark_running(False)

    def now(self) -> float:
        return Clock.time()


def test_a_window_with_a_gap_is_partial_and_so_are_the_totals_that_include_it(tmp_path, monkeypatch):
    monkeypatch.setattr(energy_windows, "time", Clock)
    store = tmp_path / "store.sqlite"
    writer = StoreWriter(store)
    bus = EventBus("r1", clock=Clock.time)
    bus.subscribe(writer, required=True)
    seen = []
    bus.subscribe(seen.append)
    meter = ReplayedTrace(until=80, gap=(12.0, 19.5))  # the link drops for most of dense epoch 2
    windows = EnergyWindows(meter, bus)
    bus.emit(RunStarted, name="energy", profile={}, versions={}, model="m", dataset="d", seed=0, device="cpu",
             pruners=["spline"], ratios=[0.5])

    def phase(name: str, kind: str, edges: list[float], **where) -> list[float | None]:
        Clock.t = edges[0]
        bus.emit(PhaseStarted, phase=name, kind=kind, epochs=len(edges) - 1, **where)
        windows.phase_started(name)
        spans = enumerate(zip(edges, edges[1:], strict=False), start=1)
        joules = [windows.epoch(name, i, t0, t1) for i, (t0, t1) in spans]
        Clock.t = edges[-1]
        bus.emit(PhaseFinished, phase=name, epochs=len(edges) - 1, seconds=edges[-1] - edges[0], training_flops=1.0)
        windows.phase_finished(name)
        return joules

    dense = phase("dense", "dense", [0, 10, 20, 60])
    retrain = phase("retrain:spline@0.5", "retrain", [60, 70, 80], pruner="spline", ratio=0.5)
    common = {"loss": 0.1, "accuracy": 0.9, "eb_epoch": None, "dense_training_flops": 1.0, "params": 1, "flops": 1.0,
              "retrain_training_flops": 1.0, "total_training_flops": 2.0, "dense_phase": "dense"}
    bus.emit(Evaluated, pruner="dense", ratio=0.0, ticket="final", ticket_epoch=3, total_energy_j=sum(dense), **common)
    bus.emit(Evaluated, pruner="spline", ratio=0.5, ticket="init", ticket_epoch=0, total_energy_j=sum(retrain),
             **common)
    writer.close()

    measured = {(e.phase, e.window, e.epoch): e for e in seen if e.type == "energy_measured"}
    gap_epoch = measured[("dense", "epoch", 2)]
    assert gap_epoch.partial and gap_epoch.coverage == pytest.approx(0.2)  # [10, 12] of [10, 20] has samples
    assert gap_epoch.joules is not None and gap_epoch.joules > 0  # what was covered, not a guess for the rest
    assert not measured[("dense", "epoch", 1)].partial and not measured[("dense", "epoch", 3)].partial
    dense_phase = measured[("dense", "phase", None)]
    assert dense_phase.coverage > 0.8 and dense_phase.partial  # covered enough itself, but holds a partial epoch
    assert not any(e.partial for (name, _, _), e in measured.items() if name.startswith("retrain"))

    reader = StoreReader(store)
    rows = {(r["phase"], r["window"], r["epoch"]): r for r in reader.energy("r1")}
    assert rows[("dense", "epoch", 2)]["partial"] == 1 and rows[("dense", "epoch", 2)]["coverage"] == pytest.approx(0.2)
    assert rows[("dense", "phase", None)]["partial"] == 1 and rows[("dense", "epoch", 1)]["partial"] == 0
    results = {r["pruner"]: r for r in reader.results("r1")}
    reader.close()
    assert results["dense"]["energy_partial"] == 1 and results["dense"]["energy_coverage"] == pytest.approx(0.2)
    assert results["spline"]["energy_partial"] == 0  # from the init ticket: no dense epoch in its total

    shown = subprocess.run([str(SCRIPT), "runs", "show", "r1", "--store", str(store)], capture_output=True, text=True,
                           timeout=120)
    assert shown.returncode == 0, shown.stderr
    dense_line = next(line for line in shown.stdout.splitlines() if "dense" in line)
    spline_line = next(line for line in shown.stdout.splitlines() if "spline" in line)
    assert "(partial: 20% covered)" in dense_line and "partial" not in spline_line


def test_the_coverage_threshold_is_the_profiles(tmp_path, tiny_profile):
    from splinebench.errors import BadInputError
    from splinebench.profiles import load_profile

    assert tiny_profile().energy_min_coverage == 0.8
    profile = tmp_path / "p.toml"
    profile.write_text("energy_min_coverage = 0.95\n")
    assert load_profile(profile).energy_min_coverage == 0.95
    with pytest.raises(BadInputError, match="energy_min_coverage"):
        load_profile(profile, ["energy_min_coverage=1.5"])
