"""Quantization and msgpack framing shared by the world core and the load generator.

State updates are assembled from pre-encoded msgpack pieces: a msgpack array is a header
followed by its encoded elements, so a per-client message is the concatenation of pieces
encoded once per tick — no re-encoding per client.
"""

from __future__ import annotations

import struct

import msgpack
import numpy as np

from server.protocol import MAX_FRAME_BYTES, POS_UNIT_M, ROT_SCALE

_packer = msgpack.Packer(use_bin_type=True)


def packb(obj: object) -> bytes:
    return _packer.pack(obj)


def unpackb(data: bytes) -> object:
    # Safety caps: a hostile frame must not allocate more than the frame itself implies. They
    # are looser than every documented field limit (a string may fill a whole frame), so an
    # over-long field is answered by field validation (TOO_LONG), not here (MALFORMED).
    return msgpack.unpackb(
        data,
        raw=False,
        strict_map_key=True,
        max_str_len=MAX_FRAME_BYTES,
        max_bin_len=MAX_FRAME_BYTES,
        max_array_len=256,
        max_map_len=64,
        max_ext_len=0,
    )


def array_header(n: int) -> bytes:
    """msgpack header for an array of ``n`` elements (fixarray, array 16, array 32)."""
    if n < 16:
        return bytes((0x90 | n,))
    if n < 0x10000:
        return b"\xdc" + struct.pack(">H", n)
    return b"\xdd" + struct.pack(">I", n)


def array_of_pieces(pieces: list[bytes]) -> bytes:
    return array_header(len(pieces)) + b"".join(pieces)


def quantize_positions(p: np.ndarray) -> np.ndarray:
    """Metres -> integer millimetres (round half to even; error <= 0.5 mm per axis)."""
    return np.rint(p / POS_UNIT_M).astype(np.int64)


def quantize_rotations(q: np.ndarray) -> np.ndarray:
    """Unit quaternions (..., 4) as x, y, z, w -> ints, canonical sign w >= 0.

    q and -q are the same rotation; fixing the sign keeps successive values close so deltas
    stay small.
    """
    norm = np.linalg.norm(q, axis=-1, keepdims=True)
    qn = q / np.where(norm > 0, norm, 1.0)
    qn = np.where(qn[..., 3:4] < 0, -qn, qn)
    return np.rint(qn * ROT_SCALE).astype(np.int64)


def dequantize_position(v: list[int] | np.ndarray) -> np.ndarray:
    return np.asarray(v, dtype=np.float64) * POS_UNIT_M


def dequantize_rotation(v: list[int] | np.ndarray) -> np.ndarray:
    q = np.asarray(v, dtype=np.float64) / ROT_SCALE
    return q / np.linalg.norm(q)
