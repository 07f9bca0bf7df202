"""Event sinks for the terminal: a rich progress view on stderr, and JSON lines on stdout (``--json``).

Machine-readable output goes to stdout and everything for people to stderr, so ``splinebench run --json | jq`` works.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from splinebench.engine.events import Event


class JsonLines:
    """One JSON object per event on stdout."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stdout

    def __call__(self, event: Event) -> None:
        self.stream.write(json.dumps(event.to_dict()) + "\n")
        self.stream.flush()


class RichProgress:
    """Epoch bars with loss/accuracy, the current whole-net partition distance and an EB marker."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.progress = Progress(
            TextColumn("[bold]{task.fields[phase]}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[stats]}"), TimeElapsedColumn(), console=self.console, transient=False,
        )
        self.tasks: dict[str, Any] = {}
        self.distance: dict[str, str] = {}
        # Piped or logged stderr: rich draws no live bars there (only the last state, at the end), so a line per
        # epoch keeps a log or a `2>&1 | tee` current.
        self.line_per_epoch = not self.console.is_terminal
        self.totals: dict[str, int] = {}

    def __enter__(self) -> RichProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, event: Event) -> None:
        handler = getattr(self, f"_on_{event.type}", None)
        if handler is not None:
            handler(event)

    def _on_run_started(self, e: Any) -> None:
        ratios = ", ".join(f"{r:.0%}" for r in e.ratios)
        self.console.print(f"[bold]run {_m(e.run_id)}[/bold]: {_m(e.model)} on {_m(e.dataset)}, seed {e.seed}, "
                           f"{_m(e.device)}; pruners {_m(', '.join(e.pruners))} at {ratios}")

    def _on_phase_started(self, e: Any) -> None:
        self.tasks[e.phase] = self.progress.add_task("", total=max(e.epochs, 1), phase=_m(e.phase), stats="")
        self.totals[e.phase] = e.epochs

    def _on_epoch_finished(self, e: Any) -> None:
        task = self.tasks.get(e.phase)
        if task is None:  # resumed mid-phase
            task = self.tasks[e.phase] = self.progress.add_task("", total=None, phase=_m(e.phase), stats="")
        stats = f"loss {e.train_loss:.3f} acc {100 * e.test_acc:.1f}%{self.distance.get(e.phase, '')}"
        self.progress.update(task, completed=e.epoch, stats=stats)
        if self.line_per_epoch:
            total = self.totals.get(e.phase)
            of = f"/{total}" if total else ""
            self.console.print(f"{e.phase} epoch {e.epoch}{of}: {stats}", markup=False, highlight=False)

    def _on_partition_distances(self, e: Any) -> None:
        self.distance[e.phase] = f" dist {e.mean_of_layers:.3f}"

    def _on_early_bird_fired(self, e: Any) -> None:
        fifo = ", ".join(f"{d:.3f}" for d in e.fifo)
        test = f": FIFO [{fifo}] < eps {e.eps}" if e.eps is not None else ""  # a plug-in may not report its test
        self.console.print(f"[bold yellow]early bird ({_m(e.detector)})[/bold yellow] fired in {_m(e.phase)} "
                           f"after epoch {e.epoch}{test}")

    def _on_phase_finished(self, e: Any) -> None:
        task = self.tasks.get(e.phase)
        if task is not None:
            self.progress.update(task, total=max(e.epochs, 1), completed=max(e.epochs, 1))
            if e.stopped_early:
                self.progress.update(task, stats=self.progress.tasks[task].fields["stats"] + " [yellow](EB stop)")

    def _on_plan_made(self, e: Any) -> None:
        left = [x for x in e.layers if x.get("reason") and x.get("achieved") == 0 and e.structured]
        note = f"; kept: {len(left)} layer(s)" if left else ""
        self.console.print(f"plan {_m(e.pruner)} @ {e.ratio:.0%} on the {_m(e.ticket)} ticket "
                           f"(epoch {e.ticket_epoch}): asked {e.asked_ratio:.1%}, "
                           f"achieved {e.achieved_ratio:.1%}{note}")

    def _on_pruner_failed(self, e: Any) -> None:
        ratio = f" @ {e.ratio:.0%}" if e.ratio is not None else ""
        self.console.print(f"[bold red]pruner {_m(e.pruner)}{ratio} failed[/bold red] ({_m(e.stage)}): {_m(e.error)}")

    def _on_evaluated(self, e: Any) -> None:
        if e.pruner != "dense":
            self.console.print(f"  {_m(e.pruner)} @ {e.ratio:.0%}: accuracy {100 * e.accuracy:.2f}%, "
                               f"total training {e.total_training_flops:.3g} MACs")

    def _on_run_failed(self, e: Any) -> None:
        self.console.print(f"[bold red]run failed:[/bold red] {_m(e.error)}")


def _m(text: object) -> str:
    """A value from an event, shown literally: names and errors (a board's too) may contain rich markup."""
    return escape(str(text))
