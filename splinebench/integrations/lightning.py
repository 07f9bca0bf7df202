"""A Lightning callback that records partition codes, per-layer distances and the spline EB from ``Trainer.fit``.

It is :func:`splinebench.track` driven by Lightning's hooks (the ``lightning`` extra): ``on_fit_start`` opens the run,
``on_train_epoch_end`` — which in Lightning 2 runs after the epoch's validation — records one epoch with the metrics
the module logged (``trainer.callback_metrics``), and ``on_fit_end`` / ``on_exception`` close it. With
``stop_at_early_bird=True`` the spline EB sets ``trainer.should_stop``, the way Lightning's own ``EarlyStopping`` does;
otherwise the EB is only recorded.

    trainer = Trainer(max_epochs=20, callbacks=[SplineTracking(probe=x_probe, store="results.sqlite")])
"""

from __future__ import annotations

import os
from typing import Any

import torch

try:
    from lightning.pytorch.callbacks import Callback
except ImportError as exc:  # pragma: no cover - the message is the point
    from splinebench.errors import BadInputError

    raise BadInputError("splinebench.integrations.lightning needs Lightning: "
                        "pip install 'splinebench[lightning]'") from exc

from splinebench.engine.own_loop import TrackedLoop

#: where each recorded metric is looked for in ``trainer.callback_metrics``, first match wins
DEFAULT_METRICS: dict[str, tuple[str, ...]] = {
    "train_loss": ("train_loss_epoch", "train_loss", "loss"),
    "train_acc": ("train_acc_epoch", "train_acc"),
    "test_loss": ("val_loss", "test_loss"),
    "test_acc": ("val_acc", "test_acc", "val_accuracy"),
}


class SplineTracking(Callback):
    """Stream a ``Trainer.fit`` into a splinebench store (see the module docstring)."""

    def __init__(self, probe: torch.Tensor, store: str | os.PathLike[str], *,
                 metrics: dict[str, tuple[str, ...]] | None = None, **track_options: Any) -> None:
        super().__init__()
        self.probe = probe
        self.store = store
        self.metrics = {**DEFAULT_METRICS, **(metrics or {})}
        self.options = track_options
        self.tracker: TrackedLoop | None = None

    def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
        options = {"epochs": int(trainer.max_epochs or 0), "name": type(pl_module).__name__, **self.options}
        self.tracker = TrackedLoop(pl_module, self.probe.to(pl_module.device), self.store, **options)

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if self.tracker is None or trainer.sanity_checking:
            return
        values = {key: self._metric(trainer, names) for key, names in self.metrics.items()}
        samples = 0
        loader = trainer.train_dataloader
        if loader is not None and hasattr(loader, "dataset"):
            samples = len(loader.dataset)
        lr = None
        if trainer.optimizers:
            lr = float(trainer.optimizers[0].param_groups[0]["lr"])
        self.tracker.epoch(**values, lr=lr, samples=samples)
        if self.tracker.should_stop:
            trainer.should_stop = True

    def on_fit_end(self, trainer: Any, pl_module: Any) -> None:
        if self.tracker is not None:
            self.tracker.finish()

    def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
        if self.tracker is not None:
            self.tracker.finish(exception)

    @staticmethod
    def _metric(trainer: Any, names: tuple[str, ...]) -> float | None:
        for name in names:
            value = trainer.callback_metrics.get(name)
            if value is not None:
                return float(value)
        return None
