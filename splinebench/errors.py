"""User-facing errors.

Everything a user can get wrong (a profile key, a model name, a missing data file, an unreachable host) raises a
subclass of :class:`BadInputError`. The CLI turns those into one line on stderr and exit code 2; any other exception
is a bug and keeps its traceback.
"""

from __future__ import annotations


class SplinebenchError(Exception):
    """Base class of every error splinebench raises on purpose."""


class BadInputError(SplinebenchError):
    """The user asked for something that cannot be done as asked (exit code 2)."""


class RunAbortedError(SplinebenchError):
    """A run had to stop for a reason outside its own code: the store or a checkpoint could not be written.

    Nothing may swallow it (a failing pruner is recorded and the others go on; a full disk is not a pruner's
    fault). The CLI prints its one line and exits 1; the run is marked failed where the store still takes a write.
    """


class UnknownNameError(BadInputError, LookupError):
    """A registry lookup failed; the message lists the closest registered names."""

    def __init__(self, kind: str, name: str, suggestions: list[str], known: int) -> None:
        self.kind = kind
        self.name = name
        self.suggestions = suggestions
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(
            f"unknown {kind} {name!r}.{hint} ({known} {kind}s registered; "
            f"`splinebench {kind}s list` shows them all)"
        )

    def __str__(self) -> str:  # LookupError would quote the message otherwise
        return self.args[0]


class MissingDataError(BadInputError, FileNotFoundError):
    """A dataset's files are not where we looked; the message says how to get them."""

    def __str__(self) -> str:
        return self.args[0]
