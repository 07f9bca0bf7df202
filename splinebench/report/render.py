"""Report tables as Markdown, CSV, LaTeX, JSON or rich tables for the terminal.

* Markdown: one pipe table per table under a heading, best of each column in bold, notes in italics; figures (when
  written) linked relative to the Markdown file.
* CSV: *long* format, one line per cell (``table, setting, row, column, text, value, std, n, best``), so the whole
  report is one file any CSV reader loads without knowing the layouts.
* LaTeX: one ``table`` with a booktabs ``tabular`` per table, best in ``\\textbf``, the improvement row after a
  ``\\midrule``.
* JSON: ``{"settings": [...], "tables": [...], "figures": [...]}`` with every cell's numbers.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from splinebench.report.layout import Cell, ReportTable

FORMATS = ("md", "csv", "latex", "json")
EXTENSIONS = {"md": "md", "csv": "csv", "latex": "tex", "json": "json"}


# --- Markdown --------------------------------------------------------------------------------------------------


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def _md_cell(cell: Cell) -> str:
    text = _md_escape(cell.text)
    return f"**{text}**" if cell.best and cell.text not in ("-", "") else text


def table_markdown(table: ReportTable) -> str:
    header = [table.row_header or " "] + table.columns
    lines = [f"#### {table.title}", "", "| " + " | ".join(_md_escape(h) for h in header) + " |",
             "|" + "|".join([":---"] + ["---:"] * len(table.columns)) + "|"]
    for row in table.rows:
        label = f"**{_md_escape(row.label)}**" if row.kind == "improvement" else _md_escape(row.label)
        lines.append("| " + " | ".join([label] + [_md_cell(c) for c in row.cells]) + " |")
    for note in table.notes:
        lines += ["", f"*{note}*"]
    return "\n".join(lines).rstrip() + "\n"


def to_markdown(tables: Sequence[ReportTable], settings: Sequence[tuple[str, str]] = (),
                figures: Sequence[Path] = (), relative_to: Path | None = None) -> str:
    """All tables, grouped under one heading per setting (``settings``: (id, title) pairs)."""
    parts: list[str] = []
    titles = dict(settings)
    current = None
    for table in tables:
        if table.setting != current:
            current = table.setting
            parts.append(f"### {titles.get(current, current)}\n")
        parts.append(table_markdown(table))
    images = [f for f in figures if f.suffix == ".png"]
    if images:
        parts.append("### Figures\n")
        for path in images:
            link = path.relative_to(relative_to) if relative_to is not None and path.is_relative_to(relative_to) \
                else path
            parts.append(f"![{path.stem}]({link.as_posix()})\n")
    return "\n".join(parts)


# --- CSV -------------------------------------------------------------------------------------------------------

CSV_FIELDS = ("table", "setting", "row", "column", "text", "value", "std", "n", "best", "ci_low", "ci_high")


def to_csv(tables: Sequence[ReportTable]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for table in tables:
        for row in table.rows:
            for column, cell in zip(table.columns, row.cells, strict=True):
                writer.writerow({
                    "table": table.key, "setting": table.setting, "row": row.label, "column": column,
                    "text": cell.text, "value": "" if cell.value is None else repr(cell.value),
                    "std": "" if cell.std is None else repr(cell.std), "n": cell.n, "best": int(cell.best),
                    "ci_low": "" if cell.ci_low is None else repr(cell.ci_low),
                    "ci_high": "" if cell.ci_high is None else repr(cell.ci_high),
                })
    return buffer.getvalue()


# --- LaTeX -----------------------------------------------------------------------------------------------------

_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def latex_escape(text: str) -> str:
    out = "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)
    return out.replace("±", r"$\pm$")


def table_latex(table: ReportTable) -> str:
    spec = "l" + "r" * len(table.columns)
    header = " & ".join(latex_escape(h) for h in [table.row_header] + table.columns) + r" \\"
    lines = [r"\begin{table}[t]", r"\centering", r"\small",
             rf"\caption{{{latex_escape(table.title)} ({latex_escape(table.setting)})}}",
             rf"\begin{{tabular}}{{{spec}}}", r"\toprule", header, r"\midrule"]
    for row in table.rows:
        if row.kind == "improvement":
            lines.append(r"\midrule")
        cells = [latex_escape(c.text) if not (c.best and c.text != "-") else rf"\textbf{{{latex_escape(c.text)}}}"
                 for c in row.cells]
        label = latex_escape(row.label)
        if row.kind == "improvement":
            label = rf"\textbf{{{label}}}"
        lines.append(" & ".join([label] + cells) + r" \\")
        if row.kind == "dense":
            lines.append(r"\midrule")
    lines += [r"\bottomrule", r"\end{tabular}"]
    lines += [rf"\par\footnotesize {latex_escape(note)}" for note in table.notes]
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def to_latex(tables: Sequence[ReportTable]) -> str:
    preamble = "% splinebench report; needs \\usepackage{booktabs}\n"
    return preamble + "\n".join(table_latex(t) for t in tables)


# --- JSON ------------------------------------------------------------------------------------------------------


def to_json(tables: Sequence[ReportTable], settings: Sequence[dict[str, Any]] = (),
            figures: Sequence[Path] = ()) -> str:
    return json.dumps({"settings": list(settings), "tables": [t.to_dict() for t in tables],
                       "figures": [str(f) for f in figures]}, indent=2, default=str)


# --- rich ------------------------------------------------------------------------------------------------------


def to_rich(table: ReportTable) -> Any:
    from rich.table import Table

    out = Table(title=f"{table.title}\n[dim]{table.setting}[/dim]", caption="\n".join(table.notes) or None,
                caption_justify="left")
    out.add_column(table.row_header or "", style="bold")
    for column in table.columns:
        out.add_column(column, justify="right")
    for index, row in enumerate(table.rows):
        before_improvement = index + 1 < len(table.rows) and table.rows[index + 1].kind == "improvement"
        cells = []
        for cell in row.cells:
            text = cell.text.replace("[", "\\[")
            if cell.text.startswith("failed"):
                text = f"[red]{text}[/red]"
            elif cell.best and cell.text != "-":
                text = f"[bold green]{text}[/bold green]"
            cells.append(text)
        out.add_row(row.label, *cells, end_section=row.kind == "dense" or before_improvement)
    return out
