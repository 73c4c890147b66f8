"""The exported graph keeps the runtime's span contract (a tiny random model, exported for real)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from tonewatch.learn._export import export_span_onnx, quantize_int8, shift_sentiment_bias  # noqa: E402
from tonewatch.learn._onnx_weights import recover_state_dict  # noqa: E402
from tonewatch.learn._torch_model import MultiTask, build_model  # noqa: E402

TINY = {
    "vocab_size": 60,
    "hidden_size": 32,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "hidden_act": "gelu",
    "max_position_embeddings": 64,
    "type_vocab_size": 2,
    "layer_norm_eps": 1e-12,
    "pad_token_id": 0,
}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[MultiTask, Path]:
    torch.manual_seed(3)
    model = build_model(dict(TINY)).eval()
    with torch.no_grad():  # non-zero biases, so a lost or misnamed bias shows
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.normal_(0.0, 0.1)
    path = tmp_path_factory.mktemp("tiny") / "model.onnx"
    export_span_onnx(model, path)
    return model, path


def _run(path: Path, ids: np.ndarray, mask: np.ndarray, spans: np.ndarray) -> dict[str, Any]:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    outs = sess.run(None, {"input_ids": ids, "attention_mask": mask, "span_mask": spans})
    return {o.name: v for o, v in zip(sess.get_outputs(), outs, strict=True)}


def _batch() -> tuple[np.ndarray, np.ndarray]:
    ids = np.array([[1, 7, 8, 9, 10, 11, 12, 2], [1, 13, 14, 2, 0, 0, 0, 0]], dtype=np.int64)
    return ids, (ids != 0).astype(np.int64)


def test_inputs_and_outputs_follow_the_contract(exported: tuple[MultiTask, Path]) -> None:
    _, path = exported
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inputs = {i.name: (i.type, i.shape) for i in sess.get_inputs()}
    assert inputs == {
        "input_ids": ("tensor(int64)", ["batch", "seq"]),
        "attention_mask": ("tensor(int64)", ["batch", "seq"]),
        "span_mask": ("tensor(float)", ["batch", "spans", "seq"]),
    }
    outputs = {o.name: (o.type, o.shape) for o in sess.get_outputs()}
    assert outputs["sentiment"] == ("tensor(float)", ["batch", "spans", 3])
    assert outputs["emotions"] == ("tensor(float)", ["batch", "spans", 28])
    assert outputs["sarcasm"] == ("tensor(float)", ["batch", "spans"])


def test_span_zero_is_plain_mean_pooling_and_sub_spans_pool_their_tokens(exported: tuple[MultiTask, Path]) -> None:
    model, path = exported
    ids, mask = _batch()
    spans = np.zeros((2, 3, ids.shape[1]), dtype=np.float32)
    spans[:, 0] = mask
    spans[0, 1, 2:5] = 1.0
    spans[1, 1, 1:3] = 1.0
    # spans[0, 2] stays empty: zero embedding, only the biases are left
    out = _run(path, ids, mask, spans)
    assert out["sentiment"].shape == (2, 3, 3)
    assert out["emotions"].shape == (2, 3, 28)
    assert out["sarcasm"].shape == (2, 3)
    with torch.no_grad():
        x, m = torch.tensor(ids), torch.tensor(mask)
        s, e, z, _ = model(x, m)  # eval mode: plain mean over the attended tokens
        hidden = model.hidden_states(x, m)
        sub = torch.stack([hidden[0, 2:5].mean(0), hidden[1, 1:3].mean(0)])
        s_sub, e_sub, z_sub = model.heads(sub)
    np.testing.assert_allclose(out["sentiment"][:, 0], s.numpy(), atol=1e-5)
    np.testing.assert_allclose(out["emotions"][:, 0], e.numpy(), atol=1e-5)
    np.testing.assert_allclose(out["sarcasm"][:, 0], z.numpy(), atol=1e-5)
    np.testing.assert_allclose(out["embedding"][:, 1], sub.numpy(), atol=1e-5)
    np.testing.assert_allclose(out["sentiment"][:, 1], s_sub.numpy(), atol=1e-5)
    np.testing.assert_allclose(out["emotions"][:, 1], e_sub.numpy(), atol=1e-5)
    np.testing.assert_allclose(out["sarcasm"][:, 1], z_sub.numpy(), atol=1e-5)
    np.testing.assert_allclose(out["embedding"][0, 2], 0.0, atol=1e-7)
    np.testing.assert_allclose(out["sentiment"][0, 2], model.sentiment.bias.detach().numpy(), atol=1e-6)


def test_padding_does_not_change_a_sequence_s_scores(exported: tuple[MultiTask, Path]) -> None:
    _, path = exported
    ids, mask = _batch()
    alone_ids, alone_mask = ids[1:, :4], mask[1:, :4]
    alone = _run(path, alone_ids, alone_mask, alone_mask[:, None, :].astype(np.float32))
    padded = _run(path, ids, mask, mask[:, None, :].astype(np.float32))
    np.testing.assert_allclose(padded["sentiment"][1], alone["sentiment"][0], atol=1e-5)


def test_export_leaves_the_model_in_the_mode_it_found(exported: tuple[MultiTask, Path], tmp_path: Path) -> None:
    model, _ = exported
    model.train()
    export_span_onnx(model, tmp_path / "again.onnx")
    assert model.training
    model.eval()
    export_span_onnx(model, tmp_path / "again.onnx")
    assert not model.training


def test_weights_come_back_from_fp32_exactly_and_from_int8_within_half_a_step(
    exported: tuple[MultiTask, Path], tmp_path: Path
) -> None:
    model, path = exported
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    fp32 = recover_state_dict(path)
    assert set(fp32) == set(state)
    for name, value in state.items():
        np.testing.assert_array_equal(fp32[name], value, err_msg=name)
    quantize_int8(path, tmp_path / "int8.onnx")
    int8 = recover_state_dict(tmp_path / "int8.onnx")
    assert set(int8) == set(state)
    for name, value in state.items():
        step = max(float(np.abs(value).max()) / 127, 1e-8)
        assert float(np.abs(int8[name] - value).max()) <= step, name
    rebuilt = build_model(dict(TINY))
    rebuilt.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in fp32.items()}, strict=True)


def test_shifting_the_sentiment_bias_moves_every_span_s_logits_by_the_shift(
    exported: tuple[MultiTask, Path], tmp_path: Path
) -> None:
    _, path = exported
    shifted = tmp_path / "shifted.onnx"
    shifted.write_bytes(path.read_bytes())
    shift_sentiment_bias(shifted, [0.5, -0.25, 0.0])
    ids, mask = _batch()
    spans = np.stack([mask, mask], axis=1).astype(np.float32)
    before = _run(path, ids, mask, spans)
    after = _run(shifted, ids, mask, spans)
    np.testing.assert_allclose(
        after["sentiment"] - before["sentiment"], np.broadcast_to([0.5, -0.25, 0.0], (2, 2, 3)), atol=1e-5
    )
    np.testing.assert_allclose(after["emotions"], before["emotions"], atol=1e-6)


def _ops(path: Path) -> dict[str, str]:
    import onnx

    graph = onnx.load(str(path)).graph
    return {n.name: n.op_type for n in graph.node}


def test_excluded_products_stay_fp32_and_their_weights_come_back_exactly(
    exported: tuple[MultiTask, Path], tmp_path: Path
) -> None:
    from tonewatch.learn._quantize import matmul_groups

    model, path = exported
    keep = matmul_groups(path)["layer0.ffn_out"]
    mixed = tmp_path / "mixed.onnx"
    quantize_int8(path, mixed, keep)
    ops = _ops(mixed)
    assert all(ops[name] == "MatMul" for name in keep)
    assert sum(op == "MatMulInteger" for op in ops.values()) == 4 + 1 + 3
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    recovered = recover_state_dict(mixed)
    assert set(recovered) == set(state)
    ffn_out = "encoder.encoder.layer.0.output.dense.weight"
    np.testing.assert_array_equal(recovered[ffn_out], state[ffn_out])
    query = "encoder.encoder.layer.0.attention.self.query.weight"
    assert 0 < float(np.abs(recovered[query] - state[query]).max()) <= float(np.abs(state[query]).max()) / 127
    ids, mask = _batch()
    spans = mask[:, None, :].astype(np.float32)
    full, part = _run(path, ids, mask, spans), _run(mixed, ids, mask, spans)
    np.testing.assert_allclose(part["sentiment"], full["sentiment"], atol=0.05)


def _with_reader(seed: int = 5) -> MultiTask:
    """The tiny model with a span reader over its embeddings and last layer, random non-zero weights."""
    torch.manual_seed(seed)
    model = build_model(dict(TINY), span_reader={"layers": [0, 1], "width": 16}).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.normal_(0.0, 0.1)
    assert model.span_reader is not None
    n = model.span_reader.shift.shape[0]
    model.span_reader.standardise(torch.randn(n) * 0.1, torch.rand(n) + 0.5)  # the graph standardises raw means
    return model


def test_a_span_reader_reads_sentences_and_leaves_the_whole_text_alone(tmp_path: Path) -> None:
    model = _with_reader()
    reader = model.span_reader
    assert reader is not None
    plain, read = tmp_path / "plain.onnx", tmp_path / "read.onnx"
    model.span_reader = None
    export_span_onnx(model, plain)
    model.span_reader = reader
    export_span_onnx(model, read)
    ids, mask = _batch()
    spans = np.zeros((2, 3, ids.shape[1]), dtype=np.float32)
    spans[:, 0] = mask
    spans[0, 1, 1:4] = 1.0
    spans[0, 2, 4:7] = 1.0
    spans[1, 1, 1:3] = 1.0
    a, b = _run(plain, ids, mask, spans), _run(read, ids, mask, spans)
    np.testing.assert_allclose(b["sentiment"][:, 0], a["sentiment"][:, 0], atol=1e-5)  # span 0: unchanged
    np.testing.assert_allclose(b["emotions"][:, 0], a["emotions"][:, 0], atol=1e-5)
    assert not np.allclose(b["sentiment"][:, 1:], a["sentiment"][:, 1:], atol=1e-3)  # sentences: the reader's
    with torch.no_grad():  # the reader's own arithmetic, written out: MLP over the layers' span means + last mean
        states = model.encoder(
            input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask), output_hidden_states=True
        ).hidden_states
        sm = torch.from_numpy(spans)
        mean = [torch.bmm(sm, h) / sm.sum(-1, keepdim=True).clamp(min=1e-9) for h in states]
        x = torch.cat([mean[0], mean[1]], -1)
        z = (x - reader.shift) * reader.scale
        expected = mean[-1] + reader.outer(torch.nn.functional.gelu(reader.inner(z)))
        head = model.sentiment(expected[:, 1:]).numpy()
    np.testing.assert_allclose(b["embedding"][:, 1:], expected[:, 1:].numpy(), atol=1e-4)
    np.testing.assert_allclose(b["sentiment"][:, 1:], head, atol=1e-4)


def test_a_span_reader_comes_back_from_its_onnx_file(tmp_path: Path) -> None:
    from tonewatch.learn._torch_model import load_model_folder

    model = _with_reader(seed=9)
    path = tmp_path / "model.onnx"
    export_span_onnx(model, path)
    state = recover_state_dict(path)
    assert {k for k in state if k.startswith("span_reader.")} == {
        "span_reader.inner.weight",
        "span_reader.inner.bias",
        "span_reader.outer.weight",
        "span_reader.outer.bias",
        "span_reader.shift",
        "span_reader.scale",
    }
    back = load_model_folder(tmp_path, {"encoder": TINY, "span_reader": {"layers": [0, 1], "width": 16}})
    assert back.span_reader is not None
    assert back.span_reader.layers == (0, 1)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[name].numpy(), value.numpy(), err_msg=name)
    with pytest.raises(Exception, match="span_reader"):  # a reader the manifest does not describe cannot load
        load_model_folder(tmp_path, {"encoder": TINY})


def test_a_standardised_reader_takes_raw_features() -> None:
    from tonewatch.learn._torch_model import SpanReader

    torch.manual_seed(1)
    reader = SpanReader(8, (0, 1), 6)
    x = torch.randn(20, 16) * 3 + 1
    last = torch.randn(20, 8)
    mean, std = x.mean(0), x.std(0) + 1e-4
    before = reader((x - mean) / std, last)
    reader.standardise(mean, std)
    torch.testing.assert_close(reader(x, last), before, atol=1e-5, rtol=1e-5)


def test_the_reading_report_reads_sentences_as_the_runtime_does(tmp_path: Path) -> None:
    """Span 0 is the whole text, sentences follow: with a reader, a sentence fed as span 0 would be scored plainly."""
    from tonewatch.learn._torch_model import SpanExport
    from training.spans import _pair_probs

    model = _with_reader(seed=11)
    path = tmp_path / "model.onnx"
    export_span_onnx(model, path)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rows = [([1, 7, 8, 9, 10, 11, 2], [(1, 3), (3, 6)]), ([1, 13, 14, 15, 2], [(1, 2), (2, 4)])]
    got = _pair_probs(sess, rows, 1.0)
    for r, (seq, spans) in enumerate(rows):
        ids = torch.tensor([seq])
        mask = torch.ones_like(ids)
        span_mask = torch.zeros((1, 1 + len(spans), len(seq)))
        span_mask[0, 0] = 1.0
        for k, (a, b) in enumerate(spans):
            span_mask[0, k + 1, a:b] = 1.0
        with torch.no_grad():
            s = SpanExport(model).eval()(ids, mask, span_mask)[0]
        np.testing.assert_allclose(got[r], torch.softmax(s[0], -1).numpy(), atol=1e-5)


def test_the_reader_is_fitted_to_the_alone_readings_and_averaged_over_its_last_epochs() -> None:
    from training.span_reader import train_reader

    torch.manual_seed(2)
    model = build_model(dict(TINY)).eval()
    rng = np.random.default_rng(0)
    n, hidden = 600, TINY["hidden_size"]
    features = rng.normal(size=(n, 2 * hidden)).astype(np.float16)
    target = (features[:, hidden:].astype(np.float32) * 0.5 + 0.1).astype(np.float16)  # a learnable mapping
    with torch.no_grad():  # the teacher's outputs are its heads on the target embedding, as for a real reading
        s, _, z = model.heads(torch.from_numpy(target.astype(np.float32)))
    data = {"features": features, "embedding": target, "sentiment": s.numpy(), "sarcasm": z.numpy()}
    lines: list[str] = []
    reader = train_reader(model, data, (0, 1), 16, 40, 0, lines.append, average_last=2)
    assert [line.split(" loss")[0] for line in lines] == [f"epoch {i}/40" for i in range(1, 41)]
    assert float(lines[-1].split("loss ")[1]) < float(lines[0].split("loss ")[1])
    x = torch.from_numpy(features.astype(np.float32))
    with torch.no_grad():  # the standardised reader takes raw features, and gets closer to the target than none
        read = reader(x, x[:, hidden:])
    torch.testing.assert_close(reader.shift, x.mean(0))
    t = torch.from_numpy(target.astype(np.float32))
    assert float(((read - t) ** 2).mean()) < float(((x[:, hidden:] - t) ** 2).mean())
    with pytest.raises(ValueError, match="last layer"):
        train_reader(model, data, (1, 0), 16, 1, 0, lines.append)


def test_the_checked_reading_reads_again_alone_only_the_pairs_the_screen_sends() -> None:
    from training.spans import checked_reading, choose_reading

    def pair(first: list[float], second: list[float]) -> list[list[float]]:
        return [first, second]

    context = np.array(
        [
            pair([0.1, 0.5, 0.4], [0.45, 0.5, 0.05]),  # leans both ways at 0.4: sent at screen 0.3
            pair([0.1, 0.2, 0.7], [0.2, 0.7, 0.1]),  # positive and neutral: kept in context
            pair([0.35, 0.3, 0.35], [0.1, 0.8, 0.1]),  # both leanings in one sentence only: kept
        ]
    )
    alone = np.array([pair([0.0, 0.1, 0.9], [0.9, 0.1, 0.0])] * 3)
    got, again = checked_reading(alone, context, 0.3)
    assert again.tolist() == [True, False, False]
    np.testing.assert_array_equal(got[0], alone[0])
    np.testing.assert_array_equal(got[1:], context[1:])
    assert checked_reading(alone, context, 0.5)[1].tolist() == [False, False, False]
    one_sided = np.array([[0.97, 0.02, 0.01], [0.1, 0.1, 0.8], [0.3, 0.4, 0.3]])  # as mixed needs: weaker >= 0.05
    assert checked_reading(alone, context, 0.3, one_sided)[1].tolist() == [False, False, False]

    a = {"sentence_macro_recall": 0.70, "mixed_recall": 0.34, "false_mixed": 0.02}
    close = {"sentence_macro_recall": 0.695, "mixed_recall": 0.33, "false_mixed": 0.025}
    short = {**close, "mixed_recall": 0.28}
    assert choose_reading({"t": {"alone": a, "in_context": close}}) == "in_context"
    assert choose_reading({"t": {"alone": a, "in_context": short, "checked": close}}) == "checked"
    assert (
        choose_reading(
            {"t": {"alone": a, "in_context": short, "checked": close}, "u": {"alone": a, "in_context": short}}
        )
        == "alone"
    )
    assert choose_reading({"t": {"alone": a, "in_context": short, "checked": short}}) == "alone"
