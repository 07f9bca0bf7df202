"""``--help`` without a type tag on on/off flags.

Typer (0.29) prints a type column for every option, so ``--json <bool>`` reads as if the flag took a value; an
on/off flag takes none. Typer has no setting for it, so the one method that draws the column answers "no type"
for flags; options that take a value keep their ``<int>``/``<str>`` tag. Imported once by the CLI entry modules.
"""

from __future__ import annotations

from typer.core import TyperOption

_typed = TyperOption.display_type_rich


def _display_type_rich(self: TyperOption, ctx):  # noqa: ANN001, ANN202 - typer's own signature
    if self.is_flag:
        return None
    return _typed(self, ctx)


if TyperOption.display_type_rich is not _display_type_rich:
    TyperOption.display_type_rich = _display_type_rich  # type: ignore[method-assign]
