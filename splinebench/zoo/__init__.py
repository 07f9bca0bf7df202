"""The model zoo: every model splinebench can train, built by name with the dataset's channel counts.

    from splinebench.zoo import create_model, list_models
    model = create_model("vgg16", num_classes=10, in_channels=1)   # Fashion-MNIST-sized VGG-16
    list_models("preresnet*")                                       # ['preresnet', 'preresnet101', ...]

Our own models use one ``nn.ReLU`` module per activation (never ``torch.relu``), so forward hooks see every
partition code under a stable name. They use non-inplace ReLUs: an inplace one would overwrite the
pre-activation (BN output) a hook may have kept a reference to.
"""

from __future__ import annotations

from splinebench.zoo import (  # noqa: F401  (they register)
    convnet,
    fcnet,
    plugins,
    preresnet,
    timm_models,
    torchvision_models,
    vgg,
)
from splinebench.zoo.catalog import MODELS, create_model, list_models, model_info, register_model

__all__ = ["MODELS", "create_model", "list_models", "model_info", "register_model"]
