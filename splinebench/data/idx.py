"""Read IDX files (the MNIST / Fashion-MNIST format), gzipped or not, into numpy arrays.

Format: two zero bytes, a type code, the number of dimensions, then one big-endian uint32 per dimension, then
the values in C order, big-endian. Writing is here too, so tests can produce real IDX files.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from splinebench.errors import BadInputError

IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def _open_bytes(path: Path) -> bytes:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            return handle.read()
    except (OSError, EOFError) as error:
        raise BadInputError(f"cannot read IDX file {path}: {error}") from None


def read_idx(path: Path) -> np.ndarray:
    """The array stored in the IDX file at ``path`` (``.gz`` is decompressed), in native byte order."""
    raw = _open_bytes(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_TYPES:
        raise BadInputError(f"{path} is not an IDX file (bad magic number {raw[:4].hex()})")
    dtype, ndim = IDX_TYPES[raw[2]], raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise BadInputError(f"{path}: IDX header cut short")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise BadInputError(
            f"{path}: IDX header says shape {shape} ({expected} bytes of data) "
            f"but the file holds {len(raw) - header}"
        )
    values = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return values.astype(dtype.newbyteorder("="), copy=False) if dtype.itemsize > 1 else values


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write ``array`` as an IDX file (gzipped when ``path`` ends in ``.gz``)."""
    codes = {
        dtype.newbyteorder("=") if dtype.itemsize > 1 else dtype: code for code, dtype in IDX_TYPES.items()
    }
    native = array.dtype.newbyteorder("=") if array.dtype.itemsize > 1 else array.dtype
    if native not in codes:
        raise BadInputError(f"IDX cannot store dtype {array.dtype}")
    code = codes[native]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + np.ascontiguousarray(array, dtype=IDX_TYPES[code]).tobytes()
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as handle:
        handle.write(payload)
