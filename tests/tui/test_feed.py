"""The dashboard's incremental store polling, without Textual: what a poll fetches and reports as changed."""

from __future__ import annotations

from pathlib import Path

from splinebench.store import StoreReader, StoreWriter
from splinebench.tui.feed import RunFeed, RunsFeed
from splinebench.tui.synthetic import SyntheticRun


def _store(tmp_path: Path, run: SyntheticRun, epochs: int) -> tuple[StoreWriter, StoreReader]:
    writer = StoreWriter(tmp_path / "store.sqlite")
    writer.write_many(run.start())
    for epoch in range(1, epochs + 1):
        writer.write_many(run.epoch(epoch))
    return writer, StoreReader(tmp_path / "store.sqlite")


def test_a_poll_with_nothing_new_reports_no_change(tmp_path: Path) -> None:
    run = SyntheticRun(layers=4, epochs=10)
    _, reader = _store(tmp_path, run, 3)
    feed = RunFeed(run.run_id)
    assert "layers" in feed.poll(reader)
    assert feed.poll(reader) == set()


def test_a_new_epoch_adds_one_column_of_layer_distances_and_reports_its_topics(tmp_path: Path) -> None:
    run = SyntheticRun(layers=4, epochs=10, eps=1e-9)
    writer, reader = _store(tmp_path, run, 3)
    feed = RunFeed(run.run_id)
    feed.poll(reader)
    writer.write_many(run.epoch(4))
    changed = feed.poll(reader)
    assert {"epochs", "layers", "net", "matrix"} <= changed
    assert "early_birds" not in changed
    series = feed.partition["dense"]
    assert series.epochs == [1, 2, 3, 4]
    assert len(series.per_epoch[4]) == 4
    assert series.matrix_size() == 5


def test_incremental_queries_walk_the_rowid_range_not_the_whole_run(tmp_path: Path) -> None:
    """The reason for ``+run_id``: without it SQLite reads every row of the run through the run_id index."""
    run = SyntheticRun(layers=4, epochs=3)
    _, reader = _store(tmp_path, run, 3)
    plan = reader.query(
        "EXPLAIN QUERY PLAN SELECT * FROM layer_distances WHERE id > ? AND +run_id = ? ORDER BY id", (0, "x")
    )
    assert "INTEGER PRIMARY KEY" in " ".join(str(row[3]) for row in plan)


def test_the_eb_view_shows_the_fifo_before_and_the_stored_ticket_after_it_fires(tmp_path: Path) -> None:
    run = SyntheticRun(layers=4, epochs=60, eps=0.05, window=2)
    writer, reader = _store(tmp_path, run, 2)
    feed = RunFeed(run.run_id)
    feed.poll(reader)
    before = feed.early_bird_view("dense")
    assert before.fired_epoch is None
    assert before.fifo == [feed.partition["dense"].net[e][0] for e in (1, 2)]
    epoch = 2
    while run.fired is None:
        epoch += 1
        writer.write_many(run.epoch(epoch))
    assert "early_birds" in feed.poll(reader)
    after = feed.early_bird_view("dense")
    assert after.fired_epoch == run.fired
    assert after.fired_fifo is not None and max(after.fired_fifo) < after.eps


def test_a_resumed_run_with_rebuilt_rows_is_not_counted_twice(tmp_path: Path) -> None:
    run = SyntheticRun(layers=3, epochs=10, eps=1e-9)
    writer, reader = _store(tmp_path, run, 4)
    feed = RunFeed(run.run_id)
    feed.poll(reader)
    writer.truncate_after(run.run_id, writer.last_seq(run.run_id))  # rebuilds every projection with new ids
    writer.set_run_fields(run.run_id, pid=4242)
    feed.poll(reader)
    assert sorted(feed.epochs["dense"]) == [1, 2, 3, 4]
    assert feed.partition["dense"].epochs == [1, 2, 3, 4]


def test_the_runs_list_reports_an_early_bird_as_news_only_when_it_fires_while_open(tmp_path: Path) -> None:
    run = SyntheticRun(layers=3, epochs=60, eps=0.05)
    writer, reader = _store(tmp_path, run, 2)
    runs = RunsFeed()
    changed, news = runs.poll(reader)
    assert changed and news == []
    assert runs.summaries[run.run_id].progress == "2/60 rt 0/6"
    epoch = 2
    while run.fired is None:
        epoch += 1
        writer.write_many(run.epoch(epoch))
    _, news = runs.poll(reader)
    assert [(n.kind, n.epoch) for n in news] == [("early_bird", run.fired)]


def test_a_run_marked_running_whose_process_is_gone_reads_as_interrupted(tmp_path: Path) -> None:
    import os

    run = SyntheticRun(layers=3, epochs=10, pid=os.getpid(), host=os.uname().nodename)
    writer, reader = _store(tmp_path, run, 1)
    runs = RunsFeed()
    runs.poll(reader)
    assert runs.summaries[run.run_id].run.status == "running"
    writer.set_run_fields(run.run_id, pid=2**22 + 12345)  # no such process
    runs.poll(reader, force=True)
    assert runs.summaries[run.run_id].run.status == "interrupted"


def test_a_store_that_is_not_sqlite_raises_a_store_error_naming_the_file(tmp_path: Path) -> None:
    import pytest

    from splinebench.store import StoreError

    bad = tmp_path / "store.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="store.sqlite"):
        StoreReader(bad)


def test_the_runs_list_counts_the_branches_of_the_run_plan_each_entry_over_its_own_ratios(tmp_path: Path) -> None:
    run = SyntheticRun(layers=3, epochs=10, ratios=(0.3, 0.5, 0.7))
    writer = StoreWriter(tmp_path / "store.sqlite")
    events = list(run.start())
    plan = events[0]["plan"]
    plan["branches"][0]["runs"] = plan["branches"][0]["runs"][:1]  # "spline" at 30% only
    plan["branch_count"] = 4
    writer.write_many(events)
    runs = RunsFeed()
    runs.poll(StoreReader(tmp_path / "store.sqlite"))
    assert runs.summaries[run.run_id].retrain_planned == 4  # not 2 pruners x 3 ratios
