"""A format-neutral table: what every report table is before it becomes Markdown, CSV, LaTeX, JSON or a rich table.

Each cell keeps both the text a reader sees and the numbers behind it (mean, spread, 95% interval, how many seeds),
so the machine-readable formats carry the numbers themselves rather than strings to re-parse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from splinebench.report.stats import Summary


@dataclass
class Cell:
    """One table cell: display text, the number it shows (if any), its spread and count, and emphasis."""

    text: str
    value: float | None = None
    std: float | None = None
    n: int = 0
    best: bool = False  # the best of its column (bold in every format)
    ci_low: float | None = None  # 95% t interval of the mean (None for one seed)
    ci_high: float | None = None

    @classmethod
    def of(cls, summary: Summary | None, text: str, best: bool = False) -> Cell:
        if summary is None:
            return cls(text)
        return cls(text, summary.mean, summary.std, summary.n, best, summary.ci_low, summary.ci_high)

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "value": self.value, "std": self.std, "n": self.n, "best": self.best,
                "ci_low": self.ci_low, "ci_high": self.ci_high}


@dataclass
class Row:
    label: str
    cells: list[Cell]
    kind: str = "data"  # "data" | "dense" | "improvement": renderers set the improvement row apart


@dataclass
class ReportTable:
    """A titled table of one setting (a profile, its seeds pooled)."""

    key: str  # "table1", "table2", "cost-ratios", "table12", "early-bird", "rho"
    title: str
    setting: str
    columns: list[str]  # headers of the value columns (the row label column is ``row_header``)
    rows: list[Row] = field(default_factory=list)
    row_header: str = ""
    notes: list[str] = field(default_factory=list)

    def cell(self, row_label: str, column: str) -> Cell:
        """The cell at (row label, column header); KeyError names what exists."""
        for row in self.rows:
            if row.label == row_label:
                if column not in self.columns:
                    raise KeyError(f"{self.key}: no column {column!r} (columns: {self.columns})")
                return row.cells[self.columns.index(column)]
        raise KeyError(f"{self.key}: no row {row_label!r} (rows: {[r.label for r in self.rows]})")

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "title": self.title, "setting": self.setting, "row_header": self.row_header,
            "columns": self.columns, "notes": self.notes,
            "rows": [{"label": r.label, "kind": r.kind, "cells": [c.to_dict() for c in r.cells]} for r in self.rows],
        }
