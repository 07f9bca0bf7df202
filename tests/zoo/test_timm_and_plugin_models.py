"""timm models as ``timm:NAME`` and third-party models through the ``splinebench.models`` entry-point group."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from splinebench.errors import BadInputError, UnknownNameError
from splinebench.zoo import create_model, list_models, model_info, plugins

pytest.importorskip("timm")
SCRIPT = Path(sys.executable).with_name("splinebench")


def test_timm_names_are_listed_with_a_pattern_and_never_pretrained() -> None:
    names = list_models("timm:resnet1*")
    assert {"timm:resnet18", "timm:resnet101"} <= set(names)
    assert all(name.startswith("timm:resnet1") for name in names)
    assert "pretrained=False" in model_info("timm:resnet18").meta["description"]


def test_a_timm_model_is_built_for_the_datasets_channels_and_classes() -> None:
    model = create_model("timm:resnet18", num_classes=7, in_channels=1, input_shape=(1, 32, 32))
    assert model.eval()(torch.randn(2, 1, 32, 32)).shape == (2, 7)


def test_a_fixed_size_timm_vit_gets_the_datasets_image_size() -> None:
    model = create_model("timm:vit_tiny_patch16_224", num_classes=5, in_channels=3, input_shape=(3, 32, 32),
                         patch_size=8, depth=1)
    assert model.eval()(torch.randn(1, 3, 32, 32)).shape == (1, 5)


def test_asking_for_pretrained_timm_weights_is_refused() -> None:
    with pytest.raises(BadInputError, match="pretrained=False"):
        create_model("timm:resnet18", num_classes=10, in_channels=3, pretrained=True)


def test_a_misspelt_timm_name_suggests_close_timm_names() -> None:
    with pytest.raises(UnknownNameError) as caught:
        model_info("timm:resnet19")
    assert "timm:resnet18" in caught.value.suggestions


def test_models_list_through_the_console_script_shows_timm_names(tmp_path: Path) -> None:
    result = subprocess.run([str(SCRIPT), "models", "list", "timm:convnext_tin*"], capture_output=True, text=True,
                            cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "timm:convnext_tiny" in result.stdout


def test_an_unknown_timm_model_in_a_profile_exits_2_with_suggestions(tmp_path: Path) -> None:
    profile = Path(__file__).resolve().parents[2] / "profiles" / "quickstart.toml"
    result = subprocess.run(
        [str(SCRIPT), "run", str(profile), "--set", "model.name='timm:resnet19'", "--store", str(tmp_path / "s.db")],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "unknown model 'timm:resnet19'. Did you mean:" in result.stderr
    assert "Traceback" not in result.stderr


DIST_INFO_ENTRY_POINTS = """
[splinebench.models]
demo-tiny = sbzoo_demo:build_demo_tiny
demo-zoo = sbzoo_demo.zoo
demo-broken = sbzoo_demo:no_such_factory
"""

DEMO_PACKAGE = '''
from torch import nn


def build_demo_tiny(num_classes, in_channels, width=4):
    """A one-conv demo net from a plug-in package."""
    return nn.Sequential(nn.Conv2d(in_channels, width, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(width, num_classes))
'''

DEMO_ZOO = '''
from torch import nn

from splinebench.zoo import register_model


@register_model("demo-decorated", family="demo")
def build(num_classes, in_channels):
    return nn.Sequential(nn.Flatten(), nn.LazyLinear(num_classes))
'''


@pytest.fixture
def demo_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A plug-in distribution on sys.path (a dist-info with entry points, as pip leaves one)."""
    package = tmp_path / "sbzoo_demo"
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent(DEMO_PACKAGE))
    (package / "zoo.py").write_text(textwrap.dedent(DEMO_ZOO))
    info = tmp_path / "sbzoo_demo-0.0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: sbzoo-demo\nVersion: 0.0.1\n")
    (info / "entry_points.txt").write_text(DIST_INFO_ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(plugins, "_loaded", False)
    monkeypatch.setattr(plugins, "PLUGIN_ERRORS", {})
    yield
    for name in ("demo-tiny", "demo-decorated"):
        plugins.MODELS._entries.pop(name, None)
    for module in [m for m in sys.modules if m.startswith("sbzoo_demo")]:
        del sys.modules[module]


def test_a_plugin_factory_and_a_plugin_module_join_the_zoo(demo_plugin) -> None:
    model = create_model("demo-tiny", num_classes=3, in_channels=2, width=5)
    assert model(torch.randn(1, 2, 8, 8)).shape == (1, 3)
    assert model_info("demo-tiny").meta["family"] == "sbzoo-demo"
    assert model_info("demo-tiny").meta["description"] == "A one-conv demo net from a plug-in package."
    assert "demo-decorated" in list_models("demo-*")


def test_a_broken_model_plugin_is_reported_and_the_others_still_load(demo_plugin) -> None:
    assert "demo-tiny" in list_models("demo-*")
    assert "demo-broken" in plugins.PLUGIN_ERRORS
    assert "no_such_factory" in plugins.PLUGIN_ERRORS["demo-broken"]
