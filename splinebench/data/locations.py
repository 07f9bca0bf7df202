"""Where datasets that need files are looked for when no ``data.root`` is given."""

from __future__ import annotations

import os
from pathlib import Path

DATA_ROOT_VARIABLE = "SPLINEBENCH_DATA_ROOT"


def default_data_root() -> Path:
    """``$SPLINEBENCH_DATA_ROOT`` if set, else ``~/.cache/splinebench/datasets``."""
    configured = os.environ.get(DATA_ROOT_VARIABLE)
    return (
        Path(configured).expanduser() if configured else Path.home() / ".cache" / "splinebench" / "datasets"
    )
