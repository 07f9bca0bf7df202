"""Spline math of splinebench: partition codes, distances, the early-bird detector, Eq. 2 and pruning plans.

Implements the paper "Max-Affine Spline Insights into Deep Network Pruning": partition codes and their Hamming
distance (Sec. 3.2), the epoch x epoch distance matrix (Fig. 5), spline early-bird detection (Algorithm 1),
the pairwise redundancy of Eq. 2 and the layerwise / global spline pruning policies (Sec. 3.3, 4.2, 4.3,
App. C). Imports torch and numpy only; plans are plain ``{layer: [unit indices to remove]}`` dicts, never
modified models.
"""

from __future__ import annotations

from splinebench.spline.codes import (
    TRACKED_ACTIVATIONS,
    PartitionCodes,
    PartitionTracker,
    canvas_probe,
    pack_signs,
    pack_signs_on_device,
)
from splinebench.spline.distance import (
    PartitionDistance,
    differing_bits,
    hamming_fraction,
    partition_distance,
)
from splinebench.spline.early_bird import EarlyBirdDetector
from splinebench.spline.matrix import DistanceMatrixRecorder
from splinebench.spline.policy import (
    VICTIMS,
    check_dim,
    common_dimension,
    global_plan,
    greedy_removals,
    layerwise_plan,
    removal_order,
    resolve_dimension,
    units_to_remove,
)
from splinebench.spline.reduction import REDUCERS, fa_project, pca_project, reduce_units
from splinebench.spline.redundancy import effective_affine, redundancy
from splinebench.spline.units import affine_units, conv_bn_pairs

__all__ = [
    "REDUCERS",
    "TRACKED_ACTIVATIONS",
    "VICTIMS",
    "DistanceMatrixRecorder",
    "EarlyBirdDetector",
    "PartitionCodes",
    "PartitionDistance",
    "PartitionTracker",
    "affine_units",
    "canvas_probe",
    "check_dim",
    "common_dimension",
    "conv_bn_pairs",
    "differing_bits",
    "effective_affine",
    "fa_project",
    "global_plan",
    "resolve_dimension",
    "greedy_removals",
    "hamming_fraction",
    "layerwise_plan",
    "pack_signs",
    "pack_signs_on_device",
    "partition_distance",
    "pca_project",
    "redundancy",
    "reduce_units",
    "removal_order",
    "units_to_remove",
]
