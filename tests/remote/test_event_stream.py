"""The board's event log is untrusted input: what a hostile or broken board writes there, through the same intake code
a real remote run uses (``EventIntake``, fed bytes as the follower feeds them), against a real SQLite store that also
holds an unrelated run."""

from __future__ import annotations

import io
import json
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from splinebench.cli.progress import RichProgress
from splinebench.remote import EventIntake, Tail
from splinebench.remote.protocol import MAX_LINE_BYTES
from splinebench.store import StoreReader, StoreWriter

RUN = "20261130-120000-aaaaaa"
VICTIM = "20261130-110000-bbbbbb"


def _started(run_id: str, seq: int = 1) -> dict[str, Any]:
    return {"type": "run_started", "run_id": run_id, "seq": seq, "ts": 100.0, "name": "tiny", "profile": {"x": 1},
            "versions": {"splinebench": "0"}, "model": "convnet-small", "dataset": "digits", "seed": 0,
            "device": "cpu", "pruners": ["spline"], "ratios": [0.5], "planned_epochs": 3}


def _epoch(run_id: str, seq: int, epoch: int = 1, phase: str = "dense") -> dict[str, Any]:
    return {"type": "epoch_finished", "run_id": run_id, "seq": seq, "ts": 101.0 + epoch, "phase": phase,
            "epoch": epoch, "train_loss": 1.0, "train_acc": 0.5, "test_loss": 1.0, "test_acc": 0.5, "lr": 0.1,
            "seconds": 1.0, "samples": 64, "training_flops": 1e6}


def _evaluated(run_id: str, seq: int, accuracy: float) -> dict[str, Any]:
    return {"type": "evaluated", "run_id": run_id, "seq": seq, "ts": 120.0, "pruner": "spline", "ratio": 0.5,
            "accuracy": accuracy, "loss": 0.4, "ticket": "final", "eb_epoch": None, "dense_training_flops": 1e6,
            "retrain_training_flops": 1e5, "total_training_flops": 1.1e6, "params": 100, "flops": 1e4}


def _finished(run_id: str, seq: int) -> dict[str, Any]:
    return {"type": "run_finished", "run_id": run_id, "seq": seq, "ts": 130.0, "seconds": 30.0}


def _line(payload: Any) -> bytes:
    return json.dumps(payload).encode() + b"\n"


def _store_with_victim(directory: Path) -> Path:
    """A store holding one finished, unrelated run (accuracy 0.878), as the issue's attack found it."""
    store = directory / "store.sqlite"
    writer = StoreWriter(store)
    for payload in (_started(VICTIM), _epoch(VICTIM, 2), _evaluated(VICTIM, 3, 0.878), _finished(VICTIM, 4)):
        writer.write(payload)
    writer.close()
    return store


def _snapshot(store: Path, run_id: str) -> dict[str, list[tuple]]:
    db = sqlite3.connect(store)
    try:
        return {table: db.execute(f"SELECT * FROM {table} WHERE {key}=? ORDER BY 1", (run_id,)).fetchall()
                for table, key in (("runs", "id"), ("events", "run_id"), ("results", "run_id"), ("epochs", "run_id"))}
    finally:
        db.close()


def _intake(store: Path, warnings: list[str], *, details: dict[str, Any] | None = None,
            sinks: tuple = ()) -> tuple[EventIntake, StoreWriter]:
    writer = StoreWriter(store)
    return EventIntake(writer, RUN, details if details is not None else {}, sinks=sinks,
                       warn=warnings.append), writer


def _stored_seqs(store: Path, run_id: str) -> list[int]:
    db = sqlite3.connect(store)
    try:
        return [r[0] for r in db.execute("SELECT seq FROM events WHERE run_id=? ORDER BY seq", (run_id,))]
    finally:
        db.close()


# --- the attack of the issue, one case at a time --------------------------------------------------------------------


def test_a_line_naming_another_run_changes_nothing_of_that_run(tmp_path):
    store = _store_with_victim(tmp_path)
    before = _snapshot(store, VICTIM)
    warnings: list[str] = []
    intake, writer = _intake(store, warnings)
    hostile = _evaluated(VICTIM, 5, 0.999) | {"flops": 1.0}
    outcome = intake.feed(_line(_started(RUN)) + _line(hostile) + _line({"type": "run_failed", "run_id": VICTIM,
                                                                          "seq": 6, "ts": 1.0, "error": "pwned"}))
    writer.close()
    assert outcome is None  # another run's terminal event does not end this follower
    assert _snapshot(store, VICTIM) == before
    assert intake.rejections == 2 and "another run" in warnings[0]
    assert _stored_seqs(store, RUN) == [1]


