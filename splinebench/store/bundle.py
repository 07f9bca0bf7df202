"""Results bundles: runs exported from a store as one versioned JSON file (gzip when the name ends in ``.gz``).

A bundle is what makes a number in the docs traceable: it holds each run's whole event stream (the resolved profile
and environment in ``run_started``, every epoch, per-layer distance, distance-matrix row, EB event, plan with asked
and achieved ratios, result and energy window) plus the run's bookkeeping fields, under a header naming the format
and its version. The event stream is the store's own source of truth, so a bundle loses nothing the tables need:
reading one replays its events through :class:`StoreWriter` into a private temporary SQLite file, and
``StoreReader(bundle_path)`` then answers every query as it would on the original store. Standard library only.

Not carried: raw power samples (too many; the energy windows computed from them are carried) and energy windows a
workstation measured for a remote run outside its event stream.
"""

from __future__ import annotations

import atexit
import gzip
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from splinebench.store.schema import SCHEMA_VERSION

BUNDLE_FORMAT = "splinebench-results-bundle"
BUNDLE_VERSION = 1
#: Run columns that no event sets (status after an interruption, remote details, sweep membership).
RUN_FIELDS = ("status", "remote", "sweep_id", "finished_at", "error", "pid", "host")
_GZIP_MAGIC = b"\x1f\x8b"


class BundleError(ValueError):
    """A file that claims to be a bundle but cannot be read as one."""


def is_bundle(path: str | os.PathLike[str]) -> bool:
    """True for a gzip file or a JSON object file (a SQLite store starts with "SQLite format 3")."""
    try:
        with open(path, "rb") as f:
            head = f.read(2)
    except OSError:
        return False
    return head == _GZIP_MAGIC or head[:1] == b"{"


def bundle_dict(reader: Any, run_ids: list[str], exported_by: str = "") -> dict[str, Any]:
    """The bundle of ``run_ids`` (unique prefixes work) read through a ``StoreReader``."""
    runs = []
    for run_id in run_ids:
        row = reader.run(run_id)
        runs.append({
            "id": row.id,
            "fields": {name: getattr(row, name, None) for name in RUN_FIELDS},
            "events": reader.events(row.id),
        })
    return {"format": BUNDLE_FORMAT, "version": BUNDLE_VERSION, "store_schema": SCHEMA_VERSION,
            "exported_by": exported_by, "runs": runs}


def write_bundle(bundle: dict[str, Any], out: str | os.PathLike[str]) -> Path:
    """Write ``bundle`` to ``out``; the same runs give the same bytes (events as stored, gzip without a timestamp)."""
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    # keys in the order the events have them (not sorted): a per-layer dict's order is the network's layer order
    data = json.dumps(bundle, separators=(",", ":")).encode()
    if path.name.endswith(".gz"):
        with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as f:
            f.write(data)
    else:
        path.write_bytes(data)
    return path


def read_bundle(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Parse and check a bundle file (BundleError names what is wrong)."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
        if raw[:2] == _GZIP_MAGIC:
            raw = gzip.decompress(raw)
        bundle = json.loads(raw)
    except (OSError, EOFError, gzip.BadGzipFile, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"{path} is not a readable results bundle: {exc}") from None
    if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"{path} is not a splinebench results bundle (no format {BUNDLE_FORMAT!r})")
    if int(bundle.get("version", 0)) > BUNDLE_VERSION:
        raise BundleError(f"{path} is bundle version {bundle.get('version')}, newer than this splinebench reads "
                          f"({BUNDLE_VERSION}); upgrade splinebench")
    if not isinstance(bundle.get("runs"), list):
        raise BundleError(f"{path}: 'runs' must be a list")
    return bundle


def materialise(path: str | os.PathLike[str]) -> str:
    """Replay a bundle into a temporary SQLite store and return its path (removed when the process exits)."""
    from splinebench.store.writer import StoreWriter

    bundle = read_bundle(path)
    folder = tempfile.mkdtemp(prefix="splinebench-bundle-")
    atexit.register(shutil.rmtree, folder, True)
    store = str(Path(folder) / "store.sqlite")
    writer = StoreWriter(store)
    try:
        for run in bundle["runs"]:
            events = run.get("events") or []
            if any(not isinstance(e, dict) or "run_id" not in e or e["run_id"] != run.get("id") for e in events):
                raise BundleError(f"{path}: run {run.get('id')!r} holds events of another run or malformed ones")
            writer.write_many(events)
            fields = {k: v for k, v in (run.get("fields") or {}).items() if k in RUN_FIELDS}
            writer.set_run_fields(str(run["id"]), **fields)
    except (KeyError, TypeError) as exc:
        raise BundleError(f"{path}: malformed event in the bundle ({exc})") from None
    finally:
        writer.close()
    return store
