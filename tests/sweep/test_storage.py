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


def test_a_ticket_fetched_again_while_another_worker_reads_it_is_never_seen_half_copied(tmp_path, monkeypatch):
    """Two workers of one node share its scratch directory; both fetch the dense task a branch needs."""
    import threading
    import time

    monkeypatch.setenv("SPLINEBENCH_SCRATCH", str(tmp_path / "node"))
    storage = open_storage(f"file://{tmp_path}/remote")
    ticket = bytes(range(256)) * (64 * 1024)  # 16 MiB: a copy takes long enough to be caught half done
    (storage.task_dir("dense-1") / "tickets").mkdir(parents=True)
    (storage.task_dir("dense-1") / "tickets" / "final.pt").write_bytes(ticket)
    storage.publish("dense-1", ["tickets/final.pt"])
    target = storage.fetch("dense-1") / "tickets" / "final.pt"

    stop = threading.Event()

    def other_worker() -> None:
        while not stop.is_set():
            storage.fetch("dense-1", ["tickets/final.pt"])

    fetcher = threading.Thread(target=other_worker)
    fetcher.start()
    try:
        seen, deadline = [], time.monotonic() + 2.0
        while time.monotonic() < deadline:
            seen.append(len(target.read_bytes()))
    finally:
        stop.set()
        fetcher.join()
    assert seen and set(seen) == {len(ticket)}, f"a reader saw {sorted(set(seen))[:5]} bytes of {len(ticket)}"
    assert not list(target.parent.glob(".*.part"))
