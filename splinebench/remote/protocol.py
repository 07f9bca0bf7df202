"""The remote event log as untrusted input: every line is checked before anything of it reaches the store.

A board is a remote computer, not a trusted one (ARCHITECTURE.md). A line of its ``events.jsonl`` is stored here only
when it is a JSON object of a known event type, with every required field of the right type, every integer inside
SQLite's range, the run id of *the run being followed* and the next sequence number of that run. Anything else is
rejected with a reason; the follower records the rejection and never writes it, so a hostile or broken board cannot
change another run, crash the follower or plant unknown rows.

The check is derived from the event dataclasses themselves (``splinebench.engine.events``), so a new event type or
field is checked the day it is added, with no second schema to keep in step.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass
from typing import Any

from splinebench.engine.events import EVENT_TYPES, Event

MAX_LINE_BYTES = 4 << 20  # the largest real event (a plan of a deep net, a long distance-matrix row) is far below
INT_MIN, INT_MAX = -(1 << 63), (1 << 63) - 1  # SQLite's INTEGER
MAX_DEPTH = 32  # nested JSON deeper than this is not an event (and would cost recursion)


class ProtocolError(ValueError):
    """One line of the remote event log that is not a valid event of the followed run."""


@dataclass(frozen=True)
class Line:
    """A complete line of the log and the byte offset it starts at (``None`` data: the line was too long)."""

    offset: int
    data: bytes | None


class Tail:
    """Complete lines of a growing file, from a byte offset; a partial last line waits for its end.

    A line longer than :data:`MAX_LINE_BYTES` is not buffered: it is reported once as an over-long line (``data``
    None) and its bytes are dropped up to its newline, so a board cannot make the follower hold unbounded memory.
    """

    def __init__(self, offset: int = 0, max_line: int = MAX_LINE_BYTES) -> None:
        self.offset = offset
        self.max_line = max_line
        self._partial = b""
        self._partial_at = offset
        self._skipping = False

    @property
    def consumed(self) -> int:
        """Offset up to which every line has been handed out: where a later follower starts reading again."""
        return self._partial_at

    def feed(self, data: bytes) -> list[Line]:
        out: list[Line] = []
        start = self.offset
        self.offset += len(data)
        pos = 0
        while pos < len(data):
            end = data.find(b"\n", pos)
            if end < 0:
                chunk = data[pos:]
                if not self._skipping:
                    if len(self._partial) + len(chunk) > self.max_line:
                        out.append(Line(self._partial_at, None))
                        self._partial, self._skipping = b"", True
                    else:
                        self._partial += chunk
                break
            chunk = data[pos:end]
            if self._skipping:
                self._skipping = False
            elif len(self._partial) + len(chunk) > self.max_line:
                out.append(Line(self._partial_at, None))
            elif (self._partial + chunk).strip():
                out.append(Line(self._partial_at, self._partial + chunk))
            self._partial = b""
            pos = end + 1
            self._partial_at = start + pos
        return out


def parse_line(line: Line) -> dict[str, Any]:
    """The JSON object on ``line``; raises :class:`ProtocolError` for anything else."""
    if line.data is None:
        raise ProtocolError(f"line longer than {MAX_LINE_BYTES} bytes")
    try:
        payload = json.loads(line.data)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ProtocolError(f"not JSON ({type(exc).__name__})") from None
    if not isinstance(payload, dict):
        raise ProtocolError(f"not a JSON object but {type(payload).__name__}")
    return payload


def sequence_number(payload: dict[str, Any], run_id: str) -> int:
    """The line's ``seq`` once its run id is the followed run's: the first two checks, done before any other."""
    line_run = payload.get("run_id")
    if line_run != run_id:
        raise ProtocolError(f"event for another run ({_short(line_run)}), not {run_id}")
    seq = payload.get("seq")
    if not _is_int(seq) or not 1 <= seq <= INT_MAX:
        raise ProtocolError(f"seq {_short(seq)} is not a positive integer in SQLite's range")
    return seq


def check_event(payload: dict[str, Any], run_id: str, expected_seq: int) -> dict[str, Any]:
    """Validate one event of run ``run_id`` that must carry ``expected_seq``; return its normalized form.

    The normalized form is what gets stored: only the fields the event type declares (unknown keys from the board are
    dropped, absent optional ones get their defaults), numbers of float fields as floats.
    """
    seq = sequence_number(payload, run_id)
    if seq != expected_seq:
        raise ProtocolError(f"seq {seq} where {expected_seq} was expected (events missing or out of order)")
    kind = payload.get("type")
    cls = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None or cls is Event:
        raise ProtocolError(f"unknown event type {_short(kind)}")
    if (seq == 1) != (kind == "run_started"):
        raise ProtocolError("a run's first event, and only its first, is run_started")
    hints = _hints(cls)
    clean: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in payload:
            if f.default is not dataclasses.MISSING:
                clean[f.name] = f.default  # complete, like an event built here: the store needs every field (ts)
            elif f.default_factory is not dataclasses.MISSING:
                clean[f.name] = f.default_factory()
            else:
                raise ProtocolError(f"{kind}: required field {f.name!r} missing")
            continue
        clean[f.name] = _check(payload[f.name], hints[f.name], f"{kind}.{f.name}", 0)
    clean["type"] = kind
    return clean


def event_of(clean: dict[str, Any]) -> Event:
    """The typed event of a payload :func:`check_event` returned (cannot fail on one)."""
    cls = EVENT_TYPES[clean["type"]]
    return cls(**{k: v for k, v in clean.items() if k != "type"})


# --- type checks ---------------------------------------------------------------------------------------------------

_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check(value: Any, hint: Any, where: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ProtocolError(f"{where}: nested deeper than {MAX_DEPTH}")
    origin = typing.get_origin(hint)
    if hint is Any:
        return _check_plain(value, where, depth)
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(hint):
            try:
                return _check(value, option, where, depth)
            except ProtocolError:
                continue
        raise ProtocolError(f"{where}: {_short(value)} is not {_name(hint)}")
    if hint is type(None):
        if value is None:
            return None
    elif hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if _is_int(value):
            if not INT_MIN <= value <= INT_MAX:
                raise ProtocolError(f"{where}: {_short(value)} is outside SQLite's integer range")
            return value
    elif hint is float:
        if _is_int(value):
            if not INT_MIN <= value <= INT_MAX:
                raise ProtocolError(f"{where}: {_short(value)} is outside SQLite's integer range")
            return float(value)
        if isinstance(value, float):
            return value
    elif hint is str:
        if isinstance(value, str):
            return value
    elif origin is list and isinstance(value, list):
        (item,) = typing.get_args(hint) or (Any,)
        return [_check(v, item, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
    elif origin is dict and isinstance(value, dict):
        _, item = typing.get_args(hint) or (str, Any)
        return {k: _check(v, item, f"{where}.{k}", depth + 1) for k, v in value.items()}
    raise ProtocolError(f"{where}: {_short(value)} is not {_name(hint)}")


def _check_plain(value: Any, where: str, depth: int) -> Any:
    """Free-form JSON (a profile, a summary): any shape, but integers must still fit SQLite and JSON stay shallow."""
    if depth > MAX_DEPTH:
        raise ProtocolError(f"{where}: nested deeper than {MAX_DEPTH}")
    if _is_int(value) and not INT_MIN <= value <= INT_MAX:
        raise ProtocolError(f"{where}: {_short(value)} is outside SQLite's integer range")
    if isinstance(value, list):
        for i, v in enumerate(value):
            _check_plain(v, f"{where}[{i}]", depth + 1)
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_plain(v, f"{where}.{k}", depth + 1)
    return value


def _name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
