"""The profiles the launch screen offers: every ``*.toml`` in the profiles folder, with its name and
description.

Only the two display fields are read here (``tomllib``); the run validates the whole profile itself when it
starts, and a profile it rejects shows up as the launched process's error.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass(frozen=True)
class ProfileFile:
    path: Path
    name: str
    description: str
    error: str | None = None


def list_profiles(directory: str | Path) -> list[ProfileFile]:
    """Profiles in ``directory`` sorted by file name; an unparsable file is listed with its error, not
    hidden."""
    folder = Path(directory)
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            out.append(ProfileFile(path, path.stem, "", f"unreadable: {exc}"))
            continue
        out.append(ProfileFile(path, str(data.get("name", path.stem)), str(data.get("description", ""))))
    return out
