"""``--log tensorboard:DIR`` — each run's events as TensorBoard scalars and text under ``DIR/RUN_ID``.

Uses PyTorch's own ``torch.utils.tensorboard.SummaryWriter`` (the ``tensorboard`` extra provides the event-file
format). Scalars carry the epoch as their step; plans and results, which have no epoch, are logged at step 0. The
writer is flushed after every event, so ``tensorboard --logdir DIR`` shows a run while it trains.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from splinebench.engine.events import RunStarted
from splinebench.trackers.base import Tracker


class TensorBoardTracker(Tracker):
    name: ClassVar[str] = "tensorboard"
    extra: ClassVar[str] = "tensorboard"
    modules: ClassVar[tuple[str, ...]] = ("tensorboard",)
    target_help: ClassVar[str] = "DIR (event files go to DIR/RUN_ID)"
    needs_target: ClassVar[bool] = True

    def __init__(self, target: str | None = None) -> None:
        super().__init__(target)
        self.writer: Any = None

    def start(self, event: RunStarted) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(Path(self.target or ".") / event.run_id))

    def log_scalars(self, values: dict[str, float], step: int) -> None:
        for key, value in values.items():
            self.writer.add_scalar(key, value, global_step=step)
        self.writer.flush()

    def log_text(self, key: str, text: str) -> None:
        self.writer.add_text(key, f"```\n{text}\n```", global_step=0)  # markdown: keep the JSON's layout
        self.writer.flush()

    def finish(self, status: str) -> None:
        self.writer.add_text("status", status)
        self.writer.close()
        self.writer = None
