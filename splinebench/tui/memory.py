"""Keep Python's full garbage collections out of the redraws.

A full (generation 2) collection walks every tracked object. With the dashboard's widgets, stylesheets and a
run's feed that is 60-80 ms on the development machine, and it fires every 10-20 s of live updates, in the
middle of a redraw: it was the whole of the commit-to-screen delays over 100 ms that benchmarks/tui_refresh.py
measured (each one coincided with a collection). Freezing moves the objects alive now to a generation the
collector skips, so later collections only walk what was made since.

Textual pauses the collector during smooth scrolling for the same reason (``App.PAUSE_GC_ON_SCROLL``).
"""

from __future__ import annotations

import gc


def settle_memory() -> None:
    """Collect once, now, then exempt the survivors from later collections.

    Called when a screen has just been built or closed (a moment that already costs a redraw), not per frame.
    Unfreezing first lets this collection reclaim what a closed screen left, so freezing never leaks.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()
