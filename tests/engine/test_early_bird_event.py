"""An early bird a plug-in detector fires without reporting its test is recorded as such, not as eps 0."""

from __future__ import annotations

import io
import json

from rich.console import Console

from splinebench.cli.progress import RichProgress
from splinebench.engine.events import EarlyBirdFired, RunStarted
from splinebench.engine.pipeline import early_bird_fields
from splinebench.remote.protocol import check_event, event_of
from splinebench.store import StoreReader, StoreWriter


def test_what_a_hook_does_not_report_stays_none_and_what_it_reports_is_kept():
    assert early_bird_fields({}) == {"eps": None, "window": None, "fifo": []}
    assert early_bird_fields({"eps": 0.1, "window": 3, "fifo": [0.05, 0.02]}) == {
        "eps": 0.1, "window": 3, "fifo": [0.05, 0.02]
    }
    assert early_bird_fields({"eps": 0, "window": 5})["eps"] == 0.0  # a real zero is not mistaken for absent


def _fired(**fields) -> EarlyBirdFired:
    return EarlyBirdFired(run_id="r1", **{"detector": "my-plugin", "phase": "dense", "epoch": 4, "eps": None,
                                          "window": None, "fifo": [], **fields})


def test_the_store_records_an_unreported_eps_as_null(tmp_path):
    writer = StoreWriter(tmp_path / "s.sqlite")
    reader = None
    try:
        writer(RunStarted(run_id="r1", seq=1, name="t", profile={}, versions={}, model="m", dataset="d", seed=0,
                          device="cpu", planned_epochs=4))
        writer(_fired(seq=2))
        reader = StoreReader(tmp_path / "s.sqlite")
        (row,) = reader.early_birds("r1")
        assert row["eps"] is None and row["window"] is None and json.loads(row["fifo"]) == []
    finally:
        writer.close()
        if reader is not None:
            reader.close()


def test_a_remote_board_may_send_an_unreported_eps():
    payload = {"type": "early_bird_fired", "run_id": "r1", "seq": 7, "detector": "my-plugin", "phase": "dense",
               "epoch": 4, "eps": None, "window": None, "fifo": []}
    event = event_of(check_event(payload, "r1", 7))
    assert event.eps is None and event.window is None


def test_the_progress_line_leaves_out_a_test_the_detector_did_not_report():
    pipe = io.StringIO()
    with RichProgress(Console(file=pipe, force_terminal=False, width=200)) as progress:
        progress(_fired())
        progress(_fired(detector="spline", eps=0.1, window=2, fifo=[0.05, 0.04]))
    lines = [line for line in pipe.getvalue().splitlines() if "early bird" in line]
    assert lines[0].endswith("fired in dense after epoch 4") and "None" not in lines[0]
    assert lines[1].endswith("after epoch 4: FIFO [0.050, 0.040] < eps 0.1")
