"""Small screens: key help, a yes/no question, and the store problem screen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Header, Markdown, Static

HELP = """\
# splinebench dashboard — keys

**Everywhere**: `?` this help · `ctrl+p` command palette (open a run by id, launch, quit) · `q` quit ·
`n` launch a run · `esc` back

**Runs**: `enter` open · `/` filter (words in any column) · `s` next sort key · `S` reverse ·
`x` stop the run under the cursor (SIGINT, then SIGTERM) · `r` resume an interrupted run ·
`space` (or ctrl+click) mark runs · `c` compare the marked runs (on a sweep's trial with none marked: the sweep,
its seeds pooled) · arrows left/right scroll wide tables

**Run**: `1`–`7` or `tab` panels (Layers, Net distance, Matrix, FLOPs, Energy, Curves, Leaderboard) ·
`w` widen/narrow the plots' epoch window · `/` filter layers · `p` next dense phase · `x` stop the run ·
`e` export the open panel (PNG, SVG and CSV under `exports/` beside the store)

**Compare**: `1`–`4` panels (Accuracy, Net distance, Layers, Leaderboard) · `e` export · pooled seeds show
the mean and the 95% interval (dotted)

**Layers panel**: arrows move the cursor (the layer and epoch under it are named below the strip) ·
`home`/`end` first/newest epoch · `z` fit all epochs / newest one per column

**Launch**: arrows pick a profile · edit overrides, one `KEY=VALUE` per line · `ctrl+s` start

Distances use one colour scale everywhere, the report's figures included: dark = still, bright = moving.
The red **EB** marks show the epoch the spline early-bird ticket was drawn (Algorithm 1): the bar above
every panel turns red, and each plot marks that epoch. FLOPs are fvcore counts, i.e. multiply-accumulates:
"MACs (fvcore)".
Runs launched here keep training when the dashboard closes; their output is in `tui-logs/` beside the store.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Markdown(HELP)

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(result)


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question; ``y`` answers yes, ``n`` or Esc no."""

    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(self.question, id="confirm-question")
            yield Static("[b]y[/b] yes   [b]n[/b] no", id="confirm-keys")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class StoreProblemScreen(Screen[None]):
    """Shown instead of the runs when the store file exists but cannot be read as a splinebench store."""

    BINDINGS = [Binding("r", "retry", "Retry"), Binding("q", "app.quit", "Quit")]

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="problem-box"):
            yield Static("The store cannot be shown", id="problem-title")
            yield Static(self.message, id="problem-message")
            yield Static(
                "Check the path given to --store; a store is the SQLite file `splinebench run` writes. "
                "Press r to try again, q to quit.",
                id="problem-hint",
            )
        yield Footer()

    def action_retry(self) -> None:
        self.app.retry_store()  # type: ignore[attr-defined]
