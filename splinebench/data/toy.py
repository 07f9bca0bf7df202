"""The X-shaped 2-D toy of the paper's Figs. 1, 2 and 6, generated as the authors' code does.

Points are uniform in [-5, 5]^2; label 1 in the top and bottom wedges between the lines y = x and y = -x
(``|y| > |x|``), label 0 in the left and right wedges. The decision boundary is therefore the two diagonals,
which a 20-unit ReLU net must bend its partition to fit. Inputs are kept in data coordinates (not
standardised, as in the authors' code) so partition and boundary plots are drawn on the square the points live
in.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from splinebench.data.arrays import labelled_tensors
from splinebench.data.bundle import DatasetBundle
from splinebench.data.catalog import register_dataset
from splinebench.errors import BadInputError

TOY_HALF_WIDTH = 5.0


def wedge_labels(points: np.ndarray) -> np.ndarray:
    """1 where a point lies in the top or bottom wedge (``|y| > |x|``), else 0."""
    return (np.abs(points[:, 1]) > np.abs(points[:, 0])).astype(np.int64)


def x_shaped_points(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` seeded points uniform in [-5, 5]^2 (float32) and their wedge labels."""
    rng = np.random.default_rng(seed)
    points = rng.uniform(-TOY_HALF_WIDTH, TOY_HALF_WIDTH, size=(n, 2)).astype(np.float32)
    return points, wedge_labels(points)


@register_dataset(
    "toy-x",
    description="X-shaped 2-D toy (Figs. 1, 2, 6): 2,000 points in [-5,5]^2, label 1 if |y| > |x|, 80/20",
    input_kind="2d-points",
)
def load_toy_x(root: Path | None, n: int = 2000, seed: int = 0, test_fraction: float = 0.2) -> DatasetBundle:
    """Generate the toy; ``root`` is ignored (nothing is read from disk)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 10:
        raise BadInputError(f"toy-x needs n >= 10 points, got {n!r}")
    if not 0.0 < test_fraction < 1.0:
        raise BadInputError(f"toy-x test_fraction must be between 0 and 1, got {test_fraction}")
    points, labels = x_shaped_points(n, seed)
    order = np.random.default_rng(seed + 1).permutation(n)
    n_test = max(1, int(round(n * test_fraction)))
    test, train = order[:n_test], order[n_test:]
    return DatasetBundle(
        name="toy-x",
        train=labelled_tensors(torch.from_numpy(points[train]), labels[train]),
        test=labelled_tensors(torch.from_numpy(points[test]), labels[test]),
        num_classes=2,
        in_channels=2,
        input_shape=(2,),
        description=f"X-shaped 2-D toy, {n} points, seed {seed}",
        class_names=("left/right wedges", "top/bottom wedges"),
        meta={
            "n": n,
            "seed": seed,
            "test_fraction": test_fraction,
            "extent": [-TOY_HALF_WIDTH, TOY_HALF_WIDTH],
        },
    )
