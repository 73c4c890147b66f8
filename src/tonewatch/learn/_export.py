"""Export a multi-task model to the runtime's ONNX contract, quantise it, and run exported models.

The graph contract (``pooling: spans`` in the manifest)::

    inputs   input_ids int64 [batch, seq], attention_mask int64 [batch, seq], span_mask float32 [batch, spans, seq]
    outputs  sentiment [batch, spans, 3], emotions [batch, spans, 28], sarcasm [batch, spans],
             embedding [batch, spans, hidden]

Each span's embedding is ``sum_t span_mask * last_hidden_state / max(sum_t span_mask, 1e-9)``;
the runtime passes the attention mask as span 0 and sentence token ranges as further spans. A model
with a span reader (manifest ``span_reader``) gives spans after the first the reader's embedding instead
(``tonewatch.learn._torch_model.SpanReader``); span 0 stays the plain mean.
torch is imported inside the functions that need it, so the runner works with onnxruntime alone.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tonewatch._errors import ModelError, require_extra
from tonewatch.score._model import file_sha256

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from ._torch_model import MultiTask


__all__ = [
    "INPUTS",
    "OPSET",
    "OUTPUTS",
    "RunOutputs",
    "SpanRunner",
    "export_span_onnx",
    "file_sha256",
    "quantize_int8",
    "shift_sentiment_bias",
]

INPUTS = ("input_ids", "attention_mask", "span_mask")
OUTPUTS = ("sentiment", "emotions", "sarcasm", "embedding")
OPSET = 17


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the tracer's and the quantiser's advice (it is about graphs we do not build) for one call."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.setLevel(level)


def export_span_onnx(model: MultiTask, path: Path) -> None:
    """Write ``model`` (fp32) as an ONNX file with the span-pooling contract above."""
    import torch

    from ._torch_model import SpanExport

    was_training = model.training
    wrapper = SpanExport(model).eval()  # a fresh module starts in training mode (dropout on)
    encoder: Any = model.encoder
    vocab = int(encoder.config.vocab_size)
    ids = torch.tensor([[1, 5, 6, 7, 8, 2], [1, 9, 2, 0, 0, 0]]) % vocab
    mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]])
    spans = torch.zeros((2, 2, 6))
    spans[:, 0] = mask
    spans[0, 1, 1:3] = 1.0
    spans[1, 1, 1:2] = 1.0
    dynamic = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"}}
    dynamic["span_mask"] = {0: "batch", 1: "spans", 2: "seq"}
    dynamic.update({name: {0: "batch", 1: "spans"} for name in OUTPUTS})

    with torch.no_grad(), _quiet():
        torch.onnx.export(
            wrapper,
            (ids, mask, spans),
            str(path),
            input_names=list(INPUTS),
            output_names=list(OUTPUTS),
            dynamic_axes=dynamic,
            opset_version=OPSET,
            dynamo=False,
        )
    model.train(was_training)


def quantize_int8(src: Path, dst: Path, exclude: Sequence[str] = ()) -> None:
    """int8 dynamic quantisation exactly as the bundled model (per-channel weights, fp32 activations).

    ``exclude`` names graph nodes (matrix products) left in fp32: the export keeps the few whose
    quantisation costs the most accuracy in fp32 rather than giving up int8 for the whole model.
    """
    onnx: Any = require_extra("onnx", "train", "Quantising an exported model")
    quantization: Any = require_extra("onnxruntime.quantization", "train", "Quantising an exported model")
    with _quiet():
        quantization.quantize_dynamic(
            str(src),
            str(dst),
            weight_type=quantization.QuantType.QInt8,
            per_channel=True,
            nodes_to_exclude=list(exclude),
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )


def shift_sentiment_bias(path: Path, shift: Sequence[float], name: str = "m.sentiment.bias") -> None:
    """Add ``shift`` to the sentiment head's bias in an exported file (fp32 in int8 models too), in place."""
    onnx: Any = require_extra("onnx", "train", "Editing an exported model")
    numpy_helper: Any = require_extra("onnx.numpy_helper", "train", "Editing an exported model")
    model = onnx.load(str(path))
    for init in model.graph.initializer:
        if init.name == name:
            value = numpy_helper.to_array(init).astype(np.float32) + np.asarray(shift, dtype=np.float32)
            init.CopyFrom(numpy_helper.from_array(value, name))
            onnx.save(model, str(path))
            return
    raise ModelError(f"{path} has no initializer {name}")


@dataclass(frozen=True, slots=True)
class RunOutputs:
    """Whole-text logits, in input order (and the pooled embeddings, when asked for)."""

    sentiment: NDArray[np.float32]  # [n, 3]
    emotions: NDArray[np.float32]  # [n, 28]
    sarcasm: NDArray[np.float32]  # [n]
    embedding: NDArray[np.float32] | None = None  # [n, hidden]


class SpanRunner:
    """Runs an exported model on normalised texts as the runtime does (tokenizers + onnxruntime).

    Works with both graph contracts: with ``span_mask`` the attention mask is span 0, without
    it (models exported before span pooling) the graph pools the attention mask itself.
    """

    def __init__(self, model: Path, tokenizer: Path, *, max_tokens: int = 128, threads: int = 2) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
            self._tokenizer = Tokenizer.from_file(str(tokenizer))
        except Exception as exc:  # onnxruntime and tokenizers raise their own types
            raise ModelError(f"cannot load the model {model}: {exc}") from exc
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=max_tokens)
        self.spans = "span_mask" in {i.name for i in self._session.get_inputs()}

    @property
    def session(self) -> Any:
        """The onnxruntime session (for callers that feed spans themselves)."""
        return self._session

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self._tokenizer.encode_batch(list(texts))] if texts else []

    def run(self, texts: Sequence[str], batch_size: int = 64, *, embeddings: bool = False) -> RunOutputs:
        """Whole-text outputs; ``embeddings`` adds the pooled embedding (span-pooling models only)."""
        if embeddings and not self.spans:
            raise ModelError("only a span-pooling model (manifest pooling: spans) has an embedding output")
        names = ["sentiment", "emotions", "sarcasm", *(["embedding"] if embeddings else [])]
        ids = self.encode(texts)
        n = len(ids)
        out = RunOutputs(
            np.zeros((n, 3), dtype=np.float32), np.zeros((n, 28), dtype=np.float32), np.zeros(n, dtype=np.float32)
        )
        embedding: NDArray[np.float32] | None = None
        order = sorted(range(n), key=lambda i: len(ids[i]))
        for a in range(0, n, batch_size):
            sel = order[a : a + batch_size]
            width = max(len(ids[i]) for i in sel)
            x = np.zeros((len(sel), width), dtype=np.int64)
            m = np.zeros((len(sel), width), dtype=np.int64)
            for row, i in enumerate(sel):
                x[row, : len(ids[i])] = ids[i]
                m[row, : len(ids[i])] = 1
            feeds: dict[str, Any] = {"input_ids": x, "attention_mask": m}
            if self.spans:
                feeds["span_mask"] = m[:, None, :].astype(np.float32)
            got = self._session.run(names, feeds)
            if self.spans:
                got = [g[:, 0] for g in got]
            out.sentiment[sel], out.emotions[sel], out.sarcasm[sel] = got[:3]
            if embeddings:
                if embedding is None:
                    embedding = np.zeros((n, got[3].shape[-1]), dtype=np.float32)
                embedding[sel] = got[3]
        return out if embedding is None else replace(out, embedding=embedding)
