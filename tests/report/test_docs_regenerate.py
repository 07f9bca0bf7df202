"""Every number in docs/reproduction.md's generated blocks comes back from the results bundle committed beside it.

``benchmarks/reproduction.sh MODE`` writes the block between ``<!-- BEGIN GENERATED MODE -->`` and its END marker
and exports the runs behind it to ``docs/data/reproduction-MODE.json.gz`` (a v2 block, ``MODE`` = ``v2-cpu``, reads
``docs/data/repro-v2-cpu.json.gz``, which ``benchmarks/reproduction_v2.sh report`` writes). Here the report is
built again from that bundle alone (no store, no run directory, nothing re-run) and its tables must equal the
block's, character for character. The figures are drawn from the same rows; the step times above the tables are
wall clock and not compared.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from splinebench.store.bundle import read_bundle

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "reproduction.md"
SCRIPT = Path(sys.executable).with_name("splinebench")
MODES = sorted(set(re.findall(r"<!-- BEGIN GENERATED ([\w-]+) -->", DOC.read_text())))


def _tables(markdown: str) -> str:
    """The report's tables: from its first setting heading up to the figure list."""
    start = re.search(r"^### ", markdown, re.MULTILINE)
    assert start is not None, "no setting heading"
    return markdown[start.start():].split("\n### Figures")[0].strip()


def test_the_doc_has_generated_blocks() -> None:
    assert "cpu" in MODES


@pytest.mark.parametrize("mode", MODES)
def test_a_generated_block_of_the_reproduction_doc_regenerates_from_its_committed_bundle(mode: str, tmp_path) -> None:
    # reproduction.sh MODE exports reproduction-MODE; reproduction_v2.sh report exports repro-v2-cpu (block "v2-cpu")
    names = [f"reproduction-{mode}.json.gz", f"repro-{mode}.json.gz"]
    bundle = next((ROOT / "docs" / "data" / n for n in names if (ROOT / "docs" / "data" / n).is_file()), None)
    assert bundle is not None, f"the {mode} block has no committed results bundle in docs/data ({' or '.join(names)})"
    block = DOC.read_text().split(f"<!-- BEGIN GENERATED {mode} -->")[1].split(f"<!-- END GENERATED {mode} -->")[0]
    run_ids = [run["id"] for run in read_bundle(bundle)["runs"]]
    done = subprocess.run([str(SCRIPT), "report", *run_ids, "--store", str(bundle), "--format", "md", "--out",
                           str(tmp_path), "--name", "again"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert _tables((tmp_path / "again.md").read_text()) == _tables(block)
