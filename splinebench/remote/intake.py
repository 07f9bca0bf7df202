"""From the board's event log into the local store: each line checked (``protocol``), stored once, or rejected.

The follower (``runner``) reads bytes over SSH and hands them here; everything that decides what gets stored lives in
this one class, so the fuzz tests drive exactly the code a real remote run uses, without a network.

Policy for a line that fails the check: it is not stored, a one-line warning says why (the first few), and the
rejection is kept in the run's ``remote`` details (offset and reason of the first 20, and a count). The follower goes
on reading: a later valid line of this run is stored if it is the next in sequence, so garbage *between* events costs
nothing, while a hole in the sequence stops the stream being stored. If the run then ends without its own terminal
event, it is recorded as failed with the reason ("remote-protocol-error: ..."), never left "running". The read
position is saved with the run, so ``runs attach`` goes on after the last line already handled instead of meeting the
same bad line again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from splinebench.engine.events import Event
from splinebench.remote.protocol import ProtocolError, Tail, check_event, event_of, parse_line, sequence_number
from splinebench.store import StoreWriter

TERMINAL = frozenset({"run_finished", "run_failed"})


class EventIntake:
    """Store the checked events of one remote run (``run_id``) from its log's bytes, in order."""

    KEEP = 20  # rejections kept in the run's remote details
    SAY = 5  # rejections said as warnings; the rest are counted

    def __init__(self, writer: StoreWriter, run_id: str, details: dict[str, Any], *,
                 sinks: Iterable[Callable[[Event], None]] = (), warn: Callable[[str], None] = print,
                 observe: Callable[[dict[str, Any]], None] | None = None, results_dir: str | None = None) -> None:
        self.writer = writer
        self.run_id = run_id
        self.details = details
        self.sinks = list(sinks)
        self.warn = warn
        self.observe = observe
        self.results_dir = results_dir
        self.last_seq = writer.last_seq(run_id)
        self.tail = Tail(int(details.get("log_offset") or 0) if self.last_seq else 0)
        details.setdefault("protocol_errors", [])
        details.setdefault("protocol_error_count", 0)
        details["log_offset"] = self.tail.consumed
        self.outcome: str | None = None
        self._said = 0
        self._dirty = False

    @property
    def rejections(self) -> int:
        return int(self.details["protocol_error_count"])

    def feed(self, data: bytes) -> str | None:
        """Handle the next bytes of the log; returns the run's terminal event type once it has arrived."""
        for line in self.tail.feed(data):
            if self.outcome is not None:
                break
            try:
                payload = parse_line(line)
                if sequence_number(payload, self.run_id) <= self.last_seq:
                    continue  # already stored before a reconnect or an attach
                clean = check_event(payload, self.run_id, self.last_seq + 1)
            except ProtocolError as exc:
                self._reject(line.offset, str(exc))
                continue
            self._store(clean)
        if self.details["log_offset"] != self.tail.consumed:
            self.details["log_offset"] = self.tail.consumed
            self._dirty = True
        self.save()
        return self.outcome

    def save(self) -> None:
        """Record the read position and the rejections with the run (once it exists here)."""
        if self._dirty and self.last_seq:
            self.writer.set_run_fields(self.run_id, remote=self.details)
            self._dirty = False

    def ended_without_last_word(self) -> str:
        """The run's process is gone and no terminal event of it arrived: record that honestly; returns the status."""
        if self.rejections:
            self.writer.set_run_fields(self.run_id, status="failed", error=self.summary())
            return "failed"
        self.writer.set_run_fields(self.run_id, status="interrupted")
        return "interrupted"

    def summary(self) -> str:
        first = self.details["protocol_errors"][0] if self.details["protocol_errors"] else {"offset": "?", "why": "?"}
        return (f"remote-protocol-error: {self.rejections} line(s) of the board's event log rejected, first at byte "
                f"{first['offset']}: {first['why']}")

    # -----------------------------------------------------------------------------------------------------------
    def _store(self, clean: dict[str, Any]) -> None:
        self.writer.write(clean)
        self.last_seq = clean["seq"]
        if clean["type"] == "run_started":
            fields: dict[str, Any] = {"remote": self.details}
            if self.results_dir is not None:
                fields["results_dir"] = self.results_dir
            self.writer.set_run_fields(self.run_id, **fields)
            self._dirty = False
        if self.observe is not None:
            self.observe(clean)
        event = event_of(clean)
        for sink in self.sinks:
            try:
                sink(event)
            except Exception as exc:  # noqa: BLE001 - a watcher must never stop the follower (as on the EventBus)
                self.warn(f"run {self.run_id}: showing event {clean['seq']} ({clean['type']}) failed: "
                          f"{type(exc).__name__}: {exc}")
        if clean["type"] in TERMINAL:
            self.outcome = clean["type"]

    def _reject(self, offset: int, why: str) -> None:
        self.details["protocol_error_count"] = self.rejections + 1
        if len(self.details["protocol_errors"]) < self.KEEP:
            self.details["protocol_errors"].append({"offset": offset, "why": why})
        self._dirty = True
        if self._said < self.SAY:
            self._said += 1
            more = " (further rejections are counted, not shown)" if self._said == self.SAY else ""
            self.warn(f"run {self.run_id}: rejected a line of the board's event log at byte {offset}: {why}; "
                      f"it was not stored{more}")
