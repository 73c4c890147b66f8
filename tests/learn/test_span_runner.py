"""The training tools' runner of exported models (``tonewatch.learn._export.SpanRunner``)."""

from __future__ import annotations

import numpy as np

from tonewatch.learn._export import SpanRunner
from tonewatch.score import BUNDLED_MODEL_DIR
from tonewatch.score._model import read_manifest


def test_embeddings_come_with_the_same_logits_in_input_order() -> None:
    runner = SpanRunner(BUNDLED_MODEL_DIR / "model.onnx", BUNDLED_MODEL_DIR / "tokenizer.json")
    texts = ["The invoice is wrong again and nobody answers.", "Thanks, that fixed it!", "ok"]
    plain = runner.run(texts, batch_size=2)
    both = runner.run(texts, batch_size=2, embeddings=True)
    assert plain.embedding is None
    assert both.embedding is not None
    assert both.embedding.shape == (3, read_manifest(BUNDLED_MODEL_DIR)["encoder"]["hidden_size"])
    assert np.array_equal(both.sentiment, plain.sentiment)
    alone = runner.run(texts[1:2], embeddings=True).embedding  # row 1 belongs to text 1, whatever the sorting
    assert alone is not None

    def cosine(a: np.ndarray, b: np.ndarray) -> float:
        return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))

    # int8 activations are scaled per batch, so the same text in another batch is close, not equal
    assert cosine(both.embedding[1], alone[0]) > 0.99
    assert cosine(both.embedding[1], alone[0]) > max(cosine(both.embedding[k], alone[0]) for k in (0, 2))
