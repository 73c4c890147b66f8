"""The bundled ONNX model: manifest, integrity check, tokenizer and batched inference.

Only ``onnxruntime``, ``tokenizers`` and ``numpy`` run the model; they are imported when a
model is first loaded, never at import time, so ``import tonewatch`` stays light. Every
file listed in the manifest is checked against its sha256 before use: a model that does
not match what was validated must not score anyone's messages.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from tonewatch._errors import ModelError, ModelIntegrityError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "BUNDLED_MODEL_DIR",
    "LOADS",
    "ModelOutputs",
    "OnnxModel",
    "OnnxRunner",
    "Speculative",
    "plan_batches",
    "read_manifest",
    "span_rows",
    "spread",
    "verify_files",
]

BUNDLED_MODEL_DIR = Path(__file__).resolve().parent / "model"
_REQUIRED = ("model.onnx", "tokenizer.json")
_OUTPUTS = ("sentiment", "emotions", "sarcasm")
# How many models this process has loaded (observability, and proof in tests that loading happens once).
LOADS = 0
_loads_lock = threading.Lock()


def read_json_manifest(model_dir: Path, what: str = "model folder") -> dict[str, Any]:
    """``manifest.json`` of a folder as a JSON object, or a :class:`ModelError` saying what is wrong."""
    path = model_dir / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(f"no manifest.json in {what} {model_dir}") from exc
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read {path}: {exc}") from exc
    if not isinstance(manifest, dict):
        raise ModelError(f"{path} is not a JSON object")
    return manifest


def read_manifest(model_dir: Path) -> dict[str, Any]:
    """``manifest.json`` of a model folder, with the fields the runtime relies on checked."""
    path = model_dir / "manifest.json"
    manifest = read_json_manifest(model_dir)
    try:
        labels = manifest["labels"]
        if list(labels["sentiment"]) != ["negative", "neutral", "positive"]:
            raise ModelError(f"{path}: labels.sentiment must be [negative, neutral, positive]")
        if len(labels["goemotions"]) != 28:
            raise ModelError(f"{path}: labels.goemotions must list the 28 GoEmotions labels")
        float(manifest["calibration"]["temperature"])
        float(manifest["calibration"].get("sentence_temperature", 1.0))
        int(manifest["max_tokens"])
        dict(manifest["files"])
        str(manifest["version"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{path} lacks a required field: {exc}") from exc
    return manifest


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_files(model_dir: Path, manifest: dict[str, Any]) -> None:
    """Raise :class:`ModelIntegrityError` unless every required file matches the manifest's sha256."""
    files: dict[str, str] = manifest["files"]
    for name in _REQUIRED:
        if name not in files:
            raise ModelIntegrityError(f"the manifest in {model_dir} does not list {name}")
    for name, expected in files.items():
        path = model_dir / name
        if not path.is_file():
            raise ModelIntegrityError(f"model file {path} is missing")
        actual = file_sha256(path)
        if actual != expected:
            raise ModelIntegrityError(
                f"model file {path} does not match its manifest (sha256 {actual[:12]}..., expected {expected[:12]}...)"
            )


@dataclass(frozen=True, slots=True)
class ModelOutputs:
    """Raw outputs for a list of sequences, in input order, then their extra spans.

    Row ``i`` is sequence ``i`` read whole; the ``k``-th extra span of sequence ``i`` is row
    ``span_rows[i] + k`` (``span_rows`` is empty when no spans were asked for).
    """

    sentiment: NDArray[np.float32]  # [rows, 3] logits
    emotions: NDArray[np.float32]  # [rows, 28] logits
    sarcasm: NDArray[np.float32]  # [rows] logits
    span_rows: tuple[int, ...] = ()

    def followed_by(self, more: ModelOutputs) -> ModelOutputs:
        """These rows, then ``more``'s (whose own spans, if any, are not carried): a second pass appended."""
        import numpy as np

        return ModelOutputs(
            np.concatenate([self.sentiment, more.sentiment]),
            np.concatenate([self.emotions, more.emotions]),
            np.concatenate([self.sarcasm, more.sarcasm]),
            self.span_rows,
        )


