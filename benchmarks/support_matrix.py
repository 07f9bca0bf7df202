"""Regenerate docs/support-matrix.md: run every capability on every model of the support matrix.

    .venv/bin/python benchmarks/support_matrix.py            # all models, with ONNX export (several minutes on CPU)
    .venv/bin/python benchmarks/support_matrix.py --no-onnx --out /tmp/m.md ResNet-18 ViT-tiny

The checks live in ``splinebench.engine.support_matrix``; ``tests/engine/test_support_matrix.py`` runs them on the
fast models and compares each cell's outcome with the committed document.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from dataclasses import asdict
from pathlib import Path

import torch

from splinebench.engine.support_matrix import (
    MATRIX_MODELS,
    Cell,
    ModelRow,
    check_model,
    find_model,
    quiet,
    render_markdown,
)

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", help="labels or registry names (default: all)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "support-matrix.md"))
    parser.add_argument("--ratio", type=float, default=0.5)
    parser.add_argument("--no-onnx", action="store_true", help="skip the ONNX export check")
    parser.add_argument("--cache", help="keep each model's outcome in this folder and reuse it (resumable runs)")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    torch.set_num_threads(max(1, torch.get_num_threads()))
    specs = [find_model(m) for m in args.models] if args.models else list(MATRIX_MODELS)
    rows = []
    cache = Path(args.cache) if args.cache else None
    for spec in specs:
        cached = cache / f"{spec.name.replace(':', '_')}.json" if cache else None
        if cached is not None and cached.is_file():
            data = json.loads(cached.read_text())
            row = ModelRow(spec, data["params"], data["activations"],
                           {k: Cell(**v) for k, v in data["cells"].items()}, data["seconds"])
        else:
            row = quiet(check_model, spec, ratio=args.ratio, onnx=not args.no_onnx)
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                cached.write_text(json.dumps({"params": row.params, "activations": row.activations,
                                              "seconds": row.seconds,
                                              "cells": {k: asdict(c) for k, c in row.cells.items()}}))
        statuses = ", ".join(f"{k}={c.status}" for k, c in row.cells.items())
        print(f"{spec.label}: {row.seconds:.0f}s  {statuses}", file=sys.stderr)
        rows.append(row)
    command = "python benchmarks/support_matrix.py" + (" --no-onnx" if args.no_onnx else "")
    Path(args.out).write_text(render_markdown(rows, args.ratio, not args.no_onnx, command))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
