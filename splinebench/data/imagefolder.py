"""Image classification sets laid out as ``ROOT/train/<class>/*`` and ``ROOT/val/<class>/*`` (or ``test/``).

Read with ``torchvision.datasets.ImageFolder`` (RGB), ImageNet-style: training images get a random resized
crop and a horizontal flip, test images are resized (shorter side ``resize``) and centre-cropped to
``image_size``; both are normalised with the ImageNet statistics.
"""

from __future__ import annotations

from pathlib import Path

import torch

from splinebench.data.bundle import DatasetBundle
from splinebench.data.catalog import register_dataset
from splinebench.errors import BadInputError, MissingDataError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
TEST_FOLDER_NAMES = ("val", "test")


def _layout_help(root: Path | str) -> str:
    return (
        f"imagefolder expects {root}/train/<class>/<image> and {root}/val/<class>/<image> "
        f"(or test/ instead of "
        f"val/), one folder per class with the same class folders in both; pass the root with "
        f"`--set data.root=FOLDER`."
    )


def locate_image_folders(root: Path | None) -> tuple[Path, Path]:
    """``(root/train, root/val)`` (or ``root/test``); :class:`MissingDataError` when absent."""
    if root is None:
        raise MissingDataError("imagefolder needs a data root. " + _layout_help("ROOT"))
    train = root / "train"
    test = next((root / name for name in TEST_FOLDER_NAMES if (root / name).is_dir()), None)
    if not train.is_dir() or test is None:
        missing = "train/" if not train.is_dir() else "val/ or test/"
        raise MissingDataError(f"imagefolder: no {missing} under {root}. " + _layout_help(root))
    return train, test


@register_dataset(
    "imagefolder",
    description="ROOT/train/<class>/* and ROOT/val (or test)/<class>/*, RGB, ImageNet-style crops",
    needs_files=True,
)
def load_image_folder(
    root: Path | None, image_size: int = 224, resize: int | None = None, augment: bool = True
) -> DatasetBundle:
    """Images cropped to ``image_size`` (test: resized to ``resize``, default ``image_size * 8 / 7``, then
    centre crop)."""
    from torchvision import datasets
    from torchvision.transforms import v2

    if image_size < 1 or (resize is not None and resize < image_size):
        raise BadInputError(
            f"imagefolder needs 1 <= image_size <= resize, got image_size={image_size}, resize={resize}"
        )
    train_dir, test_dir = locate_image_folders(root)
    resize = resize if resize is not None else round(image_size * 8 / 7)
    normalise = [
        v2.ToImage(),
        v2.ToDtype(torch.float32, scale=True),
        v2.Normalize(IMAGENET_MEAN, IMAGENET_STD),
    ]
    evaluation = [v2.Resize(resize), v2.CenterCrop(image_size)]
    training = [v2.RandomResizedCrop(image_size), v2.RandomHorizontalFlip()] if augment else evaluation
    try:
        train = datasets.ImageFolder(str(train_dir), transform=v2.Compose(training + normalise))
        test = datasets.ImageFolder(str(test_dir), transform=v2.Compose(evaluation + normalise))
    except (FileNotFoundError, RuntimeError) as error:  # no class folders, or no image files in them
        raise MissingDataError(f"imagefolder: {error}. " + _layout_help(root)) from None
    if train.classes != test.classes:
        raise BadInputError(
            f"imagefolder: class folders differ between {train_dir} ({len(train.classes)}) and {test_dir} "
            f"({len(test.classes)}); only in one: {sorted(set(train.classes) ^ set(test.classes))[:10]}"
        )
    return DatasetBundle(
        name="imagefolder",
        train=train,
        test=test,
        num_classes=len(train.classes),
        in_channels=3,
        input_shape=(3, image_size, image_size),
        description=f"image folder {root}: {len(train)}/{len(test)} images, {len(train.classes)} classes",
        class_names=tuple(train.classes),
        meta={
            "source": str(root),
            "image_size": image_size,
            "resize": resize,
            "augment": augment,
            "normalisation_mean": list(IMAGENET_MEAN),
            "normalisation_std": list(IMAGENET_STD),
        },
    )