def test_the_follower_stops_on_its_own_runs_terminal_event_only(tmp_path):
    store = _store_with_victim(tmp_path)
    intake, writer = _intake(store, [])
    assert intake.feed(_line(_started(RUN)) + _line(_finished(VICTIM, 2))) is None
    assert intake.feed(_line(_epoch(RUN, 2))) is None
    assert intake.feed(_line(_finished(RUN, 3))) == "run_finished"
    writer.close()
    assert StoreReader(store).run(RUN).status == "finished"


def test_an_event_without_its_optional_fields_is_stored_with_their_defaults(tmp_path):
    """Found by the Hypothesis test below: a line without ``ts`` passed the check and crashed the writer."""
    store = _store_with_victim(tmp_path)
    intake, writer = _intake(store, [])
    no_ts = {k: v for k, v in _finished(RUN, 2).items() if k != "ts"}
    assert intake.feed(_line(_started(RUN)) + _line(no_ts)) == "run_finished"
    writer.close()
    assert _stored_seqs(store, RUN) == [1, 2]
    assert StoreReader(store).run(RUN).status == "finished"


def test_an_unknown_event_type_is_not_stored(tmp_path):
    store = _store_with_victim(tmp_path)
    intake, writer = _intake(store, [])
    intake.feed(_line(_started(RUN)) + _line({"type": "drop_tables", "run_id": RUN, "seq": 2, "ts": 1.0}))
    writer.close()
    db = sqlite3.connect(store)
    assert db.execute("SELECT COUNT(*) FROM events WHERE type='drop_tables'").fetchone()[0] == 0
    assert _stored_seqs(store, RUN) == [1]


def test_malformed_lines_are_rejected_with_a_reason_each(tmp_path):
    store = _store_with_victim(tmp_path)
    warnings: list[str] = []
    intake, writer = _intake(store, warnings)
    bad = [b"not json at all\n", _line([1, 2]), _line({k: v for k, v in _epoch(RUN, 2).items() if k != "seq"}),
           _line(_epoch(RUN, 2) | {"seq": "2"}), _line(_epoch(RUN, 2) | {"seq": 1 << 64}),
           _line({k: v for k, v in _epoch(RUN, 2).items() if k != "test_acc"})]
    intake.feed(_line(_started(RUN)) + b"".join(bad))
    writer.close()
    reasons = [e["why"] for e in intake.details["protocol_errors"]]
    assert len(reasons) == len(bad)
    for reason, expected in zip(reasons, ["not JSON", "not a JSON object", "seq None", "seq '2'",
                                          "SQLite's range", "required field 'test_acc' missing"], strict=True):
        assert expected in reason
    assert len(warnings) == EventIntake.SAY  # the first few are said; all are recorded and counted
    assert _stored_seqs(store, RUN) == [1]


def test_a_run_that_ends_without_its_last_word_after_rejections_is_failed_with_the_reason(tmp_path):
    store = _store_with_victim(tmp_path)
    intake, writer = _intake(store, [])
    intake.feed(_line(_started(RUN)) + b"{broken\n" + _line(_epoch(RUN, 3)))  # a hole: seq 2 never came
    assert intake.ended_without_last_word() == "failed"
    writer.close()
    row = StoreReader(store).run(RUN)
    assert row.status == "failed"
    assert row.error.startswith("remote-protocol-error: 2 line(s)")
    assert row.remote["protocol_error_count"] == 2


def test_attach_goes_on_after_the_last_line_handled_and_meets_no_bad_line_twice(tmp_path):
    store = _store_with_victim(tmp_path)
    log = _line(_started(RUN)) + b"garbage\n" + _line(_epoch(RUN, 2))
    first, writer = _intake(store, [])
    first.feed(log)
    writer.close()
    assert first.rejections == 1
    details = StoreReader(store).run(RUN).remote  # what `runs attach` reads back
    warnings: list[str] = []
    again, writer = _intake(store, warnings, details=details)
    assert again.tail.offset == len(log)
    assert again.feed(b"") is None and again.feed(_line(_finished(RUN, 3))) == "run_finished"
    writer.close()
    assert warnings == [] and again.rejections == 1
    assert _stored_seqs(store, RUN) == [1, 2, 3]


def test_a_line_longer_than_the_limit_is_dropped_without_being_held(tmp_path):
    tail = Tail()
    huge = b'{"pad": "' + b"x" * (MAX_LINE_BYTES + 10) + b'"}\n'
    lines = []
    for i in range(0, len(huge), 1 << 20):  # as the follower reads it: in chunks
        lines += tail.feed(huge[i:i + (1 << 20)])
        assert len(tail._partial) <= MAX_LINE_BYTES
    lines += tail.feed(b'{"next": 1}\n')
    assert [line.data for line in lines] == [None, b'{"next": 1}']


