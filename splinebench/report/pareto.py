"""The accuracy / training-cost Pareto front: the methods no other method beats on both counts at once."""

from __future__ import annotations

from collections.abc import Sequence


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the non-dominated ``(cost, accuracy)`` points, cheapest first.

    A point is dominated when another costs no more and is at least as accurate, and is strictly better in one of
    the two. Equal points are all kept (none dominates the other).
    """
    front = []
    for i, (cost, acc) in enumerate(points):
        dominated = any(
            (c <= cost and a >= acc) and (c < cost or a > acc) for j, (c, a) in enumerate(points) if j != i
        )
        if not dominated:
            front.append(i)
    return sorted(front, key=lambda i: (points[i][0], -points[i][1]))
