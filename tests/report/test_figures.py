"""Each figure is written as a non-empty PNG and SVG; the Pareto front and the 2-D partition are right."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from report_stores import synthetic_profile, write_run
from torch import nn

from splinebench.report.build import build_report, write_figures
from splinebench.report.collect import load_settings
from splinebench.report.figures import rho_figure, save_figure
from splinebench.report.pareto import pareto_front
from splinebench.report.partition import partition_figure, partition_picture
from splinebench.report.terminal import BRAILLE_BASE, braille_cells, braille_picture, sign_edges
from splinebench.store import StoreReader

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_report_figures_are_written_as_png_and_svg(real_run, tmp_path):
    store, run_id = real_run
    reader = StoreReader(store)
    report = build_report(reader, [run_id])
    files = write_figures(reader, report, tmp_path)
    reader.close()
    names = {f.name for f in files}
    for stem in ("tiny-report-fig5-distance-matrix", "tiny-report-layer-distances", "tiny-report-tradeoff"):
        assert f"{stem}.png" in names and f"{stem}.svg" in names
    for path in files:
        assert path.stat().st_size > 1000
        if path.suffix == ".png":
            assert path.read_bytes()[:8] == PNG_MAGIC
        else:
            assert "<svg" in path.read_text()[:2000]


def test_rho_figure_is_drawn_for_a_rho_sweep(tmp_path):
    store = tmp_path / "s.sqlite"
    pruners = [{"name": "spline", "ticket": "final", "label": f"rho{rho}", "options": {"rho": rho}}
               for rho in (0.01, 0.1)]
    write_run(store, "run-a", synthetic_profile(pruners=pruners),
              [("rho0.01", 0.3, 0.91, 1e12), ("rho0.1", 0.3, 0.90, 1e12)])
    reader = StoreReader(store)
    setting = load_settings(reader, ["run-a"])[0]
    reader.close()
    fig = rho_figure(setting)
    assert fig is not None
    paths = save_figure(fig, tmp_path / "out", "rho")
    assert [p.suffix for p in paths] == [".png", ".svg"] and all(p.stat().st_size > 1000 for p in paths)


def test_pareto_front_keeps_only_points_nothing_beats_on_both_counts():
    points = [(1.0, 90.0), (2.0, 92.0), (2.5, 91.0), (3.0, 95.0), (0.5, 80.0), (3.0, 94.0)]
    assert pareto_front(points) == [4, 0, 1, 3]


def _two_unit_net() -> nn.Module:
    """2 -> 2 -> 2: unit 0 switches on the line x = 0, unit 1 never switches inside [-1, 1]^2 (bias 10)."""
    net = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
        net[0].bias.copy_(torch.tensor([0.0, 10.0]))
        net[2].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 0.0]]))
        net[2].bias.copy_(torch.tensor([-0.5, 0.0]))
    return net


def test_partition_picture_finds_each_units_line_and_the_decision_boundary():
    picture = partition_picture(_two_unit_net(), (-1, 1, -1, 1), "net", resolution=(41, 21))
    assert [name for name, _ in picture.layers] == ["1"]
    assert picture.layers[0][1].shape == (2, 21, 41)
    assert picture.crossing_units(0) == [0]
    # logit0 - logit1 = relu(x) - 0.5: the boundary is the vertical line x = 0.5
    columns = np.nonzero(sign_edges(picture.decision)[0])[0]
    assert picture.xs[columns[0]] == pytest.approx(0.5, abs=0.05)


def test_partition_figure_and_braille_drawing(tmp_path):
    net = _two_unit_net()
    pictures = [partition_picture(net, (-1, 1, -1, 1), "dense", resolution=(40, 40))]
    paths = save_figure(partition_figure(pictures, (np.zeros((3, 2)), np.array([0, 1, 0])), "toy"), tmp_path, "p")
    assert all(p.stat().st_size > 1000 for p in paths)
    small = partition_picture(net, (-1, 1, -1, 1), "dense", resolution=(20, 20))
    text = braille_picture(small)
    lines = text.plain.split("\n")
    assert len(lines) == 5 and all(len(line) == 10 for line in lines)
    assert any(span.style == "bold red" for span in text.spans)  # the decision boundary's cells
    assert any(span.style == "blue" for span in text.spans)  # the first layer's line x = 0


def test_braille_cells_pack_dots_in_unicode_order():
    mask = np.zeros((4, 2), dtype=bool)
    mask[0, 0] = True  # dot 1
    mask[3, 1] = True  # dot 8
    assert braille_cells(mask)[0, 0] == BRAILLE_BASE + 0x01 + 0x80


def test_fig5_uses_the_dashboards_colour_scale_and_names_the_eb_window():
    from splinebench.report.figures import DISTANCE_CMAP, distance_matrix_figure
    from splinebench.tui.colours import VIRIDIS

    matrix = [[abs(i - j) / 10 for j in range(6)] for i in range(6)]
    fig = distance_matrix_figure(matrix, "t", eb_epoch=4, window=2)
    ax = fig.axes[0]
    cmap = ax.images[0].get_cmap()
    assert cmap.name == DISTANCE_CMAP
    low, high = (tuple(round(255 * c) for c in cmap(x)[:3]) for x in (0.0, 1.0))
    assert f"#{low[0]:02x}{low[1]:02x}{low[2]:02x}" == VIRIDIS[0]  # dark = still, as on the dashboard
    assert f"#{high[0]:02x}{high[1]:02x}{high[2]:02x}" == VIRIDIS[-1]
    assert "dark = still" in fig.axes[1].get_ylabel()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["spline EB window, epochs 2-4 (drawn at 4)"]


def test_tradeoff_figure_has_interval_bars_over_seeds_and_keeps_the_dense_point_out_of_the_front(tmp_path):
    from splinebench.report.figures import tradeoff_figure

    store = tmp_path / "s.sqlite"
    for seed, shift in ((0, 0.0), (1, 0.02), (2, -0.01)):
        write_run(store, f"run-{seed}", synthetic_profile(seed=seed),
                  [("spline", 0.3, 0.90 + shift, 2e12), ("spline", 0.5, 0.88 + shift, 1.5e12),
                   ("ns", 0.3, 0.89 + shift, 3e12)], dense=(0.92 + shift, 4e12))
    reader = StoreReader(store)
    settings = load_settings(reader, ["run-0", "run-1", "run-2"])
    reader.close()
    assert len(settings) == 1 and len(settings[0].runs) == 3
    fig = tradeoff_figure(settings[0])
    ax = fig.axes[0]
    bars = [c for c in ax.containers if c.has_yerr]
    assert len(bars) == 4  # three pruned points and the dense star
    for container in bars:
        vertical = [seg for col in container.lines[2] for seg in col.get_segments() if seg[0][0] == seg[1][0]]
        assert any(seg[1][1] - seg[0][1] > 0 for seg in vertical)  # a 95% interval, not a dot
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "unpruned (dense), not in the front" in legend and "Pareto front (pruned)" in legend
    fig.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert ticks and all(t[-1] in "KMGTP" for t in ticks), ticks  # 2T, 5T: MACs units, no 10^x
    assert "95% interval over 3 seeds" in ax.get_title()


def test_partition_figure_shows_the_input_range_and_a_class_legend():
    picture = partition_picture(_two_unit_net(), (-1, 1, -1, 1), "dense", resolution=(20, 20))
    fig = partition_figure([picture], (np.zeros((4, 2)), np.array([0, 1, 2, 1])))
    first, last = fig.axes[0], fig.axes[-1]
    assert list(first.get_xticks()) == [-1.0, 0.0, 1.0] and list(first.get_yticks()) == [-1.0, 0.0, 1.0]
    fig.canvas.draw()
    assert [t.get_text().replace("\u2212", "-") for t in first.get_yticklabels()] == ["-1", "0", "1"]
    legend = [t.get_text() for t in last.get_legend().get_texts()]
    assert legend == ["class 0", "class 1", "class 2", "decision boundary"]
