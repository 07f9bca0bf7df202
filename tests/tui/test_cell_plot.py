"""The cell-matrix plot renderer draws exactly what textual-plotext's ANSI path draws, cell by cell."""

from __future__ import annotations

from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from tui_helpers import pilot_test

from splinebench.tui.feed import PartitionSeries
from splinebench.tui.widgets.plots import CurvePlot, NetDistancePlot


def _cells_of_strips(strips) -> list[list[tuple[str, Style]]]:
    return [[(char, segment.style or Style()) for segment in strip for char in segment.text] for strip in strips]


def _cells_of_ansi(ansi: str) -> list[list[tuple[str, Style]]]:
    console = Console(width=1000, force_terminal=True, color_system="truecolor")
    rows = []
    for line in Text.from_ansi(ansi).split("\n"):
        rows.append([(char, segment.style or Style()) for segment in line.render(console) for char in segment.text])
    return rows


class _Plots(App):
    def compose(self) -> ComposeResult:
        yield CurvePlot("test_acc", "test accuracy (%)", id="curve")
        yield NetDistancePlot(id="net")


@pilot_test
async def test_the_cell_renderer_matches_plotexts_own_ansi_output_cell_for_cell() -> None:
    epochs = {"dense": {e: {"test_acc": 0.5 + e / 100, "train_loss": 1 / e} for e in range(1, 31)},
              "retrain-spline-0.3": {e: {"test_acc": 0.7 + e / 200, "train_loss": 0.5 / e} for e in range(1, 9)}}
    series = PartitionSeries()
    for e in range(2, 31):
        series.net[e] = (0.4 / e, 0.5 / e)
    app = _Plots()
    async with app.run_test(size=(120, 50)) as pilot:
        curve, net = app.query_one(CurvePlot), app.query_one(NetDistancePlot)
        curve.show(epochs, list(epochs), 12, None, {"retrain-spline-0.3": 30}, None)
        net.show(series, 0.15, 12, "mean", None)
        await pilot.pause()
        for plot in (curve, net):
            strips = _cells_of_strips(plot.build_strips())
            ansi = _cells_of_ansi(plot.plt.build())
            assert len(strips) == plot.size.height
            assert [row for row in ansi if row] == strips
            assert any(style.color is not None for row in strips for _, style in row)  # colours came through
