"""The report's environment table: on what each run's numbers were made (README: what is guaranteed).

Two runs agree bit for bit only when these fields agree (and thread count, CPU and versions are among them), so a
report that pools or compares runs shows them; runs recorded before the fingerprint existed show "not recorded".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from splinebench.report.collect import Setting
from splinebench.report.layout import Cell, ReportTable, Row

#: (column, fingerprint fields shown in it)
COLUMNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("splinebench", ("splinebench",)),
    ("torch / torchvision / numpy", ("torch", "torchvision", "numpy")),
    ("threads", ("torch_threads",)),
    ("CPU (kernels)", ("cpu_model", "cpu_capability")),
    ("device", ("device", "gpu", "cuda", "cudnn")),
    ("deterministic", ("deterministic_algorithms",)),
)


def _cell(environment: dict[str, Any], names: tuple[str, ...]) -> str:
    values = [environment.get(n) for n in names]
    shown = [str(v) for v in values if v not in (None, "")]
    if names[0] == "cpu_model" and len(shown) == 2:
        return f"{shown[0]} ({shown[1]})"
    return " / ".join(shown) or "-"


def environment_table(settings: Sequence[Setting]) -> ReportTable:
    """One row per run: versions, threads, CPU and its kernel capability, device, deterministic mode."""
    table = ReportTable("environment", "Environment of each run", "all", [c for c, _ in COLUMNS], row_header="run")
    for setting in settings:
        for run in setting.runs:
            environment = run.environment
            if not environment:
                table.rows.append(Row(run.id, [Cell("not recorded")] + [Cell("-") for _ in COLUMNS[1:]]))
                continue
            table.rows.append(Row(run.id, [Cell(_cell(environment, names)) for _, names in COLUMNS]))
    return table
