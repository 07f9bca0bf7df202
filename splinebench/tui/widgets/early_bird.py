"""The early-bird bar shown above every panel of a run: the detector's FIFO against eps, or the ticket once
drawn.

Algorithm 1 draws the ticket when the FIFO of the last ``window`` distances is full and all are below eps.
Before that the bar shows each FIFO value as a small bar (green below eps, yellow above); when the
``early_birds`` table gets the row, the bar turns red with the epoch, so the moment is hard to miss on
whichever panel is open.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from splinebench.tui.feed import EarlyBirdView

BAR = 8


def _bar(value: float, eps: float) -> Text:
    filled = max(1, min(BAR, round(value / (2 * eps) * BAR))) if eps > 0 else BAR
    colour = "green" if value < eps else "yellow"
    return Text(f"{value:.3f} ", style="bold") + Text("▮" * filled + "·" * (BAR - filled), style=colour)


def early_bird_text(view: EarlyBirdView | None, phase: str) -> Text:
    if view is None:
        return Text("EB: waiting for data", style="dim")
    if not view.enabled:
        return Text("EB detection is off in this run's profile", style="dim")
    if view.fired_epoch is not None:
        fifo = ", ".join(f"{v:.3f}" for v in (view.fired_fifo or view.fifo))
        return Text(
            f" ★ EARLY BIRD at epoch {view.fired_epoch} ({phase}): FIFO [{fifo}] < eps {view.eps:g} ★ ",
            style="bold white on red",
        )
    text = Text(f"EB FIFO {len(view.fifo)}/{view.window} ({view.distance}) vs eps {view.eps:g}: ")
    if not view.fifo:
        text.append("empty", style="dim")
    for n, value in enumerate(view.fifo):
        if n:
            text.append("  ")
        text.append_text(_bar(value, view.eps))
    full = len(view.fifo) == view.window
    waiting = "all below eps: fires now" if full and all(view.below) else "waiting"
    text.append(f"  {waiting}", style="dim")
    if view.approximate:
        text.append(" (detector watches a layer subset; values over all layers)", style="dim")
    return text


class EarlyBirdBar(Static):
    """One line: the EB FIFO against eps, or the drawn ticket in red. ``height: 1`` in the stylesheet, so an
    update needs no layout pass (see RunHeader)."""

    def show(self, view: EarlyBirdView | None, phase: str) -> None:
        self.set_class(view is not None and view.fired_epoch is not None, "fired")
        self.update(early_bird_text(view, phase), layout=False)
