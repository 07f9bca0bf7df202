"""The input-space partition of a network with 2-D inputs, layer by layer, and its decision boundary (Figs. 1, 2, 6).

A ReLU unit switches where its pre-activation crosses zero; in the input plane that is a line for a first-layer unit
and a bent line for a deeper one, bent exactly where it meets an earlier layer's line (Sec. 3.1, Appendix L). We
evaluate every unit's pre-activation (the input of each ``nn.ReLU``/``nn.LeakyReLU`` call, as the partition tracker
records it) on a grid over the plane and draw its zero level set. The decision boundary of a two-class net is the
zero set of ``logit0 - logit1`` (the seed code draws logit 0's zero line, which is not the boundary); with more
classes, the lines where the predicted class changes.

Drawing one row per model (dense, then pruned) shows what pruning removes: node pruning deletes whole lines
(Fig. 1b), and the decision boundary survives as long as the lines it bends on remain (Fig. 2).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from torch import nn  # noqa: E402

from splinebench.spline import TRACKED_ACTIVATIONS  # noqa: E402

#: PNG resolution of partition figures: many panels of thin lines; 100 dpi keeps them sharp and the file small.
PARTITION_DPI = 100
#: Line colour of layer k's subdivision lines (Fig. 3: blue first layer, green second); the boundary is red.
LAYER_COLOURS = ("tab:blue", "tab:green", "tab:purple", "tab:orange", "tab:brown", "tab:cyan")
BOUNDARY_COLOUR = "red"
#: Class colours of the data points: away from red, so the boundary stands out.
DATA_COLOURS = ListedColormap(["#6baed6", "#fd8d3c", "#74c476", "#9e9ac8", "#969696"])


@dataclass
class PartitionPicture:
    """One model's partition sampled on a grid: per layer, every unit's pre-activation; and the class margin."""

    title: str
    xs: np.ndarray  # [W] grid x coordinates
    ys: np.ndarray  # [H] grid y coordinates
    layers: list[tuple[str, np.ndarray]]  # (tracked layer name, pre-activations [units, H, W]) in network order
    decision: np.ndarray  # [H, W]: logit0 - logit1 (two classes) or the predicted class (more)
    two_class: bool

    @property
    def extent(self) -> tuple[float, float, float, float]:
        return float(self.xs[0]), float(self.xs[-1]), float(self.ys[0]), float(self.ys[-1])

    def units(self, layer: int) -> int:
        return int(self.layers[layer][1].shape[0])

    def crossing_units(self, layer: int) -> list[int]:
        """Units whose pre-activation changes sign inside the picture (the others draw no line here)."""
        values = self.layers[layer][1]
        return [k for k in range(values.shape[0]) if values[k].min() < 0 < values[k].max()]

    def decision_mask(self) -> np.ndarray:
        """Boolean [H, W]: which side of the decision boundary (or which class) each grid point is on."""
        return self.decision > 0 if self.two_class else self.decision.astype(np.int64)


def grid_points(extent: Sequence[float], resolution: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, torch.Tensor]:
    """``xs [W]``, ``ys [H]`` and the ``[H * W, 2]`` points (row-major: y varies slowest)."""
    x0, x1, y0, y1 = (float(v) for v in extent)
    width, height = resolution
    xs = np.linspace(x0, x1, width, dtype=np.float32)
    ys = np.linspace(y0, y1, height, dtype=np.float32)
    gx, gy = np.meshgrid(xs, ys)
    points = torch.from_numpy(np.stack([gx.ravel(), gy.ravel()], axis=1))
    return xs, ys, points


@torch.no_grad()
def partition_picture(model: nn.Module, extent: Sequence[float], title: str = "",
                      resolution: tuple[int, int] = (200, 200)) -> PartitionPicture:
    """Evaluate ``model`` (2-D inputs) on a grid over ``extent = (x0, x1, y0, y1)``, in eval mode."""
    xs, ys, points = grid_points(extent, resolution)
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    captured: dict[str, list[torch.Tensor]] = {}
    handles = []

    def keep(name: str):
        def hook(_module: nn.Module, args: tuple) -> None:
            captured.setdefault(name, []).append(args[0].detach().reshape(args[0].shape[0], -1).cpu())

        return hook

    for name, module in model.named_modules():
        if isinstance(module, TRACKED_ACTIVATIONS):
            handles.append(module.register_forward_pre_hook(keep(name)))
    was_training = model.training
    model.eval()
    try:
        logits = model(points.to(device)).detach().cpu()
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    height, width = len(ys), len(xs)
    layers = []
    for name, calls in captured.items():
        for k, values in enumerate(calls):
            label = name if len(calls) == 1 else f"{name}#{k}"
            layers.append((label, values.T.reshape(-1, height, width).numpy()))
    two_class = logits.shape[1] == 2
    decision = (logits[:, 0] - logits[:, 1]) if two_class else logits.argmax(1).float()
    return PartitionPicture(title, xs, ys, layers, decision.reshape(height, width).numpy(), two_class)


def _zero_lines(ax, picture: PartitionPicture, layer: int, colour: str, width: float, alpha: float) -> None:
    values = picture.layers[layer][1]
    for k in picture.crossing_units(layer):
        ax.contour(picture.xs, picture.ys, values[k], levels=[0.0], colors=[colour], linewidths=width, alpha=alpha)


def _decision_line(ax, picture: PartitionPicture) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a constant prediction has no boundary: nothing to draw is fine
        if picture.two_class:
            ax.contour(picture.xs, picture.ys, picture.decision, levels=[0.0], colors=[BOUNDARY_COLOUR],
                       linewidths=2.2)
        else:
            classes = np.unique(picture.decision)
            levels = [c + 0.5 for c in classes[:-1]]
            if levels:
                ax.contour(picture.xs, picture.ys, picture.decision, levels=levels, colors=[BOUNDARY_COLOUR],
                           linewidths=2.2)


def partition_figure(pictures: Sequence[PartitionPicture], data: tuple[np.ndarray, np.ndarray] | None = None,
                     suptitle: str = "") -> Figure:
    """Rows: models (dense, then pruned); columns: each layer's subdivision lines, then the decision boundary.

    In layer k's panel its own lines are coloured and earlier layers' lines grey (Fig. 1a: new boundaries dark,
    previous ones grey); the last panel shows every line thin and the decision boundary in red over the data.
    """
    n_layers = max(len(p.layers) for p in pictures)
    rows, cols = len(pictures), n_layers + 1
    fig, axes = plt.subplots(rows, cols, figsize=(2.9 * cols, 2.9 * rows), squeeze=False)
    for r, picture in enumerate(pictures):
        for c in range(cols):
            ax = axes[r][c]
            ax.set_xlim(picture.extent[0], picture.extent[1])
            ax.set_ylim(picture.extent[2], picture.extent[3])
            ax.set_aspect("equal")
            _range_ticks(ax, picture.extent, first_column=c == 0, last_row=r == rows - 1)
            if c < len(picture.layers):
                for earlier in range(c):
                    _zero_lines(ax, picture, earlier, "0.7", 0.8, 0.9)
                _zero_lines(ax, picture, c, LAYER_COLOURS[c % len(LAYER_COLOURS)], 1.3, 1.0)
                name = picture.layers[c][0]
                ax.set_title(f"layer {c + 1} ({name}): {picture.units(c)} units, "
                             f"{len(picture.crossing_units(c))} lines", fontsize=7)
            elif c == cols - 1:
                if data is not None:
                    points, labels = data
                    ax.scatter(points[:, 0], points[:, 1], c=labels, cmap=DATA_COLOURS, vmin=0, vmax=DATA_COLOURS.N - 1,
                               s=2, alpha=0.5, linewidths=0, rasterized=True)
                    if r == 0:
                        _class_legend(ax, labels)
                for layer in range(len(picture.layers)):
                    _zero_lines(ax, picture, layer, LAYER_COLOURS[layer % len(LAYER_COLOURS)], 0.6, 0.55)
                _decision_line(ax, picture)
                ax.set_title("partition + decision boundary (red)", fontsize=7)
            else:
                ax.axis("off")
            if c == 0:
                ax.set_ylabel(picture.title, fontsize=8)
    fig.tight_layout()
    if suptitle:
        top = 1.0 - 0.45 / fig.get_figheight()  # room for the title above the first row's panel titles
        fig.subplots_adjust(top=top)
        fig.suptitle(suptitle, fontsize=10, y=1.0 - 0.12 / fig.get_figheight())
    return fig


def _range_ticks(ax, extent: Sequence[float], first_column: bool, last_row: bool) -> None:
    """Ticks at both ends and the middle of the input range on every panel (labels on the outer ones only), so
    the figure says which part of the input plane it shows."""
    x0, x1, y0, y1 = extent
    ax.set_xticks([x0, (x0 + x1) / 2, x1])
    ax.set_yticks([y0, (y0 + y1) / 2, y1])
    ax.tick_params(labelsize=6, length=2, labelbottom=last_row, labelleft=first_column)
    ax.xaxis.set_major_formatter("{x:.2g}")
    ax.yaxis.set_major_formatter("{x:.2g}")
    if last_row:
        ax.set_xlabel("input x1", fontsize=7)


def _class_legend(ax, labels: np.ndarray) -> None:
    """One patch per class present, in the data points' colours, outside the panel (the data stays visible)."""
    from matplotlib.lines import Line2D

    classes = sorted({int(v) for v in np.unique(labels)})
    handles = [Line2D([], [], marker="o", linestyle="none", markersize=5,
                      color=DATA_COLOURS(min(k, DATA_COLOURS.N - 1)), label=f"class {k}") for k in classes]
    handles.append(Line2D([], [], color=BOUNDARY_COLOUR, linewidth=2.2, label="decision boundary"))
    ax.legend(handles=handles, fontsize=6, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)


def data_extent(points: np.ndarray, margin: float = 0.05) -> tuple[float, float, float, float]:
    """The data's bounding box, widened by ``margin`` of its size on each side."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    pad = (hi - lo) * margin
    return float(lo[0] - pad[0]), float(hi[0] + pad[0]), float(lo[1] - pad[1]), float(hi[1] + pad[1])
