"""The run screen's first line: which run, on what, where it stands."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from splinebench.store import RunRow

STATUS_STYLE = {
    "running": "bold green",
    "finished": "bold blue",
    "failed": "bold red",
    "interrupted": "bold yellow",
}


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLE.get(status, "bold"))


class RunHeader(Static):
    """One line (``height: 1`` in the stylesheet), so an update never needs a layout pass: with one, every epoch
    re-rendered the whole screen, header, tabs and footer included (about a third of a Curves redraw)."""

    def show(self, run: RunRow | None, dense_epochs: int, phase: str | None) -> None:
        if run is None:
            self.update(Text("loading…", style="dim"), layout=False)
            return
        # Most telling first, so a narrow terminal cuts the least useful part.
        text = Text()
        text.append_text(status_text(run.status))
        if run.error:
            text.append(f" ({run.error})", style="red")
        text.append(f"  dense {dense_epochs}/{run.planned_epochs or '?'}")
        if run.best_accuracy is not None:
            text.append(f"  best {100 * run.best_accuracy:.2f}%")
        if phase:
            text.append(f"  now {phase}", style="italic")
        text.append(f"  {run.name}: {run.model} on {run.dataset}, seed {run.seed}", style="dim")
        if run.remote:  # a run that trains on another machine (`run --on ssh://...`): say where
            text.append(f"  on {run.remote.get('host', '?')}", style="bold magenta")
        self.update(text, layout=False)
