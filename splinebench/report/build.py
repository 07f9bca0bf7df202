"""``splinebench report``: read runs, pool seeds into settings, build every table, write one format and the figures.

Kept apart from the CLI so that scripts (``benchmarks/reproduction.sh``) and tests build the same report in-process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from splinebench.report.collect import Setting, load_settings
from splinebench.report.environment import environment_table
from splinebench.report.layout import ReportTable
from splinebench.report.paper_tables import TABLE12_FRACTIONS, runs_table, setting_tables
from splinebench.report.render import EXTENSIONS, to_csv, to_json, to_latex, to_markdown
from splinebench.store import StoreReader


@dataclass
class Report:
    settings: list[Setting]
    tables: list[ReportTable]
    figures: list[Path] = field(default_factory=list)

    def table(self, key: str, setting: str | None = None) -> ReportTable:
        for t in self.tables:
            if t.key == key and (setting is None or t.setting == setting):
                return t
        raise KeyError(f"no table {key!r}" + (f" for setting {setting!r}" if setting else ""))

    def setting_summaries(self) -> list[dict[str, Any]]:
        return [{"id": s.id, "title": s.title, "name": s.name, "runs": [r.id for r in s.runs],
                 "seeds": [r.seed for r in s.runs], "model": s.runs[0].row.model, "dataset": s.runs[0].row.dataset,
                 "profile": s.profile} for s in self.settings]


def build_report(reader: StoreReader, run_ids: Sequence[str],
                 fractions: Sequence[float] = TABLE12_FRACTIONS) -> Report:
    """Every table for the given runs (unknown ids raise BadInputError before anything is built)."""
    settings = load_settings(reader, run_ids)
    tables: list[ReportTable] = []
    for setting in settings:
        tables.extend(setting_tables(setting, fractions))
    tables.append(runs_table(settings))
    tables.append(environment_table(settings))
    return Report(settings, tables)


def write_figures(reader: StoreReader, report: Report, out_dir: Path) -> list[Path]:
    from splinebench.report.figures import write_setting_figures

    for setting in report.settings:
        report.figures.extend(write_setting_figures(reader, setting, out_dir))
    return report.figures


def render(report: Report, fmt: str, relative_to: Path | None = None) -> str:
    """The report as text in ``fmt`` (md, csv, latex, json)."""
    if fmt == "md":
        return to_markdown(report.tables, [(s.id, s.title) for s in report.settings], report.figures, relative_to)
    if fmt == "csv":
        return to_csv(report.tables)
    if fmt == "latex":
        return to_latex(report.tables)
    if fmt == "json":
        return to_json(report.tables, report.setting_summaries(), report.figures)
    raise ValueError(f"unknown report format {fmt!r}")


def write_report(report: Report, fmt: str, out_dir: Path, name: str = "report") -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.{EXTENSIONS[fmt]}"
    path.write_text(render(report, fmt, relative_to=out_dir))
    return path
