"""A minimal PNG encoder (8-bit RGB, no interlace) on numpy and zlib.

The monthly report's charts are rendered on the server so they can be downloaded and
embedded in the exported HTML. A plotting library (matplotlib pulls in tens of megabytes
and a font cache) would be the largest dependency of the server for a few bar and line
charts; this encoder is forty lines and its output is byte-for-byte deterministic.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
import numpy.typing as npt

__all__ = ["PNG_SIGNATURE", "encode_png"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode_png(pixels: npt.NDArray[np.uint8], *, level: int = 9) -> bytes:
    """Encode an ``(height, width, 3)`` uint8 array as PNG bytes."""
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
        raise ValueError("pixels must be a (height, width, 3) uint8 array")
    height, width = int(pixels.shape[0]), int(pixels.shape[1])
    if not (0 < width <= 10_000 and 0 < height <= 10_000):
        raise ValueError("image size out of range")
    rows = np.zeros((height, width * 3 + 1), dtype=np.uint8)  # filter byte 0 (None) before each row
    rows[:, 1:] = pixels.reshape(height, width * 3)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows.tobytes(), level))
        + _chunk(b"IEND", b"")
    )
