"""SIGINT and SIGTERM end a run the same way, wherever and however it was started.

A run on a board is started by a non-interactive shell as a background job (``setsid nohup ... &``), and POSIX shells
start background jobs with SIGINT *ignored*; Python keeps an ignored SIGINT ignored, so Ctrl-C forwarded by
``--stop-on-exit`` or ``runs stop`` did nothing, and SIGTERM killed the run without a word. Here both become a
``KeyboardInterrupt``: the run stops where a Ctrl-C would stop it (its last checkpoint stays), the CLI records it as
interrupted and exits 130.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType


def interrupt_on_signals() -> None:
    """Make SIGINT and SIGTERM raise ``KeyboardInterrupt`` in the main thread (a no-op elsewhere)."""
    if threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")
