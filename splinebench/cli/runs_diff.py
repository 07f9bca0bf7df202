"""``splinebench runs diff RUN_A RUN_B`` and the environment panel of ``runs show``.

Exit codes: 0 the runs' numbers are identical in every event both have (it says so), 1 they differ (it says where
first: event, phase, epoch, field, both values), 2 bad input (an unknown run id or store).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from splinebench.store import default_store_path

out = Console()
if not out.is_terminal:
    out = Console(width=160)

StoreOption = Annotated[str, typer.Option("--store", help="Results store (SQLite file) holding RUN_A (and RUN_B).")]


def _value(value: Any) -> str:
    return "-" if value is None else escape(repr(value) if isinstance(value, float) else str(value))


def diff_command(
    run_a: Annotated[str, typer.Argument(help="First run id (a unique prefix works).")],
    run_b: Annotated[str, typer.Argument(help="Second run id.")],
    store: StoreOption = default_store_path(),
    store_b: Annotated[str | None, typer.Option("--store-b", help="Store holding RUN_B, if not --store.")] = None,
    json_out: Annotated[bool, typer.Option("--json/--no-json", help="The comparison as one JSON object on stdout.")]
    = False,
) -> None:
    """Where two runs first diverge (phase, epoch, metric, both values) and which environment fields differ."""
    from splinebench.report.diff import diff_runs
    from splinebench.store import StoreReader

    reader_a = StoreReader(store)
    reader_b = StoreReader(store_b) if store_b else reader_a
    try:
        result = diff_runs(reader_a, run_a, reader_b, run_b)
    finally:
        reader_a.close()
        if reader_b is not reader_a:
            reader_b.close()
    if json_out:
        print(json.dumps(result.to_dict(), default=str))
        raise typer.Exit(0 if result.identical else 1)
    a, b = result.run_a, result.run_b
    if result.identical:
        out.print(f"identical: {result.compared} events of {a} and {b} agree in every number", highlight=False)
    elif result.first is None:
        out.print(f"nothing to compare: {a} and {b} share no event", highlight=False)
    else:
        first = result.first
        where = ", ".join(f"{k} {v}" for k, v in first.where.items())
        out.print(f"first divergence: {first.event} ({where}), {escape(first.field)}: "
                  f"{_value(first.a)} ({a}) vs {_value(first.b)} ({b})", highlight=False)
        out.print(f"{result.differing_events} of {result.compared} shared events differ", highlight=False)
    if result.only_in_a or result.only_in_b:
        out.print(f"events only in {a}: {result.only_in_a}, only in {b}: {result.only_in_b} "
                  "(different pruners, ratios or epochs)", highlight=False)
    for title, changes in (("environment", result.environment), ("profile", result.profile)):
        if not changes:
            out.print(f"{title}: same", highlight=False)
            continue
        table = Table(title=f"{title} fields that differ")
        for col in ("field", a, b):
            table.add_column(col)
        for name, (va, vb) in changes.items():
            table.add_row(escape(name), _value(va), _value(vb))
        out.print(table)
    raise typer.Exit(0 if result.identical else 1)


def environment_table(environment: dict[str, Any] | None) -> Table | None:
    """The run's environment fingerprint as a two-column table (None for runs recorded before it existed)."""
    if not environment:
        return None
    table = Table(title="environment")
    table.add_column("field")
    table.add_column("value")
    for name, value in environment.items():
        table.add_row(escape(name), _value(value))
    return table
