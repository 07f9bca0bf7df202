"""Starting and stopping runs as subprocesses, with a stand-in for the CLI (a few lines of Python, no torch)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from tui_helpers import pilot_test

from splinebench.errors import BadInputError
from splinebench.tui.app import SplinebenchDashboard
from splinebench.tui.launcher import RunLauncher

SLEEPER = "import sys, time; print('started', sys.argv[1:], flush=True); time.sleep(60)"
STUBBORN = (
    "import signal, sys, time; signal.signal(signal.SIGINT, signal.SIG_IGN); print('ready', flush=True); "
    "time.sleep(60)"
)


def _launcher(tmp_path: Path, script: str, grace: float = 15.0) -> RunLauncher:
    return RunLauncher(str(tmp_path / "store.sqlite"), cli=[sys.executable, "-c", script], stop_grace=grace)


def _wait_ended(launcher: RunLauncher, timeout: float = 20.0) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ended = launcher.tick()
        if ended:
            return ended
        time.sleep(0.05)
    raise AssertionError("the process did not end")


def _wait_output(path: Path, text: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in path.read_text():
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} never appeared in {path}")
        time.sleep(0.05)


def test_a_launched_run_gets_the_profile_store_and_overrides_and_its_output_goes_to_a_log(tmp_path: Path) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text("name = 'p'\n")
    launcher = _launcher(tmp_path, SLEEPER)
    run = launcher.launch(str(profile), ["train.epochs=3"])
    try:
        _wait_output(run.log_path, "started")
        assert "'--set', 'train.epochs=3'" in run.log_tail()
        assert str(tmp_path / "store.sqlite") in run.log_tail()
        assert run.log_path.parent == tmp_path / "tui-logs"
    finally:
        run.process.kill()
        run.process.wait()


def test_stop_sends_sigint_and_the_ended_process_is_reaped_once(tmp_path: Path) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text("")
    launcher = _launcher(tmp_path, SLEEPER)
    run = launcher.launch(str(profile), [])
    _wait_output(run.log_path, "started")
    launcher.stop(run.pid)
    ended = _wait_ended(launcher)
    assert [e.run.pid for e in ended] == [run.pid]
    assert "KeyboardInterrupt" in run.log_path.read_text()
    assert not launcher.alive(run.pid)
    assert launcher.tick() == []


def test_a_run_that_ignores_sigint_gets_sigterm_after_the_grace_period(tmp_path: Path) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text("")
    launcher = _launcher(tmp_path, STUBBORN, grace=0.2)
    run = launcher.launch(str(profile), [])
    _wait_output(run.log_path, "ready")
    launcher.stop(run.pid)
    time.sleep(0.3)
    assert launcher.alive(run.pid)  # SIGINT ignored
    ended = _wait_ended(launcher)
    assert ended[0].returncode == -15


def test_stopping_a_process_that_is_not_running_is_refused(tmp_path: Path) -> None:
    launcher = _launcher(tmp_path, SLEEPER)
    with pytest.raises(BadInputError, match="not running"):
        launcher.stop(2**22 + 4321)


def test_a_profile_that_does_not_exist_is_refused_before_starting(tmp_path: Path) -> None:
    launcher = _launcher(tmp_path, SLEEPER)
    with pytest.raises(BadInputError, match="no profile file"):
        launcher.launch(str(tmp_path / "missing.toml"), [])
    assert not launcher.children


class CountingLauncher(RunLauncher):
    """A real launcher that counts how often the dashboard asked it to reap."""

    ticks = 0

    def tick(self, now: float | None = None) -> list:
        self.ticks += 1
        return super().tick(now)


@pilot_test
async def test_the_dashboard_polls_its_launcher_only_while_something_it_launched_is_alive(tmp_path: Path) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text("")
    launcher = CountingLauncher(
        str(tmp_path / "store.sqlite"), cli=[sys.executable, "-c", "import time; time.sleep(0.5)"]
    )
    app = SplinebenchDashboard(str(tmp_path / "store.sqlite"), profiles_dir=str(tmp_path), launcher=launcher)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(1.2)
        assert launcher.ticks == 0  # nothing launched: the timer sleeps
        app.launch_run(str(profile), [])
        deadline = time.monotonic() + 20
        while launcher.children and time.monotonic() < deadline:
            await pilot.pause(0.1)
        assert not launcher.children, "the ended child was never reaped"
        assert launcher.ticks >= 1
        await pilot.pause(0.6)  # one more tick may be in flight when the last child is reaped
        settled = launcher.ticks
        await pilot.pause(1.2)
        assert launcher.ticks == settled  # paused again once nothing is left to reap
