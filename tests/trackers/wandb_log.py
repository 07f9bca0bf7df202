"""Read a W&B offline run file (``run-ID.wandb``) without W&B's service: it is a LevelDB-style record log.

wandb 0.31 no longer ships a Python reader (its Go core reads the file), so the tests decode the documented framing:
a 7-byte file header (``:W&B``, magic, version), then 32 KiB blocks of records, each a 7-byte header (crc32c, length,
type: 1 full, 2 first, 3 middle, 4 last) and its bytes; each whole record is a ``wandb_internal_pb2.Record``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BLOCK = 32768


def records(path: Path) -> Iterator[Any]:
    from wandb.proto import wandb_internal_pb2 as pb

    data = path.read_bytes()
    assert data[:4] == b":W&B", "not a W&B run file"
    pos, pending = 7, b""
    while pos + 7 <= len(data):
        room = BLOCK - pos % BLOCK
        if room < 7:  # a block's tail too short for a header is padding
            pos += room
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        pos += 7
        if length == 0 and kind == 0:
            pos += room - 7
            continue
        pending += data[pos : pos + length]
        pos += length
        if kind in (1, 4):
            record = pb.Record()
            record.ParseFromString(pending)
            pending = b""
            yield record


def _key(item: Any) -> str:
    return item.key or "/".join(item.nested_key)


def read_run(path: Path) -> dict[str, Any]:
    """The run record, every history row and the merged summary, as plain Python values."""
    import json

    run: Any = None
    history: list[dict[str, Any]] = []
    summary: dict[str, Any] = {}
    exit_code = None
    for record in records(path):
        kind = record.WhichOneof("record_type")
        if kind == "run":
            run = record.run
        elif kind == "history":
            history.append({_key(i): json.loads(i.value_json) for i in record.history.item})
        elif kind == "summary":
            summary.update({_key(i): json.loads(i.value_json) for i in record.summary.update})
        elif kind == "exit":
            exit_code = record.exit.exit_code
    config = {_key(i): json.loads(i.value_json) for i in run.config.update} if run is not None else {}
    return {"name": run.display_name if run else None, "project": run.project if run else None, "config": config,
            "history": history, "summary": summary, "exit_code": exit_code}
