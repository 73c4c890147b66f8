"""Sentiment for languages the bundled English model cannot read.

The bundled MiniLM is English only (macro-F1 0.18-0.43 on the other UMSAB languages), so
non-English texts get their sentiment from a second model: multilingual-e5-small (XLM-R
vocabulary, 12 layers) fine-tuned on UMSAB sentiment in 8 languages, its vocabulary cut to the
scripts those languages use, fused (weighted log-probabilities) with a logistic model on hashed
character n-grams, which reads romanised and noisy spellings the subword encoder misses, and
calibrated by one temperature. The encoder runs exactly like the English model (onnxruntime +
tokenizers), the n-gram model is a numpy table; every file is pinned by sha256 in the manifest,
nothing is loaded at import or downloaded. Every language the manifest lists carries its validation
macro-F1, so callers can send texts in weakly validated languages to a human.
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

from tonewatch._errors import InvalidTextError, ModelError

from ._model import OnnxRunner, read_json_manifest

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "MULTILINGUAL_MODEL_DIR",
    "LanguageFigures",
    "MultilingualLayer",
    "char_features",
    "fuse",
    "language_review_reason",
    "prepare_text",
]

MULTILINGUAL_MODEL_DIR = Path(__file__).resolve().parent / "multilingual"
_LABELS = ["negative", "neutral", "positive"]
# The model's int8 weights are dequantised per block of 128 (weight-only quantisation, float32
# activations), so rows of a batch never influence each other: a text gets the same score (to 1e-6;
# only float summation order changes with the padding) whatever is scored alongside it. Dynamic int8
# quantises activations with one scale per batch: neighbours moved a text's logits by up to 0.7, so
# it was not shipped.
_BATCH = 32
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


def fuse(model: NDArray[np.float32], char: NDArray[np.float32] | None, weight: float) -> NDArray[np.float32]:
    """Weighted log-probabilities of the encoder and the n-gram model (the logits the temperature applies to)."""
    if char is None or weight >= 1.0:
        return model
    return weight * _log_softmax(model) + (1.0 - weight) * _log_softmax(char)


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
        if not {"model.onnx", "tokenizer.json"} <= set(manifest["files"]):
            raise ModelError(f"{path}: files must list model.onnx and tokenizer.json")
        int(manifest["max_tokens"])
        str(manifest["version"])
        for code, fig in dict(manifest["languages"]).items():
            LanguageFigures(str(code), str(fig["name"]), int(fig["n"]), float(fig["macro_f1"]), float(fig["accuracy"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{path} lacks a required field: {exc}") from exc
    return manifest


def _read_char(path: Path) -> dict[str, NDArray[np.float32]]:
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: np.ascontiguousarray(z[k], dtype=np.float32) for k in ("W", "b", "idf")}
    except (OSError, KeyError, ValueError) as exc:
        raise ModelError(f"cannot read the n-gram model {path}: {exc}") from exc


class MultilingualLayer:
    """The multilingual sentiment model of one folder: per-language figures now, weights on first use.

    Reading the figures needs only the manifest; :meth:`load` (called by :meth:`sentiment`)
    verifies every file against its sha256 and opens the ONNX session.
    """

    def __init__(self, model_dir: Path = MULTILINGUAL_MODEL_DIR, *, threads: int = 0) -> None:
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
        # weight of the encoder's log-probabilities against the n-gram model's (1.0: encoder only)
        self.model_weight = float(self._manifest.get("ensemble", {}).get("model_weight", 1.0))
        self.threads = threads
        self._lock = threading.Lock()
        self._runner: OnnxRunner | None = None
        self._char: dict[str, NDArray[np.float32]] = {}

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
        return self._runner is not None

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
        """Verify the files and open the model (once; thread-safe)."""
        if self._runner is None:
            with self._lock:
                if self._runner is None:
                    runner = OnnxRunner(self.model_dir, self._manifest, threads=self.threads, outputs=("sentiment",))
                    if "char.npz" in self._manifest["files"]:  # verified with the other files
                        self._char = _read_char(self.model_dir / "char.npz")
                    self._runner = runner
        return self

    def _windows(self, runner: OnnxRunner, ids: list[int]) -> list[list[int]]:
        """A sequence cut into windows of at most ``max_tokens`` (each keeps the first and last special token)."""
        if len(ids) <= runner.max_tokens:
            return [ids]
        bos, inner, eos = ids[0], ids[1:-1], ids[-1]
        step = runner.max_tokens - 2
        return [[bos, *inner[i : i + step], eos] for i in range(0, len(inner), step)]

    def logits(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Uncalibrated sentiment logits ``[n, 3]`` (negative, neutral, positive): encoder and n-grams fused."""
        model, char = self.component_logits(texts)
        return fuse(model, char, self.model_weight)

    def component_logits(self, texts: Sequence[str]) -> tuple[NDArray[np.float32], NDArray[np.float32] | None]:
        """The encoder's logits and the n-gram model's (None when the folder has none)."""
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise InvalidTextError(f"texts[{i}] is not a str", code="invalid_text", field="texts")
        self.load()
        return self._encoder_logits(texts), (self._char_logits(texts) if self._char else None)

    def _char_logits(self, texts: Sequence[str]) -> NDArray[np.float32]:
        import numpy as np

        w, idf = self._char["W"], self._char["idf"]
        out = np.tile(self._char["b"], (len(texts), 1)).astype(np.float32)
        for row, text in enumerate(texts):
            feats = char_features(text)
            if not feats:
                continue
            buckets = np.fromiter(feats, dtype=np.int64, count=len(feats))
            values = np.fromiter(feats.values(), dtype=np.float32, count=len(feats)) * idf[buckets]
            norm = float(np.sqrt(np.dot(values, values)))
            if norm > 0:
                out[row] += (values / norm) @ w[buckets]
        return out

    def _encoder_logits(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """The encoder's logits; a text longer than its window is read whole, window by window
        (length-weighted mean of the windows' logits: no silent truncation)."""
        import numpy as np

        runner = self._runner
        assert runner is not None
        seqs: list[list[int]] = []
        owner: list[int] = []
        for i, ids in enumerate(runner.encode([prepare_text(t) for t in texts])):
            for window in self._windows(runner, ids):
                seqs.append(window)
                owner.append(i)
        (out,) = runner.run_outputs(seqs, _BATCH)
        if len(seqs) == len(texts):
            return out
        weights = np.array([len(s) for s in seqs], dtype=np.float32)
        merged = np.zeros((len(texts), 3), dtype=np.float32)
        total = np.zeros(len(texts), dtype=np.float32)
        np.add.at(merged, owner, out * weights[:, None])
        np.add.at(total, owner, weights)
        result: NDArray[np.float32] = merged / total[:, None]
        return result

    def sentiment(self, texts: Sequence[str]) -> list[tuple[float, float, float]]:
        """Calibrated ``(negative, neutral, positive)`` probabilities per text."""
        import numpy as np

        if not texts:
            return []
        z = self.logits(texts) / self.temperature
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        return [(float(a), float(b), float(c)) for a, b, c in p.tolist()]
