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
