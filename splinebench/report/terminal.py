"""The 2-D partition drawn in the terminal with braille characters (2 x 4 dots per character).

Each character cell covers 2 x 4 grid points; a dot is set where the sign of some unit's pre-activation (a partition
line) or of the class margin (the decision boundary) changes between neighbouring points. A cell is coloured red
when the decision boundary passes through it, otherwise in the colour of the deepest layer whose line does (blue
for the first layer, green for the second, as in the figures). Without colour (a pipe, ``NO_COLOR``) the lines
still read as a picture.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rich.text import Text

from splinebench.report.partition import PartitionPicture

BRAILLE_BASE = 0x2800
# Dot bit of (row, column) inside a braille cell (Unicode's dot numbering 1-8).
_DOT_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
TERMINAL_LAYER_COLOURS = ("blue", "green", "magenta", "yellow", "cyan")
TERMINAL_BOUNDARY_COLOUR = "bold red"


def sign_edges(values: np.ndarray) -> np.ndarray:
    """Boolean ``[H, W]``: where ``values > 0`` differs from the right or lower neighbour."""
    positive = values > 0
    edges = np.zeros(positive.shape, dtype=bool)
    edges[:, :-1] |= positive[:, :-1] != positive[:, 1:]
    edges[:-1, :] |= positive[:-1, :] != positive[1:, :]
    return edges


def _class_edges(classes: np.ndarray) -> np.ndarray:
    edges = np.zeros(classes.shape, dtype=bool)
    edges[:, :-1] |= classes[:, :-1] != classes[:, 1:]
    edges[:-1, :] |= classes[:-1, :] != classes[1:, :]
    return edges


def braille_cells(mask: np.ndarray) -> np.ndarray:
    """Pack a boolean ``[4 * rows, 2 * cols]`` image (row 0 at the top) into ``[rows, cols]`` braille code points."""
    rows, cols = mask.shape[0] // 4, mask.shape[1] // 2
    codes = np.full((rows, cols), BRAILLE_BASE, dtype=np.int64)
    for dy in range(4):
        for dx in range(2):
            codes += mask[dy : 4 * rows : 4, dx : 2 * cols : 2].astype(np.int64) * _DOT_BITS[dy][dx]
    return codes


def _to_cells(mask: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Whether any dot of each character cell is set."""
    return mask[: 4 * rows, : 2 * cols].reshape(rows, 4, cols, 2).any(axis=(1, 3))


def braille_picture(picture: PartitionPicture) -> Text:
    """One picture as rich Text; the picture's grid should be ``(2 * columns, 4 * rows)`` points."""
    height, width = picture.decision.shape
    rows, cols = height // 4, width // 2
    flip = slice(None, None, -1)  # grid row 0 is the lowest y; the terminal's first line is the top
    layer_edges = []
    for _, values in picture.layers:
        edges = np.zeros((height, width), dtype=bool)
        for unit in values:
            edges |= sign_edges(unit)
        layer_edges.append(edges[flip])
    boundary = (sign_edges(picture.decision) if picture.two_class else _class_edges(picture.decision))[flip]
    everything = boundary.copy()
    for edges in layer_edges:
        everything |= edges
    codes = braille_cells(everything)
    boundary_cells = _to_cells(boundary, rows, cols)
    layer_cells = [_to_cells(edges, rows, cols) for edges in layer_edges]
    text = Text()
    for r in range(rows):
        for c in range(cols):
            style = ""
            if boundary_cells[r, c]:
                style = TERMINAL_BOUNDARY_COLOUR
            else:
                for k in range(len(layer_cells) - 1, -1, -1):
                    if layer_cells[k][r, c]:
                        style = TERMINAL_LAYER_COLOURS[k % len(TERMINAL_LAYER_COLOURS)]
                        break
            text.append(chr(int(codes[r, c])), style=style)
        if r < rows - 1:
            text.append("\n")
    return text


def legend(n_layers: int) -> Text:
    text = Text()
    for k in range(n_layers):
        text.append(f"layer {k + 1} lines  ", style=TERMINAL_LAYER_COLOURS[k % len(TERMINAL_LAYER_COLOURS)])
    text.append("decision boundary", style=TERMINAL_BOUNDARY_COLOUR)
    return text


def braille_panels(pictures: Sequence[PartitionPicture]) -> list[tuple[str, Text]]:
    """(title, braille drawing) per picture, for the CLI to lay side by side."""
    return [(p.title, braille_picture(p)) for p in pictures]
