"""The drawing rules of the dashboard's own widgets, checked on their data (no app needed)."""

from __future__ import annotations

import math

from tui_helpers import pilot_test

from splinebench.report.tables import result_grid
from splinebench.store import StoreReader
from splinebench.tui.colours import VIRIDIS, level
from splinebench.tui.launcher import parse_overrides
from splinebench.tui.widgets.distance_matrix import resample_array
from splinebench.tui.widgets.heat_strip import layout_columns
from splinebench.tui.widgets.leaderboard import BEST, leaderboard_rows


def test_more_epochs_than_columns_are_binned_so_every_epoch_is_in_one_column() -> None:
    epochs = list(range(1, 161))
    columns, cell = layout_columns(epochs, 60, "fit")
    assert len(columns) <= 60 and cell == 1
    assert [e for c in columns for e in c.epochs] == epochs


def test_recent_mode_shows_the_newest_epochs_one_per_column() -> None:
    columns, _ = layout_columns(list(range(1, 161)), 60, "recent")
    assert [c.epochs for c in columns] == [(e,) for e in range(101, 161)]


def test_few_epochs_get_wider_cells() -> None:
    columns, cell = layout_columns([1, 2, 3], 60, "fit")
    assert len(columns) == 3 and cell == 6


def test_a_small_matrix_is_scaled_up_cell_by_cell() -> None:
    matrix = {(i, j): float(abs(i - j)) for i in range(2) for j in range(2)}
    assert resample_array(matrix, 2, 4).tolist() == [[0.0, 0.0, 1.0, 1.0]] * 2 + [[1.0, 1.0, 0.0, 0.0]] * 2


def test_a_large_matrix_is_binned_by_the_mean_of_its_cells() -> None:
    matrix = {(i, j): float(i == 0 and j == 0) for i in range(4) for j in range(4)}
    grid = resample_array(matrix, 4, 2).tolist()
    assert grid[0][0] == 0.25 and grid[1][1] == 0.0


def test_missing_values_have_no_colour_and_the_top_of_the_scale_is_the_last_colour() -> None:
    assert level(math.nan, 1.0) is None
    assert level(1.0, 1.0) == len(VIRIDIS) - 1
    assert level(0.0, 1.0) == 0


def test_the_leaderboard_highlights_the_best_accuracy_and_the_cheapest_training_per_ratio(fixture_store) -> None:
    reader = StoreReader(fixture_store)
    try:
        columns, rows = leaderboard_rows(result_grid(reader, "20261126"))
    finally:
        reader.close()
    by_label = {row[0].plain: row for row in rows}
    acc30 = columns.index("acc p=30%")
    assert by_label["eb-spline"][acc30].style == BEST  # 51.50 vs 50.80 in the recorded run
    assert by_label["spline"][acc30].style != BEST
    macs30 = columns.index("MACs p=30%")
    assert by_label["eb-spline"][macs30].style == BEST  # EB ticket: less dense training
    assert "dense (unpruned)" in by_label


def test_overrides_are_one_per_line_and_a_line_without_equals_is_named() -> None:
    assert parse_overrides("train.epochs=3\n\n# note\n--set prune.ratios=[0.5]") == [
        "train.epochs=3", "prune.ratios=[0.5]",
    ]
    import pytest

    from splinebench.errors import BadInputError

    with pytest.raises(BadInputError, match="line 2"):
        parse_overrides("train.epochs=3\ntrain.epochs")


def test_the_dashboard_imports_neither_torch_nor_the_engine() -> None:
    import subprocess
    import sys

    check = (
        "import sys, splinebench.tui.app, splinebench.cli.tui; "
        "bad = [m for m in sys.modules if m == 'torch' or m.startswith('splinebench.engine')]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", check], check=True)


def test_the_leaderboard_marks_energy_from_a_window_the_meter_covered_too_little() -> None:
    from splinebench.report.tables import ResultGrid

    def cell(joules: float, partial: bool) -> dict:
        return {"status": "ok", "accuracy": 0.9, "total_training_flops": 1e9, "ticket": "final",
                "total_energy_j": joules, "energy_partial": int(partial), "energy_coverage": 0.4 if partial else 1.0}

    cells = {("spline", 0.5): cell(120.0, True), ("ns", 0.5): cell(150.0, False)}
    grid = ResultGrid("r", [0.5], ["spline", "ns"], cells, has_energy=True)
    columns, rows = leaderboard_rows(grid)
    energy = columns.index("energy p=50%")
    by_label = {row[0].plain: row[energy].plain for row in rows}
    assert "partial: 40% covered" in by_label["spline"]
    assert "partial" not in by_label["ns"]


