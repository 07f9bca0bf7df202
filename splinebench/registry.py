"""One registry type for every plug-in kind (models, datasets, pruners, energy meters).

Taken from timm's ``register_model``: adding an entry never edits a central list, lookups support shell-style
wildcards, and an unknown name is answered with the closest registered names instead of a bare ``KeyError``.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from splinebench.errors import UnknownNameError

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    """A registered object with free-form metadata (e.g. a model's family, a pruner's origin)."""

    name: str
    obj: T
    meta: dict[str, Any] = field(default_factory=dict)


class Registry(Generic[T]):
    """Name -> object, with wildcard listing and "did you mean" errors."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}

    def register(self, name: str, obj: T | None = None, **meta: Any) -> Any:
        """Register ``obj`` under ``name``; without ``obj`` it is a decorator."""

        def add(target: T) -> T:
            if name in self._entries and self._entries[name].obj is not target:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = Entry(name, target, dict(meta))
            return target

        if obj is None:
            return add
        return add(obj)

    def unregister(self, name: str) -> None:
        """Drop ``name`` if present: a test or a notebook that registered a throwaway entry leaves no trace."""
        self._entries.pop(name, None)

    def get(self, name: str) -> T:
        return self.entry(name).obj

    def entry(self, name: str) -> Entry[T]:
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownNameError(self.kind, name, self.suggest(name), len(self._entries)) from None

    def suggest(self, name: str, n: int = 5) -> list[str]:
        """Closest registered names: fuzzy matches first, then names sharing the given prefix."""
        names = sorted(self._entries)
        close = difflib.get_close_matches(name, names, n=n, cutoff=0.5)
        lowered = name.lower()
        for candidate in names:
            if len(close) >= n:
                break
            if candidate not in close and (candidate.lower().startswith(lowered[:3]) or lowered in candidate.lower()):
                close.append(candidate)
        return close

    def names(self, pattern: str = "*") -> list[str]:
        """Registered names matching a shell-style ``pattern``, sorted."""
        return sorted(n for n in self._entries if fnmatch.fnmatchcase(n, pattern))

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry[T]]:
        return iter(self._entries[n] for n in sorted(self._entries))

    def __len__(self) -> int:
        return len(self._entries)


Factory = Callable[..., Any]
