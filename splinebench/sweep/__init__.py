"""Sweeps: many runs as one experiment — a grid of trials, shared dense phases, a local pool or a Ray cluster.

``splinebench sweep PROFILE --grid KEY=V1,V2`` expands a grid into trials (``grid``), finds the dense phases trials
share and builds the task graph (``plan``), runs dense and branch tasks on an executor (``local``, ``ray_executor``;
worker side in ``tasks``, files in ``storage``), and writes every trial into the store as one run (``recorder``,
driven by ``driver``). This package's top level imports only the standard library, so readers (reports, the
dashboard) can use ``sweep_runs`` without torch.
"""

from __future__ import annotations

from splinebench.sweep.table import sweep_row, sweep_runs, sweeps

__all__ = ["sweep_row", "sweep_runs", "sweeps"]
