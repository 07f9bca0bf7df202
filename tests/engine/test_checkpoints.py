"""Checkpoints are plain data: what a run saves loads with weights_only=True, and a pickled object is refused unrun."""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np
import pytest
import torch

from splinebench.engine import checkpoints
from splinebench.engine.state import DenseResult, PhaseProgress, ResumeState


class _RunsCodeWhenUnpickled:
    """What a crafted state.pt from a board could hold: unpickling it would create ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_state_file_holding_a_pickled_object_is_refused_with_a_clear_error_and_never_run(tmp_path):
    marker = tmp_path / "pwned"
    torch.save({"seq": 1, "started": True, "dense": {}, "branches": [], "current": _RunsCodeWhenUnpickled(marker)},
               checkpoints.state_path(tmp_path))
    with pytest.raises(checkpoints.UnsafeCheckpointError, match="not a plain-data checkpoint, refused unread"):
        checkpoints.load_state(tmp_path)
    assert not marker.exists()
    # the same file through the full unpickler really would have run it: the test above can fail
    torch.load(checkpoints.state_path(tmp_path), weights_only=False)
    assert marker.exists()


def test_the_resume_state_round_trips_through_a_weights_only_load(tmp_path):
    codes = np.arange(12, dtype=np.uint8).reshape(3, 4)
    state = ResumeState(
        seq=7, started=True,
        dense={"dense": DenseResult("dense", {"init": "i.pt"}, {"init": 0}, [0.0, 1.5], [None, 2.0], 0.9, 0.1,
                                    {"mask": {"masks": {0.5: [torch.ones(3)]}}})},
        branches=["retrain:spline@0.3"],
        current=PhaseProgress("retrain:spline@0.5", 2, {"w": torch.ones(2)}, {"state": {}},
                              {"milestones": collections.Counter({4: 1, 6: 1})}, 3.0,
                              {"partition": {"previous": {"layers": {"a": codes}}}}, {"structure": {"history": []}}),
    )
    checkpoints.save_state(state, tmp_path)
    torch.load(checkpoints.state_path(tmp_path), weights_only=True)  # plain data on disk
    back = checkpoints.load_state(tmp_path)
    assert back is not None and back.seq == 7 and back.branches == ["retrain:spline@0.3"]
    dense = back.dense["dense"]
    assert (dense.cum_flops, dense.epoch_energy, dense.tickets) == ([0.0, 1.5], [None, 2.0], {"init": "i.pt"})
    assert torch.equal(dense.hook_states["mask"]["masks"][0.5][0], torch.ones(3))
    assert back.current is not None and back.current.scheduler["milestones"] == collections.Counter({4: 1, 6: 1})
    assert isinstance(back.current.scheduler["milestones"], collections.Counter)
    restored = back.current.observers["partition"]["previous"]["layers"]["a"]
    assert isinstance(restored, np.ndarray) and restored.dtype == np.uint8 and np.array_equal(restored, codes)


def test_saving_an_object_that_is_not_plain_data_fails_at_once(tmp_path):
    with pytest.raises(TypeError, match="convert it to plain data"):
        checkpoints.atomic_save({"result": DenseResult("dense", {}, {}, [])}, tmp_path / "x.pt")

