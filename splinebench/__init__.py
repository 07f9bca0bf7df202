"""splinebench: benchmark deep-network pruning with max-affine spline insights.

The package is layered so that data flows one way (see docs/architecture.md):
spline math -> zoo/data -> prune -> measure -> engine -> events -> store -> cli/tui/report.
"""

from __future__ import annotations

__version__ = "0.1.0"

#: Version of the event stream and the store schema. A remote splinebench must match it exactly.
from splinebench.store.schema import SCHEMA_VERSION  # noqa: E402

__all__ = ["SCHEMA_VERSION", "__version__", "track"]


def __getattr__(name: str):
    """``splinebench.track`` without importing torch on ``import splinebench`` (the CLI starts faster)."""
    if name == "track":
        from splinebench.engine.own_loop import track

        return track
    raise AttributeError(f"module 'splinebench' has no attribute {name!r}")
