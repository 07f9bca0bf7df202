"""``splinebench export RUN_ID... --out FILE``: runs as a results bundle that ``report``, ``runs show`` and
``runs diff`` read wherever they read a store (``--store FILE.json.gz``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from splinebench.errors import BadInputError
from splinebench.store import default_store_path


def export_command(
    run_ids: Annotated[list[str], typer.Argument(help="Run ids (unique prefixes work).")],
    out: Annotated[Path, typer.Option("--out", help="Bundle file to write (.json, or .json.gz to compress).")],
    store: Annotated[str, typer.Option("--store", help="Results store (SQLite file) holding the runs.")]
    = default_store_path(),
) -> None:
    """Write runs (resolved profile, environment, epochs, distances, EB events, plans, results, energy) to one
    versioned bundle file."""
    from splinebench import __version__
    from splinebench.store import StoreReader
    from splinebench.store.bundle import bundle_dict, write_bundle

    if out.exists() and out.is_dir():
        raise BadInputError(f"--out {out} is a folder; give a file name such as {out / 'runs.json.gz'}")
    reader = StoreReader(store)
    try:
        bundle = bundle_dict(reader, run_ids, exported_by=f"splinebench {__version__}")
    finally:
        reader.close()
    path = write_bundle(bundle, out)
    events = sum(len(r["events"]) for r in bundle["runs"])
    typer.echo(f"wrote {path} ({len(bundle['runs'])} runs, {events} events, {path.stat().st_size:,} bytes)", err=True)
