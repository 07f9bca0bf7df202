"""Every output format parses and carries the table's numbers."""

from __future__ import annotations

import csv
import io
import json

import pytest
from report_stores import synthetic_profile, write_run

from splinebench.report.build import build_report, render
from splinebench.report.render import latex_escape, to_rich
from splinebench.store import StoreReader

RESULTS = [("spline", 0.3, 0.9123, 8e11), ("eb-spline", 0.3, 0.9050, 4e11), ("ns", 0.3, 0.9012, 9e11),
           ("thinet", 0.3, 0.8800, 6e11)]


@pytest.fixture
def report(tmp_path):
    store = tmp_path / "s.sqlite"
    write_run(store, "run-a", synthetic_profile(name="fmt_test"), RESULTS)
    write_run(store, "run-b", synthetic_profile(name="fmt_test", seed=1), RESULTS)
    reader = StoreReader(store)
    built = build_report(reader, ["run-a", "run-b"])
    reader.close()
    return built


def test_markdown_tables_have_one_cell_per_column_and_the_numbers(report):
    text = render(report, "md")
    assert "#### Table 2: retrain accuracy (%)" in text
    assert "| spline | **91.23±0.00**" in text
    table_lines = [line for line in text.splitlines() if line.startswith("|")]
    widths = {}
    for line in table_lines:
        cells = line.strip("|").split(" | ")
        widths.setdefault(len(cells), 0)
        widths[len(cells)] += 1
    header = next(line for line in table_lines if line.startswith("| method"))
    assert header.count("|") == len(report.table("table2").columns) + 2


def test_csv_is_one_row_per_cell_with_the_values(report):
    rows = list(csv.DictReader(io.StringIO(render(report, "csv"))))
    cell = next(r for r in rows if r["table"] == "table2" and r["row"] == "ns" and r["column"] == "acc p=30%")
    assert float(cell["value"]) == pytest.approx(90.12)
    assert cell["n"] == "2"
    assert cell["setting"] == "fmt_test"
    total = sum(len(t.rows) * len(t.columns) for t in report.tables)
    assert len(rows) == total


def test_json_round_trips_the_numbers(report):
    data = json.loads(render(report, "json"))
    assert data["settings"][0]["runs"] == ["run-a", "run-b"]
    table2 = next(t for t in data["tables"] if t["key"] == "table2")
    ns = next(r for r in table2["rows"] if r["label"] == "ns")
    assert ns["cells"][table2["columns"].index("cost p=30%")]["value"] == pytest.approx(9e11)


def test_latex_escapes_and_balances(report):
    text = render(report, "latex")
    assert text.count(r"\begin{tabular}") == text.count(r"\end{tabular}") == len(report.tables)
    assert r"acc p=30\%" in text
    assert r"\textbf{91.23$\pm$0.00}" in text
    assert "fmt\\_test" in text
    body = text.split("\n", 1)[1]
    assert body.count("{") == body.count("}")


def test_latex_escape_of_special_characters():
    assert latex_escape("a_b & 50% #1 ±") == r"a\_b \& 50\% \#1 $\pm$"


def test_rich_tables_render_the_improvement_row(report):
    from rich.console import Console

    console = Console(record=True, width=200)
    console.print(to_rich(report.table("table2")))
    assert "Spline Improv." in console.export_text()


def test_unknown_format_is_refused(report):
    with pytest.raises(ValueError, match="format"):
        render(report, "xlsx")
