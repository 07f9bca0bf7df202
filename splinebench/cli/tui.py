"""``splinebench tui``: the live dashboard over a results store (registered by the main app).

The command only opens the Textual app; everything it shows comes from the store, and runs it starts are
``splinebench run`` subprocesses. ``run_with_dashboard`` is the same app started with one run already
launched, for ``splinebench run PROFILE --tui``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from splinebench.store import default_store_path

DEFAULT_STORE = default_store_path()


def tui_command(
    store: Annotated[str, typer.Option("--store", help="Results store (SQLite file); it may not exist yet.")]
    = DEFAULT_STORE,
    profiles_dir: Annotated[
        str, typer.Option("--profiles-dir", help="Folder of profiles the launch screen offers.")
    ] = "profiles",
) -> None:
    """Watch and drive runs live: per-layer partition distances, the EB trigger, FLOPs, energy, accuracy."""
    from splinebench.tui.app import SplinebenchDashboard

    SplinebenchDashboard(store, profiles_dir=profiles_dir).run()


def run_with_dashboard(
    profile: str, overrides: list[str], store: str, profiles_dir: str = "profiles"
) -> None:
    """Start ``splinebench run PROFILE --set ...`` as a subprocess; open its run screen once it appears.

    Closing the dashboard leaves the run training (it has its own session); stop it with ``x`` to end it.
    """
    from splinebench.tui.app import SplinebenchDashboard

    SplinebenchDashboard(store, profiles_dir=profiles_dir, start=(profile, list(overrides))).run()
