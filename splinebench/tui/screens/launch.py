"""The launch screen: pick a profile from the profiles folder, edit dotted overrides, start the run.

The run starts as ``splinebench run PROFILE --store STORE --set KEY=VALUE ...`` in a subprocess (see
``splinebench.tui.launcher``); the exact command is shown before it starts, so what the dashboard does can
always be typed by hand.
"""

from __future__ import annotations

import shlex

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from splinebench.errors import BadInputError
from splinebench.tui.launcher import parse_overrides
from splinebench.tui.profile_files import ProfileFile, list_profiles

EXAMPLE = "train.epochs=3\nretrain.epochs=1\nprune.ratios=[0.5]"


class LaunchScreen(Screen[None]):
    """Choose a profile, edit overrides (one KEY=VALUE per line), press Ctrl+S or Start."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("ctrl+s", "start", "Start run", priority=True),
    ]

    def __init__(self, profiles_dir: str, overrides: str = "") -> None:
        super().__init__()
        self.profiles_dir = profiles_dir
        self.profiles: list[ProfileFile] = list_profiles(profiles_dir)
        self.initial_overrides = overrides

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="launch-body"):
            with Vertical(id="launch-left"):
                yield Label("profiles", classes="section-title")
                yield OptionList(
                    *[
                        Option(p.name if p.error is None else f"{p.name} (unreadable)", id=str(n))
                        for n, p in enumerate(self.profiles)
                    ],
                    id="profile-list",
                )
            with Vertical(id="launch-right"):
                yield Static("", id="profile-info")
                yield Label("overrides, one KEY=VALUE per line:", classes="section-title")
                yield TextArea(
                    self.initial_overrides,
                    id="overrides",
                    soft_wrap=True,
                    placeholder=f"for example:\n{EXAMPLE}",
                )
                yield Static("", id="command-preview")
                yield Static("", id="launch-error")
                with Horizontal(id="launch-buttons"):
                    yield Button("Start (ctrl+s)", id="start", variant="success")
                    yield Button("Cancel", id="cancel")
        yield Footer()

    def on_mount(self) -> None:
        options = self.query_one("#profile-list", OptionList)
        if not self.profiles:
            self._error(f"no *.toml profiles in {self.profiles_dir}; restart with --profiles-dir DIR")
            return
        names = [p.path.stem for p in self.profiles]
        options.highlighted = names.index("quickstart") if "quickstart" in names else 0
        options.focus()
        self._preview()

    # -- state -----------------------------------------------------------------------------------------------
    def selected_profile(self) -> ProfileFile | None:
        index = self.query_one("#profile-list", OptionList).highlighted
        if index is None or not self.profiles:
            return None
        return self.profiles[index]

    def overrides(self) -> list[str]:
        return parse_overrides(self.query_one("#overrides", TextArea).text)

    def _error(self, message: str) -> None:
        self.query_one("#launch-error", Static).update(message)

    def _preview(self) -> None:
        profile = self.selected_profile()
        info = self.query_one("#profile-info", Static)
        if profile is None:
            info.update("")
            return
        info.update(f"[b]{profile.name}[/b] ({profile.path.name})  {profile.error or profile.description}")
        try:
            command = self.app.launcher.run_command(str(profile.path), self.overrides())  # type: ignore[attr-defined]
        except BadInputError as exc:
            self._error(str(exc))
            return
        self._error("")
        self.query_one("#command-preview", Static).update("$ " + shlex.join(["splinebench", *command[3:]]))

    @on(OptionList.OptionHighlighted, "#profile-list")
    def _highlighted(self) -> None:
        self._preview()

    @on(OptionList.OptionSelected, "#profile-list")
    def _selected(self) -> None:
        self.query_one("#overrides", TextArea).focus()

    @on(TextArea.Changed, "#overrides")
    def _overrides_changed(self) -> None:
        self._preview()

    # -- actions ---------------------------------------------------------------------------------------------
    @on(Button.Pressed, "#start")
    def action_start(self) -> None:
        profile = self.selected_profile()
        if profile is None:
            self._error("pick a profile first")
            return
        try:
            overrides = self.overrides()
            self.app.launch_run(str(profile.path), overrides)  # type: ignore[attr-defined]
        except BadInputError as exc:
            self._error(str(exc))
            return
        except OSError as exc:
            self._error(f"could not start the run: {exc}")
            return
        self.app.pop_screen()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.app.pop_screen()