def test_binned_pixels_are_the_mean_of_the_finite_cells_they_cover_for_any_size() -> None:
    import random

    from splinebench.tui.colours import levels

    rng = random.Random(3)
    for n, pixels in ((7, 3), (7, 7), (5, 12), (13, 6), (1, 4)):
        matrix = {(i, j): rng.random() for i in range(n) for j in range(n) if rng.random() > 0.3}
        grid = resample_array(matrix, n, pixels)
        for py in range(pixels):
            rows = range(py * n // pixels, max(py * n // pixels + 1, (py + 1) * n // pixels))
            for px in range(pixels):
                cols = range(px * n // pixels, max(px * n // pixels + 1, (px + 1) * n // pixels))
                cells = [matrix[(i, j)] for i in rows for j in cols if (i, j) in matrix]
                if cells:
                    assert math.isclose(grid[py, px], sum(cells) / len(cells), rel_tol=1e-12)
                else:
                    assert math.isnan(grid[py, px])
        vmax = float(max(matrix.values(), default=1.0))
        expected = [[-1 if level(v, vmax) is None else level(v, vmax) for v in row] for row in grid.tolist()]
        assert levels(grid, vmax).tolist() == expected


@pilot_test
async def test_heat_strip_cells_are_the_colour_of_the_largest_distance_their_column_covers() -> None:
    """Each cell of a layer's row, for binned, one-per-column and wide columns, against the definition: the colour
    of the largest finite distance among the column's epochs (MISSING if none), the EB column and the cursor marked.
    """
    import random

    from rich.style import Style
    from textual.app import App, ComposeResult

    from splinebench.tui.colours import EB_MARK, background, scale_max
    from splinebench.tui.feed import PartitionSeries
    from splinebench.tui.widgets.heat_strip import LayerHeatStrip

    rng = random.Random(5)
    for epochs, width, mode in ((150, 70, "fit"), (150, 70, "recent"), (9, 70, "fit"), (40, 60, "fit")):
        series = PartitionSeries()
        for epoch in range(1, epochs + 1):
            for index in range(rng.randint(4, 6)):  # ragged: a layer missing at some epochs
                value = math.nan if rng.random() < 0.1 else rng.random() ** 3
                series.set_layer(epoch, index, f"block{index}.relu", value)
        eb = epochs // 2

        class Host(App):
            def compose(self) -> ComposeResult:
                yield LayerHeatStrip(id="strip")

        async with Host().run_test(size=(width, 12)) as pilot:
            strip = pilot.app.query_one(LayerHeatStrip)
            strip.mode = mode
            strip.show(series, eb)
            await pilot.pause()
            columns, cell = strip._columns()
            vmax = scale_max([v for e in series.epochs for v in series.per_epoch[e]])
            for row in range(6):
                cells = [(ch, style) for seg in strip.render_line(row + 1) for ch in seg.text
                         for style in [seg.style or Style()]]
                cells = cells[strip.label_width:]
                for c, column in enumerate(columns):
                    values = [series.per_epoch[e][row] if row < len(series.per_epoch[e]) else math.nan
                              for e in column.epochs]
                    finite = [v for v in values if not math.isnan(v)]
                    want = background(max(finite) if finite else math.nan, vmax).bgcolor
                    text = "".join(ch for ch, _ in cells[c * cell:(c + 1) * cell])
                    styles = [style for _, style in cells[c * cell:(c + 1) * cell]]
                    assert all(style.bgcolor == want for style in styles), (mode, row, c)
                    if row == strip.cursor_row and c == len(columns) - 1:
                        assert text.strip() == "◆"
                    elif eb in column.epochs:
                        assert text.strip() == "┃" and styles[0].color.name == Style(color=EB_MARK).color.name
                    else:
                        assert text == " " * cell
