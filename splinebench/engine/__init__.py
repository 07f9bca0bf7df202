"""The engine: the training loop, the pipeline of the paper, typed events, observers and checkpoints."""

from __future__ import annotations

from splinebench.engine.events import EVENT_TYPES, Event, EventBus, event_from_dict

__all__ = ["EVENT_TYPES", "Event", "EventBus", "event_from_dict"]
