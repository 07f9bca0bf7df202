"""Figure file names stay within the file system's limit for any setting name, and distinct settings stay distinct."""

from __future__ import annotations

from splinebench.report.figures import SLUG_MAX, slug


def test_a_sweep_grid_points_long_setting_name_gives_a_short_unique_file_name() -> None:
    long_a = 'repro-v2-ablation-cpu (prune.pruners=[{"name":"spline","label":"spline-global"' + "x" * 400 + "a}])"
    long_b = long_a[:-3] + "b}])"
    assert len(slug(long_a) + "-fig5-distance-matrix.png") < 255
    assert len(slug(long_a)) == SLUG_MAX and slug(long_a) != slug(long_b)
    assert slug("repro-v2-fmnist-vgg-cpu") == "repro-v2-fmnist-vgg-cpu"  # short names are unchanged
