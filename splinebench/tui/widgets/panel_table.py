"""The one look of the dashboard's numeric tables: a bold left title, a rule under the header, no outer edge.

Text columns are left-aligned and numbers right-aligned, so columns of figures line up in every panel.
"""

from __future__ import annotations

from rich import box
from rich.table import Table


def panel_table(title: str, columns: tuple[str, ...], left: tuple[str, ...]) -> Table:
    """An empty table with ``columns``; those named in ``left`` are left-aligned, the rest right-aligned."""
    table = Table(
        title=title,
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        expand=False,
    )
    for col in columns:
        table.add_column(col, justify="left" if col in left else "right")
    return table
