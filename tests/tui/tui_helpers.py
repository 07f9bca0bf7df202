"""Helpers for the dashboard tests: the recorded store, running pilot tests, reading the screen as text."""

from __future__ import annotations

import asyncio
import functools
import io
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from textual.app import App
from textual.pilot import Pilot

HERE = Path(__file__).parent
FIXTURE_STORE = HERE / "fixtures" / "quickstart.sqlite"
FIXTURE_RUN = "20261126-093117-7d4035"
PROFILES = HERE.parents[1] / "profiles"
def screen_text(app: App) -> str:
    """What the terminal shows now, as plain text (the same render an SVG snapshot is made from)."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True, record=True,
                      color_system="truecolor", legacy_windows=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text(styles=False)


async def wait_for(pilot: Pilot, condition: Callable[[], bool], timeout: float = 10.0, step: float = 0.1,
                   what: str = "condition") -> None:
    """Let the app run until ``condition()`` holds; fail with ``what`` if it does not within ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await pilot.pause(step)
    await pilot.pause()


def pilot_test(test: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """Run an async pilot test on a fresh event loop (no async pytest plugin needed); fixtures pass."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


def clone_run(store: Path, run_id: str, new_id: str, seed: int, sweep_id: str | None, acc_shift: float = 0.0,
              later: float = 60.0) -> None:
    """Copy every row of ``run_id`` to a run ``new_id`` with another seed (a sweep's other trial, in effect);
    its test accuracies moved by ``acc_shift`` so pooled seeds have a spread."""
    import sqlite3

    db = sqlite3.connect(store)
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    for table in tables:
        columns = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
        if table == "runs":
            values = {"id": "?", "seed": str(seed), "sweep_id": "?", "created_at": f"created_at + {later}"}
            select = ", ".join(values.get(c, c) for c in columns)
            db.execute(f"INSERT INTO runs ({', '.join(columns)}) SELECT {select} FROM runs WHERE id=?",
                       (new_id, sweep_id, run_id))
            if sweep_id is not None:
                db.execute("UPDATE runs SET sweep_id=? WHERE id=?", (sweep_id, run_id))
        elif "run_id" in columns:
            kept = [c for c in columns if c != "id"]
            select = ", ".join("?" if c == "run_id" else c for c in kept)
            db.execute(f"INSERT INTO {table} ({', '.join(kept)}) SELECT {select} FROM {table} WHERE run_id=?",
                       (new_id, run_id))
    db.execute("UPDATE epochs SET test_acc = test_acc + ? WHERE run_id=?", (acc_shift, new_id))
    db.execute("UPDATE results SET accuracy = accuracy + ? WHERE run_id=?", (acc_shift, new_id))
    db.commit()
    db.close()
