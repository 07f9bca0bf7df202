"""The spline pruner (paper Sec. 3.3, Eq. 2): remove one unit of the most redundant pair, repeatedly.

Redundancy is measured on each unit's *effective* affine map as seen by its ReLU (a following BatchNorm folded into
slope and bias), so that rho acts on a real bias even in bias-free conv nets. ``scope="layerwise"`` prunes the same
ratio in every independent layer (Table 1); ``scope="global"`` projects units to a common dimension (PCA, or factor
analysis, Appendix C; ``dim``: "smallest" filter size, an int, or "none") and ranks removals across layers for
one global ratio (Table 2). Layers coupled through a residual stream keep their width (``keep_residual_width``, the
early-bird code's behaviour) and are reported as such. A net with GELU/SiLU/ReLU6... units is refused with an error
naming the activation (``spline.activations``).
"""

from __future__ import annotations

from torch import nn

from splinebench.prune.interface import PruneContext, Pruner
from splinebench.prune.plan import Plan
from splinebench.prune.units import prunable_layers, unit_vectors
from splinebench.spline import check_dim, effective_affine, global_plan, layerwise_plan, resolve_dimension
from splinebench.spline.activations import require_spline


class SplinePruner(Pruner):
    name = "spline"
    description = "Eq. 2 redundancy (angle + rho * bias gap) of BN-folded units; layerwise or global (PCA/FA)"
    structured = True
    data_driven = False
    acts_on = "trained"

    def __init__(
        self,
        scope: str = "layerwise",
        rho: float = 0.05,
        reducer: str = "pca",
        dim: int | str | None = "smallest",
        min_keep_fraction: float = 0.1,
        victim: str = "smaller-norm",
    ) -> None:
        super().__init__(scope=scope, rho=rho, reducer=reducer, dim=dim, min_keep_fraction=min_keep_fraction,
                         victim=victim)
        if scope not in ("layerwise", "global"):
            raise ValueError(f"spline pruner scope must be 'layerwise' or 'global', not {scope!r}")
        check_dim(dim)
        self.scope, self.rho, self.reducer, self.dim = scope, rho, reducer, dim
        self.min_keep_fraction, self.victim = min_keep_fraction, victim

    def plan(self, model: nn.Module, ratio: float, ctx: PruneContext) -> Plan:
        require_spline(model, "spline pruning", ctx.model_name)  # Eq. 2 is defined for (leaky-)ReLU units only
        units = {}
        for layer in prunable_layers(model, ctx.example_input):
            if not layer.independent:
                continue
            weight, bias = unit_vectors(layer)
            units[layer.name] = effective_affine(weight, bias, layer.bn)
        if self.scope == "layerwise":
            remove = layerwise_plan(units, ratio, rho=self.rho, victim=self.victim)
            return Plan.channels(remove, scope=self.scope, rho=self.rho)
        remove = global_plan(units, ratio, rho=self.rho, reducer=self.reducer, dim=self.dim,
                             min_keep_fraction=self.min_keep_fraction, victim=self.victim)
        common = resolve_dimension(units, self.dim)  # recorded: "smallest" depends on the model
        return Plan.channels(remove, scope=self.scope, rho=self.rho, reducer=self.reducer,
                             dim="none" if common is None else common)
