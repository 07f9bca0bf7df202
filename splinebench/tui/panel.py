"""What a run-screen panel is: a tab with its widgets, the feed topics that make it stale, and how it draws.

A panel lives in one widget file, which defines its widget(s) and a :class:`Panel` value; the run screen lists the
panels in :data:`splinebench.tui.panels.PANELS` and knows nothing else about them. Adding a panel is that file plus
one line in that tuple (docs/plugins.md shows one in full). Keeping a panel's compose and draw beside its widget is
what lets the screen stay one loop over the list instead of an ``if pid == ...`` ladder that every panel edits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.widget import Widget
from textual.widgets import Static

if TYPE_CHECKING:
    from splinebench.store import StoreReader
    from splinebench.tui.feed import PartitionSeries, RunFeed


@dataclass(frozen=True)
class PanelContext:
    """Everything a panel may draw from, computed once per redraw by the run screen."""

    feed: RunFeed  # the run's rows read so far (incrementally) from the store
    phase: str  # the dense phase the partition panels show (``p`` cycles through them)
    series: PartitionSeries  # that phase's distances
    eb: int | None  # that phase's spline early-bird epoch, if it fired
    window: int | None  # newest N epochs for line plots (``w`` cycles); None = all
    reader: StoreReader | None  # the app's open reader, for panels that need a query of their own


@dataclass(frozen=True)
class Panel:
    """One tab of the run screen."""

    pid: str  # tab id; also the name ``e`` exports under (splinebench.tui.export)
    title: str
    topics: frozenset[str]  # RunFeed.poll topics that make it stale
    compose: Callable[[], Iterable[Widget]]  # the widgets inside its tab, in order
    draw: Callable[[Widget, PanelContext], None]  # redraw, given its tab (query its widgets from there)


def update_if_changed(line: Static, content: str) -> None:
    """Set a panel's text line only when the text differs: an update of a line that may wrap lays the whole screen
    out again, and a redraw per epoch would otherwise pay that for an unchanged caption or key."""
    if line.content != content:
        line.update(content)
