"""The results store: SQLite in WAL mode; one writer (an event sink), any number of readers.

Imports only the standard library, so the dashboard and reports can read results without torch.
"""

from __future__ import annotations

from splinebench.store.reader import RunRow, StoreError, StoreReader
from splinebench.store.schema import SCHEMA_VERSION, connect, migrate
from splinebench.store.writer import StoreWriter

DEFAULT_STORE_DIR = "splinebench-runs"
DEFAULT_STORE_NAME = "store.sqlite"


def default_store_path(results_dir: str = DEFAULT_STORE_DIR) -> str:
    return f"{results_dir}/{DEFAULT_STORE_NAME}"


__all__ = [
    "SCHEMA_VERSION", "RunRow", "StoreError", "StoreReader", "StoreWriter", "connect", "default_store_path", "migrate",
]