def test_rich_markup_from_the_board_is_shown_literally(tmp_path):
    store = _store_with_victim(tmp_path)
    screen = io.StringIO()
    progress = RichProgress(Console(file=screen, width=200))
    warnings: list[str] = []
    intake, writer = _intake(store, warnings, sinks=(progress,))
    started = _started(RUN) | {"model": "[/bold]", "dataset": "[red]x[/]"}
    with progress:
        intake.feed(_line(started) + _line(_epoch(RUN, 2, phase="[/]")) + _line(
            {"type": "run_failed", "run_id": RUN, "seq": 3, "ts": 1.0, "error": "[bold red]boom[/nope]"}))
    writer.close()
    assert warnings == []
    assert "[/bold] on [red]x[/]" in screen.getvalue() and "[bold red]boom[/nope]" in screen.getvalue()


# --- fuzz: hostile lines of every kind ------------------------------------------------------------------------------

_MARKUP = st.sampled_from(["[/bold]", "[red]", "[/]", "[link=file:///etc/shadow]x[/link]", "\x1b[31m", "\u202e"])
_JUNK_VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=1 << 63),
                         st.integers(max_value=-(1 << 63) - 1), st.floats(), st.text(max_size=20), _MARKUP,
                         st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(),
                                                                              max_size=3))
_TYPES = st.sampled_from(["run_started", "run_finished", "run_failed", "epoch_finished", "evaluated", "plan_made",
                          "phase_started", "energy_measured", "no_such_type", "", "event", "__class__"])


@st.composite
def _hostile_line(draw: st.DrawFn, next_seq: int) -> bytes:
    kind = draw(st.sampled_from(["bytes", "json", "other_run", "mutated", "duplicate", "gap", "markup"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200)).replace(b"\n", b" ") + b"\n"
    if kind == "json":
        return _line(draw(st.one_of(_JUNK_VALUES, st.lists(_JUNK_VALUES, max_size=3))))
    base = draw(st.sampled_from([_epoch(RUN, next_seq), _evaluated(RUN, next_seq, 0.999), _finished(RUN, next_seq)]))
    if kind == "other_run":
        return _line(base | {"run_id": draw(st.sampled_from([VICTIM, "", None, 7, RUN + "x", RUN[:-1]]))})
    if kind == "duplicate":
        return _line(base | {"seq": draw(st.integers(min_value=1, max_value=max(1, next_seq - 1)))})
    if kind == "gap":
        return _line(base | {"seq": draw(st.integers(min_value=next_seq + 1))})
    if kind == "markup":
        return _line(base | {"type": "no_such_type", "phase": draw(_MARKUP)})
    mutated = dict(base)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        key = draw(st.sampled_from(sorted(mutated) + ["type"]))
        action = draw(st.sampled_from(["drop", "junk", "type"]))
        if action == "drop":
            mutated.pop(key, None)
        elif action == "junk":
            mutated[key] = draw(_JUNK_VALUES)
        else:
            mutated["type"] = draw(_TYPES)
    return _line(mutated)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_hostile_lines_never_crash_never_touch_another_run_and_leave_the_run_honest(data):
    with tempfile.TemporaryDirectory() as directory:
        store = _store_with_victim(Path(directory))
        before = _snapshot(store, VICTIM)
        screen = io.StringIO()
        progress = RichProgress(Console(file=screen, width=120))
        warnings: list[str] = []
        intake, writer = _intake(store, warnings, sinks=(progress,))
        with progress:
            intake.feed(_line(_started(RUN)))
            for _ in range(data.draw(st.integers(min_value=1, max_value=6))):
                if data.draw(st.booleans()):  # now and then a good event in between
                    intake.feed(_line(_epoch(RUN, intake.last_seq + 1, epoch=intake.last_seq)))
                chunk = data.draw(_hostile_line(intake.last_seq + 1))
                split = data.draw(st.integers(min_value=0, max_value=len(chunk)))
                intake.feed(chunk[:split])  # lines arrive in arbitrary pieces, as over a link
                intake.feed(chunk[split:])
            if intake.outcome is None:
                intake.ended_without_last_word()
        writer.close()
        assert _snapshot(store, VICTIM) == before  # zero writes to another run
        seqs = _stored_seqs(store, RUN)
        assert seqs == list(range(1, len(seqs) + 1))  # only its own events, in order, no holes
        row = StoreReader(store).run(RUN)
        assert row.status in ("finished", "failed", "interrupted")  # never left "running"
        if row.status == "failed" and intake.outcome is None:
            assert row.error.startswith("remote-protocol-error")
        assert all("\n" not in w for w in warnings)  # one line each