def span_rows(n: int, spans: Sequence[Sequence[tuple[int, int]]]) -> list[int]:
    """The output row of each sequence's first extra span: they follow the ``n`` whole-sequence rows in order."""
    rows, row = [], n
    for s in spans:
        rows.append(row)
        row += len(s)
    return rows


# The fixed cost of one forward pass, in padded tokens: what splitting a batch must save to be worth it.
_CALL_COST_TOKENS = 24


def plan_batches(lengths: Sequence[int], batch_size: int) -> list[tuple[int, int]]:
    """Cut length-sorted sequences into batches of at most ``batch_size`` that minimise padded work.

    Cost of a batch = a fixed per-call cost + rows x its longest sequence (dynamic programming
    over cut points), so a long sentence no longer pads thirty short ones to its length.
    """
    n = len(lengths)
    best = [0.0] + [float("inf")] * n
    cut = [0] * (n + 1)
    for j in range(1, n + 1):
        longest = lengths[j - 1]
        for i in range(max(0, j - batch_size), j):
            cost = best[i] + _CALL_COST_TOKENS + (j - i) * longest
            if cost < best[j]:
                best[j], cut[j] = cost, i
    spans: list[tuple[int, int]] = []
    j = n
    while j > 0:
        spans.append((cut[j], j))
        j = cut[j]
    return spans[::-1]


def spread(batches: list[tuple[int, int]], workers: int) -> list[tuple[int, int]]:
    """Halve the largest batches until there are ``workers`` of them (or none can be cut)."""
    out = list(batches)
    while len(out) < workers:
        i = max(range(len(out)), key=lambda k: out[k][1] - out[k][0], default=-1)
        if i < 0 or out[i][1] - out[i][0] < 2:
            break
        a, b = out[i]
        mid = (a + b) // 2
        out[i : i + 1] = [(a, mid), (mid, b)]
    return out


