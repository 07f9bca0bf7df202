"""Task storage: a shared directory in place, or an fsspec URL mirrored through each node's scratch directory."""

from __future__ import annotations

import pickle

import pytest

from splinebench.errors import BadInputError
from splinebench.sweep.storage import FsspecStorage, Storage, open_storage


def test_a_plain_path_is_used_in_place_and_survives_pickling(tmp_path):
    storage = open_storage(str(tmp_path / "shared"))
    assert type(storage) is Storage
    assert storage.task_dir("t") == tmp_path / "shared" / "tasks" / "t"
    assert pickle.loads(pickle.dumps(storage)).root == storage.root


def test_a_url_task_published_on_one_node_is_fetched_on_another(tmp_path, monkeypatch):
    monkeypatch.setenv("SPLINEBENCH_SCRATCH", str(tmp_path / "node-a"))
    here = open_storage(f"file://{tmp_path}/remote")
    assert isinstance(here, FsspecStorage)
    work = here.task_dir("dense-1")
    (work / "tickets").mkdir(parents=True)
    (work / "state.pt").write_bytes(b"state")
    (work / "tickets" / "final.pt").write_bytes(b"ticket")
    here.publish("dense-1", ["state.pt", "tickets/final.pt", "missing.pt"])
    assert here.exists("dense-1", "state.pt") and not here.exists("dense-1", "missing.pt")

    monkeypatch.setenv("SPLINEBENCH_SCRATCH", str(tmp_path / "node-b"))
    there = pickle.loads(pickle.dumps(here))  # what a worker on another node receives
    assert there.task_dir("dense-1") != work
    fetched = there.fetch("dense-1")
    assert (fetched / "state.pt").read_bytes() == b"state"
    assert (fetched / "tickets" / "final.pt").read_bytes() == b"ticket"
    only = there.fetch("dense-1", ["tickets/final.pt"])
    assert only == fetched


def test_an_unknown_url_scheme_is_bad_input(tmp_path):
    with pytest.raises(BadInputError, match="storage 'nosuchfs://x'"):
        open_storage("nosuchfs://x")
