"""The run screen's panels, in tab order (number keys 1..n). A new panel: its widget file with a ``Panel`` value
(see ``splinebench.tui.panel``), and one line here."""

from __future__ import annotations

from splinebench.tui.panel import Panel
from splinebench.tui.widgets.distance_matrix import MATRIX_PANEL
from splinebench.tui.widgets.energy import ENERGY_PANEL
from splinebench.tui.widgets.flops import FLOPS_PANEL
from splinebench.tui.widgets.heat_strip import LAYERS_PANEL
from splinebench.tui.widgets.leaderboard import LEADERBOARD_PANEL
from splinebench.tui.widgets.plots import CURVES_PANEL, NET_DISTANCE_PANEL

PANELS: tuple[Panel, ...] = (
    LAYERS_PANEL,
    NET_DISTANCE_PANEL,
    MATRIX_PANEL,
    FLOPS_PANEL,
    ENERGY_PANEL,
    CURVES_PANEL,
    LEADERBOARD_PANEL,
)
