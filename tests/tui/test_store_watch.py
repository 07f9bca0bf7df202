"""The store watch wakes the dashboard when another connection commits, and (once a second) otherwise."""

from __future__ import annotations

import threading
import time

from splinebench.store import StoreReader, StoreWriter
from splinebench.tui.store_watch import StoreWatch
from splinebench.tui.synthetic import SyntheticRun


def test_data_version_changes_only_when_another_connection_commits(tmp_path):
    writer = StoreWriter(tmp_path / "s.sqlite")
    run = SyntheticRun(layers=3, epochs=4)
    writer.write_many(run.start())
    reader = StoreReader(tmp_path / "s.sqlite")
    before = reader.data_version()
    assert reader.data_version() == before
    reader.runs()
    assert reader.data_version() == before  # reading changes nothing
    writer.write_many(run.epoch(1))
    assert reader.data_version() != before
    reader.close()
    writer.close()


def test_a_commit_wakes_the_app_once_and_quiet_does_not(tmp_path):
    store = tmp_path / "s.sqlite"
    writer = StoreWriter(store)
    run = SyntheticRun(layers=3, epochs=4)
    writer.write_many(run.start())
    wakes: list[float] = []
    woken = threading.Event()

    def wake() -> None:
        wakes.append(time.monotonic())
        woken.set()

    watch = StoreWatch(str(store), wake, check_seconds=0.01, wake_seconds=60)
    watch.start()
    try:
        assert woken.wait(5)  # the first look always reports (nothing seen yet)
        watch.handled()
        woken.clear()
        time.sleep(0.3)
        assert not woken.is_set()  # quiet store: no wake-up
        writer.write_many(run.epoch(1))
        assert woken.wait(5)
        writer.write_many(run.epoch(2))  # not yet handled: no second message queued
        time.sleep(0.2)
        assert len(wakes) == 2
        woken.clear()
        watch.handled()
        assert woken.wait(5) and len(wakes) == 3  # the commit made while busy is reported after
    finally:
        watch.stop()
        writer.close()
