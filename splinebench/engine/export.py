"""Export a run's pruned, retrained model: the saved-model ``.pt`` or ONNX, with a JSON of where it came from.

The ``.pt`` is the format runs already keep (registry name, constructor options, Torch-Pruning's history, masks,
state_dict): no pickled class, loadable with ``weights_only=True`` by ``checkpoints.load_pruned_model`` in any
environment that can build the base model. ONNX goes through ``torch.onnx.export`` (the torch.export-based exporter)
with a dynamic batch dimension; masks of unstructured pruners are folded into the weights first. When onnxruntime
is installed the exported graph is run once against torch and the largest difference is written to the provenance.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch

from splinebench.engine import checkpoints
from splinebench.errors import BadInputError
from splinebench.prune.applier import make_masks_permanent

ExportFormat = Literal["pt", "onnx"]


@dataclass(frozen=True)
class Exported:
    model_file: Path
    provenance_file: Path
    provenance: dict[str, Any]


def provenance_path(out: Path) -> Path:
    """``model.onnx`` -> ``model.onnx.json``: the provenance sits beside the file it describes."""
    return out.with_name(out.name + ".json")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _tool_versions(fmt: ExportFormat) -> dict[str, str]:
    versions = {"torch": torch.__version__, "python": platform.python_version()}
    if fmt == "onnx":
        for name in ("onnx", "onnxruntime", "onnxscript"):
            with contextlib.suppress(ImportError):
                versions[name] = __import__(name).__version__
    return versions


def export_onnx(model: torch.nn.Module, example_shape: list[int], out: Path) -> float | None:
    """Write ``model`` as ONNX (input ``input``, output ``logits``, dynamic batch); return max |ORT - torch|."""
    try:
        import onnxscript  # noqa: F401  (the torch.export-based exporter needs it)
    except ImportError:
        raise BadInputError("ONNX export needs the onnx extra: pip install 'splinebench[onnx]'") from None
    make_masks_permanent(model)
    model.eval()
    x = torch.randn([2, *example_shape[1:]], generator=torch.Generator().manual_seed(0))
    batch = torch.export.Dim("batch", min=1)
    with contextlib.redirect_stdout(io.StringIO()):  # the exporter narrates its steps on stdout
        torch.onnx.export(model, (x,), str(out), input_names=["input"], output_names=["logits"],
                          dynamic_shapes=({0: batch},), dynamo=True, external_data=False, verbose=False)
    try:
        import onnxruntime
    except ImportError:
        return None
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    check = torch.randn([3, *example_shape[1:]], generator=torch.Generator().manual_seed(1))
    (onnx_out,) = session.run(["logits"], {"input": check.numpy()})
    with torch.no_grad():
        expected = model(check).numpy()
    return float(abs(onnx_out - expected).max())


def export_model(saved_file: Path, out: Path, fmt: ExportFormat, provenance: dict[str, Any]) -> Exported:
    """Write the saved model at ``saved_file`` to ``out`` in ``fmt``, and its provenance beside it."""
    if fmt not in ("pt", "onnx"):
        raise BadInputError(f"--format must be pt or onnx, not {fmt!r}")
    if not Path(saved_file).is_file():
        raise BadInputError(f"the pruned model file {saved_file} is missing (was it fetched from the remote host?)")
    saved = checkpoints.load_saved_model(saved_file)
    model = checkpoints.build_saved_model(saved)  # proves the file rebuilds before anything is written
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    check: dict[str, Any] = {}
    if fmt == "pt":
        checkpoints.atomic_save(saved, out)
    else:
        difference = export_onnx(model, list(saved["example_shape"]), out)
        check = {"onnxruntime_max_abs_diff": difference, "input": "input", "output": "logits",
                 "dynamic_axes": {"input": [0], "logits": [0]}}
    record = {
        **provenance, "format": fmt, "file": out.name, "sha256": _sha256(out),
        "model": saved["model"], "model_options": saved.get("options", {}), "num_classes": saved["num_classes"],
        "in_channels": saved["in_channels"], "input_shape": list(saved["example_shape"][1:]),
        "exported_with": _tool_versions(fmt), **check,
    }
    prov = provenance_path(out)
    prov.write_text(json.dumps(record, indent=2, default=str) + "\n")
    return Exported(out, prov, record)
