"""Line plots of the run screen (textual-plotext): whole-net distance against the EB threshold, accuracy and
loss.

Each plot is rebuilt only when its data changes (plotext draws the whole figure at once), and only while its
tab is on screen, since hidden widgets are not rendered. ``window`` limits the x axis to the newest epochs;
None shows them all. The early-bird epoch is a red vertical line on every plot that has the dense phase on it.
"""

from __future__ import annotations

from rich.markup import escape
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Static

from splinebench.tui.colours import swatch
from splinebench.tui.feed import PartitionSeries
from splinebench.tui.panel import Panel, PanelContext, update_if_changed
from splinebench.tui.widgets.cell_plot import CellPlot

EB_COLOUR = "red"
PHASE_COLOURS = ("cyan", "orange", "magenta", "green", "blue", "yellow", "white", "gray")


def _windowed(xs: list[int], window: int | None) -> list[int]:
    return xs if window is None else xs[-window:]


def epoch_ticks(first: int, last: int, most: int = 8) -> list[int]:
    """Whole-epoch ticks from ``first`` to ``last``, at most ``most`` of them."""
    step = max(1, -(-(last - first) // max(1, most - 1)))
    ticks = list(range(first, last + 1, step))
    if ticks[-1] != last:
        ticks = [*ticks[:-1], last] if last - ticks[-1] < step / 2 and len(ticks) > 1 else [*ticks, last]
    return ticks


class NetDistancePlot(CellPlot):
    """Whole-net partition distance per epoch (mean of layers and bit-weighted), with eps as a horizontal
    line."""

    def show(
        self, series: PartitionSeries, eps: float, eb_epoch: int | None, eb_distance: str, window: int | None
    ) -> None:
        plt = self.plt
        plt.clear_figure()
        epochs = _windowed(sorted(series.net), window)
        title = f"whole-net distance; EB when {eb_distance} < eps={eps:g} over the FIFO"
        plt.title(title)
        plt.xlabel("epoch")
        if epochs:
            plt.plot(
                epochs,
                [series.net[e][0] for e in epochs],
                color="cyan",
                marker="braille",
            )
            plt.plot(
                epochs,
                [series.net[e][1] for e in epochs],
                color="orange",
                marker="braille",
            )
            plt.hline(eps, "yellow")
            top = max(max(max(series.net[e]) for e in epochs), eps) * 1.1
            plt.ylim(0, top)
            plt.xlim(epochs[0] - 0.5, epochs[-1] + 0.5)
            plt.xticks(epoch_ticks(epochs[0], epochs[-1]))
            plt.text(f"eps {eps:g}", epochs[0], eps, color="yellow", alignment="left")
            if eb_epoch is not None and epochs[0] <= eb_epoch <= epochs[-1]:
                plt.vline(eb_epoch, EB_COLOUR)
                plt.text(f"EB@{eb_epoch}", eb_epoch, top * 0.95, color=EB_COLOUR)
        self.replot()


class CurvePlot(CellPlot):
    """One metric (test accuracy or a loss) per epoch, one line per phase: dense, then each retrain."""

    def __init__(self, metric: str, title: str, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.metric = metric
        self.title = title

    def show(
        self,
        epochs: dict[str, dict[int, dict]],
        phases: list[str],
        eb_epoch: int | None,
        window: int | None,
        offsets: dict[str, int] | None = None,
        labels: dict[str, str] | None = None,
    ) -> list[tuple[str, str]]:
        """Draw; returns (phase label, colour) of each line drawn, for a key outside the plot (a plotext legend would
        sit on the data). ``offsets`` shifts a phase's epochs (retraining continues after the dense epochs);
        ``labels`` names each phase in the key (the feed's ``phase_label``; the phase itself if absent)."""
        plt = self.plt
        plt.clear_figure()
        plt.title(self.title)
        plt.xlabel("epoch (retraining continues after dense)" if offsets else "epoch (each phase from 1)")
        drawn: list[tuple[str, str]] = []
        last = 1
        for n, phase in enumerate(phases):
            rows = epochs.get(phase, {})
            shift = (offsets or {}).get(phase, 0)
            xs = _windowed(sorted(rows), window)
            ys = [rows[e][self.metric] for e in xs]
            pairs = [(x + shift, y) for x, y in zip(xs, ys, strict=False) if y is not None]
            if not pairs:
                continue
            scale = 100.0 if self.metric.endswith("acc") else 1.0
            colour = PHASE_COLOURS[n % len(PHASE_COLOURS)]
            plt.plot([p[0] for p in pairs], [p[1] * scale for p in pairs], color=colour, marker="braille")
            drawn.append(((labels or {}).get(phase, phase), colour))
            last = max(last, pairs[-1][0])
        if drawn:
            first = 1 if window is None else max(1, last - window + 1)
            plt.xticks(epoch_ticks(first, last))
        if drawn and eb_epoch is not None:
            plt.vline(eb_epoch, EB_COLOUR)
        self.replot()
        return drawn


#: The net-distance plot's key, above it rather than on the data (NetDistancePlot's colours).
NET_KEY = (f"{swatch('cyan')} mean of layers  {swatch('orange')} bit-weighted  {swatch('yellow', '─')} eps  "
           f"{swatch(EB_COLOUR, '|')} EB epoch")


def _draw_net_distance(tab: Widget, ctx: PanelContext) -> None:
    view = ctx.feed.early_bird_view(ctx.phase)
    tab.query_one(NetDistancePlot).show(ctx.series, view.eps, ctx.eb, view.distance, ctx.window)


NET_DISTANCE_PANEL = Panel(
    "distance", "Net distance", frozenset({"net", "early_birds", "phases"}),
    compose=lambda: [Static(NET_KEY, id="distance-key"), NetDistancePlot(id="net-plot")],
    draw=_draw_net_distance,
)


def _draw_curves(tab: Widget, ctx: PanelContext) -> None:
    feed = ctx.feed
    phases = list(feed.phases) or sorted(feed.epochs)
    labels = {phase: feed.phase_label(phase) for phase in phases}
    # one epoch axis: a retrain phase starts after the last dense epoch, not on top of it at 1
    dense_last = max((max(feed.epochs.get(p) or {0: None}) for p in feed.dense_phases()), default=0)
    offsets = {p: dense_last for p, row in feed.phases.items() if row.get("kind") == "retrain"}
    drawn = tab.query_one("#acc-plot", CurvePlot).show(feed.epochs, phases, ctx.eb, ctx.window, offsets, labels)
    tab.query_one("#loss-plot", CurvePlot).show(feed.epochs, phases, ctx.eb, ctx.window, offsets, labels)
    key = "  ".join(f"{swatch(colour)} {escape(phase)}" for phase, colour in drawn)
    eb_key = f"  {swatch(EB_COLOUR, '|')} EB epoch" if ctx.eb is not None else ""
    update_if_changed(tab.query_one("#curves-key", Static), key + eb_key)


CURVES_PANEL = Panel(
    "curves", "Curves", frozenset({"epochs", "phases", "early_birds"}),
    compose=lambda: [Static("", id="curves-key"),
                     Horizontal(CurvePlot("test_acc", "test accuracy (%)", id="acc-plot"),
                                CurvePlot("train_loss", "train loss", id="loss-plot"), id="curves-row")],
    draw=_draw_curves,
)
