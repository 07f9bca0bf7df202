"""The Textual dashboard (``splinebench tui``): reads the store, launches runs as subprocesses, never imports
torch."""

from __future__ import annotations

from splinebench.tui.app import SplinebenchDashboard

__all__ = ["SplinebenchDashboard"]
