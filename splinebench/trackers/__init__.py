"""Experiment trackers: TensorBoard, MLflow, W&B (and any plug-in) as subscribers to a run's event stream.

A tracker is one more sink on the :class:`~splinebench.engine.events.EventBus`, beside the store's writer: it sees
the same events in the same order (per-epoch metrics, per-layer distances, the EB moment, plans, final results, the
resolved profile in ``run_started``) and copies them into the tracker's own format. It never feeds anything back.

Trackers join through the ``splinebench.trackers`` entry-point group, the same door as pruners, so adding one is one
file plus one line in a package's metadata. ``--log NAME[:TARGET]`` picks one; its library is an optional extra, and a
missing one is bad input naming the pip extra (exit 2), found before the run starts.
"""

from __future__ import annotations

from splinebench.trackers.base import Tracker, TrackerUnavailable
from splinebench.trackers.discovery import GROUP, discover_trackers, open_tracker, open_trackers

__all__ = ["GROUP", "Tracker", "TrackerUnavailable", "discover_trackers", "open_tracker", "open_trackers"]
