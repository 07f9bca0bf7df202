"""The store watch wakes the dashboard when another connection commits, and (once a second) otherwise."""

from __future__ import annotations

import sys
import threading
import time

import pytest

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


def _store_with_run(tmp_path):
    writer = StoreWriter(tmp_path / "s.sqlite")
    run = SyntheticRun(layers=3, epochs=6)
    writer.write_many(run.start())
    return writer, run


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="file events are inotify's (Linux)")
def test_on_linux_the_watch_sleeps_on_file_events_and_a_commit_wakes_it_at_once(tmp_path):
    writer, run = _store_with_run(tmp_path)
    woken = threading.Event()
    watch = StoreWatch(str(tmp_path / "s.sqlite"), woken.set, wake_seconds=60)
    looks = []
    version = watch._version
    watch._version = lambda: looks.append(time.monotonic()) or version()  # count the looks at the store
    watch.start()
    try:
        assert woken.wait(5)
        assert watch.mode == "events"
        watch.handled()
        woken.clear()
        before = len(looks)
        time.sleep(1.0)
        assert len(looks) == before  # a quiet store is not looked at (polling: 10 looks a second)
        committed = time.monotonic()
        writer.write_many(run.epoch(1))
        assert woken.wait(5)
        assert time.monotonic() - committed < 0.5
    finally:
        watch.stop()
        writer.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="file events are inotify's (Linux)")
def test_a_file_system_that_reports_no_events_is_watched_on_the_clock_instead(tmp_path, monkeypatch):
    """NFS delivers no inotify events for another machine's writes: simulated by events from another folder."""
    from splinebench.tui import store_watch

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    real = store_watch._inotify_watch
    monkeypatch.setattr(store_watch, "_inotify_watch", lambda store: real(elsewhere / store.name))
    store = tmp_path / "store"
    store.mkdir()
    writer, run = _store_with_run(store)
    woken = threading.Event()
    watch = StoreWatch(str(store / "s.sqlite"), woken.set, check_seconds=0.02, wake_seconds=1.0)
    watch.start()
    try:
        assert woken.wait(5) and watch.mode == "events"
        for epoch in (1, 2):  # two changes no event announced, each seen only at the once-a-second look
            watch.handled()
            woken.clear()
            writer.write_many(run.epoch(epoch))
            assert woken.wait(5)
        deadline = time.monotonic() + 5
        while watch.mode != "polling" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert watch.mode == "polling"
        for epoch in (3, 4):
            assert woken.wait(5)
            watch.handled()  # just woken, so the once-a-second wake is a second away: a quick one is the commit's
            woken.clear()
            committed = time.monotonic()
            writer.write_many(run.epoch(epoch))
            assert woken.wait(5) and time.monotonic() - committed < 0.25
    finally:
        watch.stop()
        writer.close()
