"""Per-layer distances keep the network's layer order when a store's projections are rebuilt from its events.

The order of ``PartitionDistances.per_layer`` is the order of the layers in the net, and reports use it ("the 7th
layer", the heat strip's rows). Stores written before event payloads kept their key order hold that dict sorted by
name (relu1, relu10, relu11, ..., relu2), so anything rebuilt from those events (a resumed run's projections, a
results bundle) would reorder the layers. The ``layer_distances`` table was written from the live event and keeps the
true order in ``layer_index``: these helpers put it back.
"""

from __future__ import annotations

import sqlite3
from typing import Any

LayerOrders = dict[tuple[str, int], list[str]]


def layer_orders(conn: sqlite3.Connection, run_id: str) -> LayerOrders:
    """(phase, epoch) -> layer names in network order, as the live run recorded them."""
    orders: LayerOrders = {}
    rows = conn.execute("SELECT phase, epoch, layer FROM layer_distances WHERE run_id=? ORDER BY phase, epoch, "
                        "layer_index", (run_id,))
    for phase, epoch, layer in rows:
        orders.setdefault((phase, int(epoch)), []).append(layer)
    return orders


def in_layer_order(payload: dict[str, Any], orders: LayerOrders) -> dict[str, Any]:
    """``payload`` with its ``per_layer`` in recorded order (unchanged when no order is known or the names differ)."""
    if payload.get("type") != "partition_distances":
        return payload
    per_layer = payload.get("per_layer")
    order = orders.get((payload.get("phase"), payload.get("epoch")))
    if isinstance(per_layer, dict) and order and sorted(order) == sorted(per_layer):
        payload["per_layer"] = {layer: per_layer[layer] for layer in order}
    return payload
