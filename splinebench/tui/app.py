"""The splinebench dashboard: watch and drive runs live from the results store.

The app reads the store read-only (SQLite WAL, so it never blocks the run writing it) and starts, stops and
resumes runs as ``splinebench run`` subprocesses; it never imports the engine or torch. Refresh is driven by
change: a :class:`~splinebench.tui.store_watch.StoreWatch` thread sleeps on the store's file events (Linux; it
looks every ``poll_interval`` seconds elsewhere) and wakes the app only when another process committed (or once a
second, to notice a run whose process died); the app then re-reads the runs list (so a notification arrives
whatever screen is open) and the open run. A new event is on screen within one redraw or so, while an idle app
sleeps. A slower timer reaps launched processes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from functools import partial

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import Hit, Hits, Provider
from textual.message import Message
from textual.screen import Screen

from splinebench.errors import BadInputError
from splinebench.store import StoreError
from splinebench.tui.connection import StoreHandle
from splinebench.tui.feed import RunNews, RunsFeed
from splinebench.tui.launcher import LaunchedRun, RunLauncher
from splinebench.tui.screens.dialogs import ConfirmScreen, HelpScreen, StoreProblemScreen
from splinebench.tui.screens.launch import LaunchScreen
from splinebench.tui.screens.run import RunScreen
from splinebench.tui.screens.runs import RunsScreen
from splinebench.tui.store_watch import CHECK_SECONDS, StoreWatch


class StoreChanged(Message):
    """Posted by the store watch thread: something was committed (or a second passed)."""

#: How often the store's change counter is read: small enough that an event is drawn within 100 ms.
DEFAULT_POLL_SECONDS = CHECK_SECONDS
REOPEN_SECONDS = 1.0  # how often a missing store is looked for again

NEWS_TEXT = {
    "early_bird": ("Early bird", "spline EB ticket drawn at epoch {epoch} in {name} ({run_id})", "warning"),
    "finished": ("Run finished", "{name} ({run_id}) finished", "information"),
    "failed": ("Run failed", "{name} ({run_id}) failed; open it to see the error", "error"),
    "interrupted": ("Run interrupted", "{name} ({run_id}) stopped; press r on it to resume", "warning"),
}


class RunCommands(Provider):
    """Command palette entries: open any run by id or name, launch a run."""

    async def search(self, query: str) -> Hits:
        app = self.app
        assert isinstance(app, SplinebenchDashboard)
        matcher = self.matcher(query)
        for summary in app.runs_feed.summaries.values():
            run = summary.run
            title = f"open run {run.id} {run.name} ({run.status})"
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(title),
                    partial(app.open_run, run.id),
                    help=f"{run.model} on {run.dataset}, {summary.progress}",
                )


class SplinebenchDashboard(App[None]):
    """``splinebench tui``: the runs in a store, one run's live panels, and launching runs."""

    CSS_PATH = "dashboard.tcss"
    TITLE = "splinebench"
    COMMANDS = App.COMMANDS | {RunCommands}
    BINDINGS = [
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
        Binding("n", "launch", "New run", show=False),
    ]

    def __init__(
        self,
        store_path: str,
        profiles_dir: str = "profiles",
        poll_interval: float = DEFAULT_POLL_SECONDS,
        launcher: RunLauncher | None = None,
        start: tuple[str, list[str]] | None = None,
        follow_launched: bool = True,
    ) -> None:
        super().__init__()
        self.store = StoreHandle(store_path)
        self.profiles_dir = profiles_dir
        self.poll_interval = poll_interval
        self.launcher = launcher or RunLauncher(store_path)
        self.runs_feed = RunsFeed()
        self.start_request = start
        self.follow_launched = follow_launched
        self.following: set[int] = set()  # pids of launched runs whose screen opens once they appear
        self.runs_screen = RunsScreen()
        self._last_open_try = 0.0
        self.store_watch = StoreWatch(store_path, lambda: self.post_message(StoreChanged()), poll_interval)

    # -- lifecycle -------------------------------------------------------------------------------------------
    def get_default_screen(self) -> Screen:
        return self.runs_screen

    def on_mount(self) -> None:
        self.sub_title = self.store.path
        self._open_store()
        self.store_watch.start()
        # paused while nothing launched from here is alive: an idle dashboard should not wake twice a second
        self.launcher_timer = self.set_interval(0.5, self.tick_launcher, pause=not self.launcher.busy)
        if self.start_request is not None:
            profile, overrides = self.start_request
            self.launch_run(profile, overrides)

    def on_unmount(self) -> None:
        self.store_watch.stop()
        self.store.close()

    def _open_store(self) -> None:
        self._last_open_try = time.monotonic()
        if self.store.try_open():
            self.poll_runs(force=True)
            return
        if self.store.state == "broken":
            self.show_problem(self.store.message)
        else:
            self.runs_screen.show_store_state(self.store.message)

    def show_problem(self, message: str) -> None:
        if not isinstance(self.screen, StoreProblemScreen):
            self.push_screen(StoreProblemScreen(message))

    def store_failed(self, error: StoreError) -> None:
        """A query failed mid-session: say so plainly instead of showing a traceback."""
        self.store.fail(error)
        self.show_problem(self.store.message)

    def retry_store(self) -> None:
        self.store.close()
        self.store = StoreHandle(self.store.path)
        if self.store.try_open():
            while isinstance(self.screen, StoreProblemScreen):
                self.pop_screen()
            self.poll_runs(force=True)
        else:
            self.notify(self.store.message, title="store still unreadable", severity="error")

    # -- polling ---------------------------------------------------------------------------------------------
    def on_store_changed(self, _: StoreChanged) -> None:
        """Re-read the runs and the open run (each feed reads only rows added since its last read)."""
        self.store_watch.handled()
        self.poll_runs()
        run_screen = next((s for s in reversed(self.screen_stack) if isinstance(s, RunScreen)), None)
        if run_screen is not None and self.store.reader is not None:
            run_screen.poll()

    def poll_runs(self, force: bool = False) -> None:
        if self.store.reader is None:
            if self.store.state == "missing" and time.monotonic() - self._last_open_try >= REOPEN_SECONDS:
                self._open_store()
            return
        try:
            changed, news = self.runs_feed.poll(self.store.reader, force=force)
        except StoreError as exc:
            self.store_failed(exc)
            return
        if changed or force:
            self.runs_screen.show_runs(self.runs_feed.summaries)
        for item in news:
            self._announce(item)
        self._follow()

    def _announce(self, news: RunNews) -> None:
        title, template, severity = NEWS_TEXT[news.kind]
        message = template.format(epoch=news.epoch, name=news.name, run_id=news.run_id)
        self.notify(message, title=title, severity=severity, timeout=8)  # type: ignore[arg-type]

    def _follow(self) -> None:
        if not self.following:
            return
        for summary in self.runs_feed.summaries.values():
            if summary.run.pid in self.following:
                self.following.discard(summary.run.pid)
                self.open_run(summary.run.id)

    def keep_reaping(self) -> None:
        """Reap and escalate from now on: something was launched or asked to stop."""
        self.launcher_timer.resume()

    def tick_launcher(self) -> None:
        if not self.launcher.busy:
            self.launcher_timer.pause()
        for ended in self.launcher.tick():
            self.following.discard(ended.run.pid)
            code = ended.returncode
            if code == 0:
                continue  # the store's own "finished" news says it
            if code in (130, -2):
                self.notify(
                    f"{ended.run.label} stopped (exit {code}); press r on it to resume",
                    title="Run stopped",
                    severity="warning",
                )
            else:
                tail = ended.run.log_tail() or "(no output)"
                self.notify(
                    f"{ended.run.display_command}\nexit {code}:\n{tail}\nlog: {ended.run.log_path}",
                    title="Run exited with an error",
                    severity="error",
                    timeout=15,
                )

    # -- what screens ask for --------------------------------------------------------------------------------
    def open_run(self, run_id: str) -> None:
        if isinstance(self.screen, RunScreen) and self.screen.run_id == run_id:
            return
        while isinstance(self.screen, RunScreen):
            self.pop_screen()
        self.push_screen(RunScreen(run_id))

    def launch_run(self, profile: str, overrides: list[str]) -> LaunchedRun:
        launched = self.launcher.launch(profile, overrides)
        self.keep_reaping()
        if self.follow_launched:
            self.following.add(launched.pid)
        self.notify(
            f"{launched.display_command}\npid {launched.pid}, log {launched.log_path.name}",
            title="Run started",
            timeout=6,
        )
        return launched

    def resume_run(self, run_id: str) -> None:
        summary = self.runs_feed.summaries.get(run_id)
        if summary is None:
            return
        if summary.run.status != "interrupted":
            self.notify(
                f"only an interrupted run can be resumed; {run_id} is {summary.run.status}",
                severity="warning",
            )
            return
        launched = self.launcher.resume(run_id)
        self.keep_reaping()
        if self.follow_launched:
            self.following.add(launched.pid)
        self.notify(f"{launched.display_command}\npid {launched.pid}", title="Resuming", timeout=6)

    def request_stop(self, run_id: str) -> None:
        """Ask, then stop a run of this host by its pid (SIGINT; SIGTERM after a grace period)."""
        summary = self.runs_feed.summaries.get(run_id)
        run = summary.run if summary else None
        if run is None or run.status != "running":
            self.notify(f"{run_id} is not running", severity="warning")
            return
        if run.remote or not self.launcher.alive(run.pid):
            self.notify(
                f"{run_id} does not run on this host (pid {run.pid}); stop it where it runs",
                severity="warning",
            )
            return

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            try:
                self.launcher.stop(run.pid)  # type: ignore[arg-type]
                self.keep_reaping()
            except (BadInputError, OSError) as exc:
                self.notify(str(exc), severity="error")
                return
            self.notify(
                f"sent SIGINT to pid {run.pid}; it can be resumed from its last checkpoint",
                title="Stopping",
                timeout=6,
            )

        self.push_screen(ConfirmScreen(f"Stop run {run.id} ({run.name}, pid {run.pid})?"), answered)

    # -- actions and the palette -----------------------------------------------------------------------------
    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_launch(self) -> None:
        if not isinstance(self.screen, LaunchScreen):
            self.push_screen(LaunchScreen(self.profiles_dir))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Launch a run", "Pick a profile, edit overrides, start it", self.action_launch)
        yield SystemCommand("Help", "Key bindings of every screen", self.action_help)
        yield SystemCommand("Runs", "Back to the list of runs", self._to_runs)

    def _to_runs(self) -> None:
        while len(self.screen_stack) > 1 and not isinstance(self.screen, RunsScreen):
            self.pop_screen()