class OnnxRunner:
    """An onnxruntime session and its tokenizer, loaded from a verified model folder.

    ``outputs`` names the graph outputs :meth:`run_outputs` returns; the bundled multi-task model
    (:class:`OnnxModel`) and the multilingual sentiment model share this runner.
    """

    def __init__(
        self, model_dir: Path, manifest: dict[str, Any], *, threads: int = 0, outputs: Sequence[str] = _OUTPUTS
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        verify_files(model_dir, manifest)
        # Parallelism across batches, not inside one: each run uses one thread and up to ``workers``
        # batches run at once (onnxruntime releases the GIL). On these small matrices (32 rows of ~20
        # tokens) intra-op threads spend their time synchronising unless they busy-wait, and busy-waiting
        # steals the cores an API, a database and ingestion share: measured 1.4x more sequences/s than
        # two non-spinning intra-op threads, as fast as two spinning ones. One thread per run also makes
        # a row's result independent of how many cores there are.
        self.workers = threads or os.cpu_count() or 1
        self._executors: dict[str, ThreadPoolExecutor] = {}
        self._pool_pid = 0
        self._pool_lock = threading.Lock()
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = ort.InferenceSession(
                str(model_dir / "model.onnx"), options, providers=["CPUExecutionProvider"]
            )
            tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelError(f"cannot load the model in {model_dir}: {exc}") from exc
        tokenizer.no_padding()
        tokenizer.no_truncation()
        self._tokenizer = tokenizer
        self.max_tokens = int(manifest["max_tokens"])
        self.pad_id = int(manifest.get("pad_token_id", 0))
        # models exported with span pooling (``span_mask`` [batch, spans, seq]) pool any token spans: span 0
        # is the whole sequence, further spans (a message's sentences) come from the same forward pass
        self._spans = "span_mask" in {i.name for i in self._session.get_inputs()}
        names = {o.name for o in self._session.get_outputs()}
        if not set(outputs) <= names:
            raise ModelError(f"the model in {model_dir} lacks outputs {sorted(set(outputs) - names)}")
        self._outputs = list(outputs)
        self._affixes: tuple[int, int] | None = None
        global LOADS
        with _loads_lock:
            LOADS += 1

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids with the model's special tokens, never truncated (callers window long sequences)."""
        if not texts:
            return []
        return [e.ids for e in self._tokenizer.encode_batch(list(texts))]

    @property
    def pools_spans(self) -> bool:
        """Whether the graph takes ``span_mask`` (so :meth:`run_outputs` can pool sentence spans)."""
        return self._spans

    def special_affixes(self) -> tuple[int, int]:
        """How many special tokens :meth:`encode` puts before and after a text's own pieces ([CLS] x [SEP]: 1, 1)."""
        if self._affixes is None:
            bare = self._tokenizer.encode("a", add_special_tokens=False).ids
            full = self._tokenizer.encode("a").ids
            starts = [i for i in range(len(full) - len(bare) + 1) if full[i : i + len(bare)] == bare]
            if not bare or not starts:
                raise ModelError("the tokenizer's special tokens do not wrap a text's own pieces")
            self._affixes = (starts[0], len(full) - starts[0] - len(bare))
        return self._affixes

    def count_words(self, words: Sequence[str]) -> list[int]:
        """Tokens per word, without special tokens (to pack long sentences into windows)."""
        if not words:
            return []
        return [len(e.ids) for e in self._tokenizer.encode_batch(list(words), add_special_tokens=False)]

    def _executor(self, kind: Literal["pool", "dispatch", "speculate"] = "pool") -> ThreadPoolExecutor:
        """The batch thread pool, the one-thread dispatcher that drives it for :meth:`submit`, or the one thread
        of speculative runs; made again in a forked child: a parent's pool threads do not survive fork."""
        with self._pool_lock:
            if not self._executors or self._pool_pid != os.getpid():
                self._executors = {
                    "pool": ThreadPoolExecutor(self.workers, thread_name_prefix="tonewatch-onnx"),
                    "dispatch": ThreadPoolExecutor(1, thread_name_prefix="tonewatch-onnx-dispatch"),
                    "speculate": ThreadPoolExecutor(1, thread_name_prefix="tonewatch-onnx-speculate"),
                }
                self._pool_pid = os.getpid()
            return self._executors[kind]

    def run_outputs(
        self,
        sequences: Sequence[Sequence[int]],
        batch_size: int = 32,
        spans: Sequence[Sequence[tuple[int, int]]] | None = None,
        *,
        in_this_thread: bool = False,
        run_options: Any = None,
    ) -> list[NDArray[np.float32]]:
        """The named outputs for token sequences: rows in input order, then each sequence's ``spans``.

        ``spans`` (token ranges, one list per sequence) are pooled from the same forward pass as
        their sequence; their rows follow the ``len(sequences)`` whole-sequence rows, sequence by
        sequence (see :class:`ModelOutputs`). Sequences are sorted by length, batched, each batch
        padded to its own longest; batches run concurrently on ``workers`` threads, and a call with
        fewer batches than workers (one message) is cut finer so every core still has work.
        ``in_this_thread`` runs the same batches one after another in the caller's thread (the same
        numbers: a batch's result depends on its rows, not on the thread); ``run_options`` (an
        onnxruntime ``RunOptions``) lets another thread stop the run.
        """
        import numpy as np

        n = len(sequences)
        if spans is not None and (not self._spans or len(spans) != n):
            raise ModelError("sentence spans need a span-pooling model and one span list per sequence")
        extra = [len(s) for s in spans] if spans is not None else [0] * n
        starts = span_rows(n, spans or ())
        order = sorted(range(n), key=lambda i: len(sequences[i]))
        batches = spread(plan_batches([len(sequences[i]) for i in order], max(batch_size, 1)), self.workers)

        def score(span: tuple[int, int]) -> tuple[list[int], list[Any]]:
            sel = order[span[0] : span[1]]
            width = len(sequences[sel[-1]])
            ids = np.full((len(sel), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(sel), width), dtype=np.int64)
            for row, i in enumerate(sel):
                seq = sequences[i]
                ids[row, : len(seq)] = seq
                mask[row, : len(seq)] = 1
            feeds = {"input_ids": ids, "attention_mask": mask}
            if not self._spans:
                return sel, list(self._session.run(self._outputs, feeds, run_options))
            wide = 1 + max(extra[i] for i in sel)
            span_mask = np.zeros((len(sel), wide, width), dtype=np.float32)
            span_mask[:, 0] = mask
            if spans is not None:
                for row, i in enumerate(sel):
                    for k, (a, b) in enumerate(spans[i]):
                        span_mask[row, k + 1, a:b] = 1.0
            return sel, list(self._session.run(self._outputs, {**feeds, "span_mask": span_mask}, run_options))

        parallel = self.workers > 1 and len(batches) > 1 and not in_this_thread
        results = self._executor().map(score, batches) if parallel else map(score, batches)
        out: list[NDArray[np.float32]] = []
        for sel, arrays in results:
            if not out:
                tail = [a.shape[2:] if self._spans else a.shape[1:] for a in arrays]
                out = [np.zeros((n + sum(extra), *t), dtype=np.float32) for t in tail]
            for target, a in zip(out, arrays, strict=True):
                if not self._spans:
                    target[sel] = a
                    continue
                target[sel] = a[:, 0]
                for row, i in enumerate(sel):
                    if extra[i]:
                        target[starts[i] : starts[i] + extra[i]] = a[row, 1 : 1 + extra[i]]
        if not out:  # no sequences: empty arrays of each output's trailing shape
            shapes = {o.name: o.shape[2 if self._spans else 1 :] for o in self._session.get_outputs()}
            out = [np.zeros((0, *(int(d) for d in shapes[name])), dtype=np.float32) for name in self._outputs]
        return out


class OnnxModel(OnnxRunner):
    """The bundled multi-task model: sentiment, GoEmotions and sarcasm logits in one pass."""

    def __init__(self, model_dir: Path, manifest: dict[str, Any], *, threads: int = 0) -> None:
        super().__init__(model_dir, manifest, threads=threads, outputs=_OUTPUTS)

    def run(
        self,
        sequences: Sequence[Sequence[int]],
        batch_size: int = 32,
        spans: Sequence[Sequence[tuple[int, int]]] | None = None,
        *,
        in_this_thread: bool = False,
        run_options: Any = None,
    ) -> ModelOutputs:
        """Raw logits of the three heads for token sequences (and their ``spans``), in input order."""
        sentiment, emotions, sarcasm = self.run_outputs(
            sequences, batch_size, spans, in_this_thread=in_this_thread, run_options=run_options
        )
        rows = tuple(span_rows(len(sequences), spans)) if spans is not None else ()
        return ModelOutputs(sentiment, emotions, sarcasm, rows)

    def submit(
        self,
        sequences: Sequence[Sequence[int]],
        batch_size: int = 32,
        spans: Sequence[Sequence[tuple[int, int]]] | None = None,
    ) -> Future[ModelOutputs]:
        """:meth:`run` in the background, so the caller's Python work (language, cues) overlaps the model's.

        With one worker the caller's thread would only compete with it: the run then happens here.
        """
        if self.workers > 1:
            return self._executor("dispatch").submit(self.run, sequences, batch_size, spans)
        done: Future[ModelOutputs] = Future()
        try:
            done.set_result(self.run(sequences, batch_size, spans))
        except BaseException as exc:  # handed to the caller by result(), as from a thread
            done.set_exception(exc)
        return done

    def speculate(self, sequences: Sequence[Sequence[int]], batch_size: int = 32) -> Speculative:
        """:meth:`run` started on a core that would otherwise wait, before it is known to be needed.

        One message's first pass is a single sequence on one core; the second (its sentences read alone,
        when the result could be mixed) can only start after it. Started now, on its own thread and in the
        same batches :meth:`run` would make, it returns the same numbers; if it is not needed it is stopped.
        """
        import onnxruntime as ort

        options = ort.RunOptions()
        options.log_severity_level = 4  # a stopped run is not an error worth a log line
        run = partial(self.run, sequences, batch_size, in_this_thread=True, run_options=options)
        return Speculative([list(s) for s in sequences], self._executor("speculate").submit(run), options)


class Speculative:
    """A model run started before it is known to be needed: :meth:`result` when it is, :meth:`cancel` when not."""

    def __init__(self, sequences: list[list[int]], future: Future[ModelOutputs], options: Any) -> None:
        self.sequences = sequences
        self._future = future
        self._options = options

    def result(self) -> ModelOutputs:
        return self._future.result()

    def cancel(self) -> None:
        """Drop the run if it has not started, stop it if it has (onnxruntime checks between operators)."""
        if not self._future.cancel():
            self._options.terminate = True
