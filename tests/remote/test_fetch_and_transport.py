"""Files from the board are untrusted too: fetching a results tree copies regular files into the run's directory and
nothing else, over SFTP or, where the board's sshd has no SFTP subsystem, over plain exec channels."""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
from pathlib import Path

import asyncssh
import pytest
import tomllib
from tiny_profiles import tiny_profile_dict

from splinebench.profiles import profile_from_dict
from splinebench.remote import ConnectOptions, RemoteOptions, RemoteSession, run_remote

ROOT = Path(__file__).resolve().parents[2]


def _connect(server) -> ConnectOptions:
    return ConnectOptions(server.url, known_hosts=[str(server.known_hosts)], client_keys=[str(server.client_key)],
                          config=[])


async def _fetch(server, remote: Path, local: Path):
    session = RemoteSession(_connect(server))
    await session.open()
    try:
        return await session.fetch_tree(str(remote), local), session.sftp_available
    finally:
        await session.close()


@pytest.fixture(params=["sftp", "exec"])
def server(request, board, board_without_sftp):
    return board if request.param == "sftp" else board_without_sftp


@pytest.mark.ssh
def test_a_hostile_results_tree_touches_nothing_outside_and_plants_no_link(server, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("mine")
    outside.chmod(0o600)
    os.utime(outside, (1_000_000_000, 1_000_000_000))
    before = outside.stat()
    tree = tmp_path / "board" / "runs" / "R"
    (tree / "tickets").mkdir(parents=True)
    (tree / "tickets" / "eb.pt").write_bytes(b"weights\x00\n")
    (tree / "tickets" / "eb.pt").chmod(0o777)
    (tree / "to-outside.pt").symlink_to(outside)
    (tree / "tickets" / "shadow").symlink_to("/etc/shadow")
    (tree / "escape").symlink_to(tmp_path)  # a directory link: following it would copy (and chmod) the whole tmp
    os.mkfifo(tree / "fifo")
    (tree / "planted.pt").write_bytes(b"board data")
    local = tmp_path / "here" / "runs" / "R"
    local.mkdir(parents=True)
    (local / "planted.pt").symlink_to(outside)  # a link already in the way here: never written through

    fetched, over_sftp = asyncio.run(_fetch(server, tree, local))

    assert over_sftp is (server.sftp)
    assert (local / "tickets" / "eb.pt").read_bytes() == b"weights\x00\n"
    assert (local / "tickets" / "eb.pt").stat().st_mode & 0o777 == 0o644  # the board's mode bits are not copied
    after = outside.stat()
    assert (after.st_mode, after.st_mtime, outside.read_text()) == (before.st_mode, before.st_mtime, "mine")
    links = [p for p in local.rglob("*") if p.is_symlink()]
    assert links == [local / "planted.pt"] and os.readlink(local / "planted.pt") == str(outside)
    assert not (local / "tickets" / "shadow").exists() and not (local / "escape").exists()
    assert not (local / "fifo").exists()
    said = " ".join(fetched.skipped)
    for name in ("to-outside.pt", "shadow", "escape", "fifo", "planted.pt"):
        assert name in said
    assert "symlink on the board" in said and "a symlink is in its place here" in said
    assert fetched.files == 1


def test_the_asyncssh_floor_is_the_release_that_refuses_outside_symlinks():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    board = (ROOT / "requirements-board.txt").read_text()
    assert any(re.fullmatch(r"asyncssh>=2\.24", d.strip()) for d in declared)
    assert re.search(r"^asyncssh>=2\.24\b", board, re.M)
    assert tuple(int(x) for x in asyncssh.__version__.split(".")[:2]) >= (2, 24)


@pytest.mark.slow  # minutes of the default run's budget; `scripts/test -m slow` runs it
@pytest.mark.ssh
def test_a_board_without_sftp_runs_remote_runs_over_exec_channels(board_without_sftp, tmp_path):
    store = tmp_path / "store.sqlite"
    options = RemoteOptions(_connect(board_without_sftp), remote_dir=str(tmp_path / "on-board"), energy="none",
                            poll_s=0.2)
    run_id, ok = run_remote(profile_from_dict(tiny_profile_dict()), str(store), options)
    assert ok
    db = sqlite3.connect(store)
    seqs = [r[0] for r in db.execute("SELECT seq FROM events WHERE run_id=? ORDER BY seq", (run_id,))]
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) > 5
    assert db.execute("SELECT status FROM runs WHERE id=?", (run_id,)).fetchone()[0] == "finished"
    assert list((tmp_path / "runs" / run_id / "tickets").glob("*.pt"))  # fetched with cat over exec
