"""``--log wandb[:DIR]`` — each run as a W&B run in *offline* mode, under ``DIR/wandb`` (default: the current dir).

splinebench never talks to the network at run time, so the run is always written offline, key or no key;
``wandb sync DIR/wandb/offline-run-*`` uploads it later. The resolved profile is the run's config, per-epoch values go
to its history (with ``epoch`` as a column, since W&B's own step must only grow), and final results, plans and the EB
moment also go to its summary, which is what W&B's run table shows.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

from splinebench.engine.events import RunStarted
from splinebench.trackers.base import Tracker

EXIT_CODES = {"finished": 0, "failed": 1, "killed": 130}


class WandbTracker(Tracker):
    name: ClassVar[str] = "wandb"
    extra: ClassVar[str] = "wandb"
    modules: ClassVar[tuple[str, ...]] = ("wandb",)
    target_help: ClassVar[str] = "DIR (the offline run goes to DIR/wandb)"

    def __init__(self, target: str | None = None) -> None:
        super().__init__(target)
        self.run: Any = None

    def start(self, event: RunStarted) -> None:
        import wandb

        directory = Path(self.target or ".")
        directory.mkdir(parents=True, exist_ok=True)
        os.environ["WANDB_MODE"] = "offline"  # also for any W&B code the run's process starts later
        self.run = wandb.init(
            project=event.name or "splinebench", name=event.run_id, dir=str(directory), mode="offline",
            config=event.profile, tags=[event.model, event.dataset] if event.model else None,
            settings=wandb.Settings(console="off", save_code=False, silent=True, disable_git=True),
        )

    def log_scalars(self, values: dict[str, float], step: int) -> None:
        self.run.log({**values, "epoch": step})
        if any(k.startswith(("result/", "plan/", "early_bird/")) for k in values):
            self.run.summary.update(values)

    def log_text(self, key: str, text: str) -> None:
        self.run.summary[key] = text

    def finish(self, status: str) -> None:
        self.run.finish(exit_code=EXIT_CODES[status])
        self.run = None
