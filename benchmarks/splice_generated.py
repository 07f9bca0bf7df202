"""Put a generated report between a mode's GENERATED markers of a doc, keeping the rest of the file.

    python benchmarks/splice_generated.py GENERATED_MD TARGET_MD MODE PREAMBLE_FILE [HEADING]

PREAMBLE_FILE holds the lines written after the BEGIN marker (how the block was made). When the target has no
block for MODE yet, the block is appended, under HEADING if one is given. GENERATED_MD is removed afterwards.
Used by benchmarks/reproduction.sh (mode cpu/gpu) and benchmarks/reproduction_v2.sh (mode v2-cpu).
"""

from __future__ import annotations

import sys
from pathlib import Path


def splice(generated: Path, target: Path, mode: str, preamble: str, heading: str = "") -> None:
    begin, end = f"<!-- BEGIN GENERATED {mode} -->", f"<!-- END GENERATED {mode} -->"
    body = "\n".join([begin, "", preamble.rstrip("\n"), "", generated.read_text(), end])
    text = target.read_text() if target.is_file() else "# Reproduction on Fashion-MNIST\n\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + body + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + (f"{heading}\n\n" if heading else "") + body + "\n"
    target.write_text(text)
    generated.unlink()
    print(f"updated {target}")


if __name__ == "__main__":
    generated, target, mode, preamble = sys.argv[1:5]
    splice(Path(generated), Path(target), mode, Path(preamble).read_text(), sys.argv[5] if len(sys.argv) > 5 else "")
