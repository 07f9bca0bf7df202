"""The pruner plug-in interface: the door the spline pruner, the baselines and third-party packages all use.

A pruner answers one question — which units (structured) or which weights (unstructured) of a model go at a given
ratio — and declares what it needs:

* ``acts_on``: which model its ``plan`` is given — ``"trained"`` (the ticket: the dense model at the EB epoch or at
  the end of training) or ``"init"`` (SNIP scores the network at initialisation);
* ``structured``: channels physically removed by the shared applier, or weight masks kept during retraining;
* ``data_driven``: whether it reads batches from ``PruneContext.batches``;
* ``training_hook()``: an optional hook into *dense* training (network slimming's L1 on BN scales, the mask-distance
  early-bird detector). Pruners whose hooks share a ``key`` share one dense training; ``None`` joins the plain one.

Register a pruner with an entry point in the ``splinebench.pruners`` group (see README, "Add a pruner in 30 lines").
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import nn

from splinebench.prune.plan import Plan

Batch = tuple[torch.Tensor, torch.Tensor]


@dataclass
class PruneContext:
    """What a pruner may use besides the model."""

    example_input: torch.Tensor  # one batch of inputs, on the model's device (for tracing)
    batches: Callable[[int], Iterator[Batch]]  # batches(n): n training batches, seeded, on the model's device
    init_state: dict[str, torch.Tensor]  # state_dict at initialisation (lottery-ticket rewinding)
    device: torch.device
    seed: int
    num_classes: int
    prunable: list[str] = field(default_factory=list)  # module names the applier can prune independently
    ignored: list[str] = field(default_factory=list)  # module names that must keep their width (the classifier)
    hook: TrainingHook | None = None  # this pruner's own training hook, after dense training
    model_name: str = "the model"  # the registry name, for messages (e.g. a refusal naming the activation)


class TrainingHook:
    """Optional hook into dense training. Every method has a do-nothing default."""

    #: pruners whose hooks have equal keys share one dense training run
    key: str = ""
    #: name of the early-bird detector this hook provides (``None``: it detects nothing)
    detector: str | None = None
    #: also apply ``after_backward`` during retraining (network slimming keeps its sparsity penalty)
    during_retrain: bool = False

    def after_backward(self, model: nn.Module) -> None:
        """Called after ``loss.backward()``, before the optimiser step (e.g. add an L1 subgradient)."""

    #: the ratios this hook's pruner will be asked for (set by the engine before dense training starts)
    ratios: list[float] = []

    def on_epoch_start(self, model: nn.Module, epoch: int) -> bool | list[str]:
        """Called before epoch ``epoch`` (1-based) trains, i.e. after ``epoch - 1`` epochs.

        Return True once when this hook's early-bird (``detector``) fires, or the names of the detectors that fired
        now when the hook runs one per ratio (see ``detector_for``). The model at that moment becomes the ticket.
        """
        return False

    def detector_for(self, ratio: float) -> str | None:
        """The detector whose ticket a branch at ``ratio`` uses (mask early-birds draw one ticket per ratio)."""
        return self.detector

    def early_bird_info(self) -> dict[str, Any]:
        """eps, window and FIFO of the hook's detector, for the EarlyBirdFired event."""
        return {}

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore after a resume."""


class Pruner(ABC):
    """Base class of every pruner. Subclasses set the class attributes and implement ``plan``."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    structured: ClassVar[bool] = True
    data_driven: ClassVar[bool] = False
    acts_on: ClassVar[str] = "trained"  # "trained" | "init"

    def __init__(self, **options: Any) -> None:
        self.options = options

    @abstractmethod
    def plan(self, model: nn.Module, ratio: float, ctx: PruneContext) -> Plan:
        """Decide what goes at ``ratio`` (the fraction of units or weights to remove). Must not modify ``model``."""

    def training_hook(self) -> TrainingHook | None:
        return None

    @classmethod
    def when(cls) -> str:
        """When the pruner acts, for ``splinebench pruners list``."""
        if cls.acts_on == "init":
            return "at init"
        return "during + after training" if cls.training_hook is not Pruner.training_hook else "after training"
