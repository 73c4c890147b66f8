"""The int8 search: real quantisation of a small hand-built graph named like the export's, no torch needed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from tonewatch.learn._quantize import (  # noqa: E402
    MAX_GROUPS,
    RULE,
    Metrics,
    choose_precision,
    matmul_groups,
    quantization_drop,
)

WIDTH = 16
_LAYER = "/encoder/encoder/layer.0"


def _graph(path: Path) -> Path:
    """One encoder layer's worth of weight products (names as the export writes them), an attention-score
    product of two activations, and the three heads."""
    rng = np.random.default_rng(5)
    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []

    def linear(name: str, x: str, out: int = WIDTH) -> str:
        w = numpy_helper.from_array(rng.normal(0, 0.3, (WIDTH, out)).astype(np.float32), f"w{len(inits)}")
        b = numpy_helper.from_array(rng.normal(0, 0.1, out).astype(np.float32), f"{name.strip('/')}.bias")
        inits.extend([w, b])
        nodes.append(helper.make_node("MatMul", [x, w.name], [f"{name}_mm"], name=f"{name}/MatMul"))
        nodes.append(helper.make_node("Add", [f"{name}_mm", b.name], [f"{name}_out"], name=f"{name}/Add"))
        return f"{name}_out"

    q = linear(f"{_LAYER}/attention/self/query", "x")
    k = linear(f"{_LAYER}/attention/self/key", "x")
    v = linear(f"{_LAYER}/attention/self/value", "x")
    nodes.append(helper.make_node("Transpose", [k], ["kt"], name=f"{_LAYER}/attention/self/Transpose"))
    nodes.append(helper.make_node("MatMul", [q, "kt"], ["scores"], name=f"{_LAYER}/attention/self/MatMul"))
    nodes.append(helper.make_node("Add", [q, v], ["qv"], name="qv"))
    o = linear(f"{_LAYER}/attention/output/dense", "qv")
    f = linear(f"{_LAYER}/intermediate/dense", o, 2 * WIDTH)
    nodes.append(helper.make_node("Relu", [f], ["act"], name="act"))
    w = numpy_helper.from_array(rng.normal(0, 0.3, (2 * WIDTH, WIDTH)).astype(np.float32), "w_out")
    inits.append(w)
    nodes.append(helper.make_node("MatMul", ["act", "w_out"], ["h"], name=f"{_LAYER}/output/dense/MatMul"))
    heads = [linear(f"/{head}", "h", n) for head, n in (("sentiment", 3), ("emotions", 28), ("sarcasm", 1))]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", WIDTH])],
        [
            *(
                helper.make_tensor_value_info(h, TensorProto.FLOAT, ["batch", n])
                for h, n in zip(heads, (3, 28, 1), strict=True)
            ),
            helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", "batch"]),
        ],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def fp32(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _graph(tmp_path_factory.mktemp("quantize") / "fp32.onnx")


def _ops(path: Path) -> dict[str, str]:
    return {n.name: n.op_type for n in onnx.load(str(path)).graph.node}


def _sentiment(path: Path) -> np.ndarray:
    x = np.random.default_rng(1).normal(0, 1, (64, WIDTH)).astype(np.float32)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.asarray(sess.run([sess.get_outputs()[0].name], {"x": x})[0])


def test_weight_products_group_by_role_and_heads_and_activation_products_are_left_out(fp32: Path) -> None:
    groups = matmul_groups(fp32)
    assert {k: len(v) for k, v in groups.items()} == {
        "layer0.attention": 4,  # query, key, value, output projection
        "layer0.ffn_in": 1,
        "layer0.ffn_out": 1,
        "heads": 3,
    }
    # the attention scores (query x key, two activations) are in no group
    assert f"{_LAYER}/attention/self/MatMul" not in {n for nodes in groups.values() for n in nodes}


def test_the_drop_is_the_worst_figure_over_sets_and_measures() -> None:
    base: Metrics = {"a": {"accuracy": 0.80, "macro_recall": 0.70}, "b": {"accuracy": 0.90, "macro_recall": 0.60}}
    other: Metrics = {"a": {"accuracy": 0.81, "macro_recall": 0.69}, "b": {"accuracy": 0.88, "macro_recall": 0.61}}
    assert quantization_drop(base, other) == pytest.approx(0.02)
    assert quantization_drop(base, base) == 0.0


def _harm(path: Path, harmful: dict[str, float]) -> Metrics:
    """Figures that fall by ``harmful[node]`` for every listed node the file does not keep in fp32."""
    ops = _ops(path)
    lost = sum(v for node, v in harmful.items() if ops.get(node) != "MatMul")
    return {"set": {"accuracy": 0.8 - lost, "macro_recall": 0.7 - lost / 2}}


@pytest.mark.parametrize(
    ("harm", "chosen", "kept"),
    [
        ({}, "int8", []),  # whole int8 inside the rule: nothing stays fp32
        ({"ffn_out": 0.008}, "int8-mixed", ["layer0.ffn_out"]),
        ({"ffn_out": 0.005, "ffn_in": 0.004, "attention": 0.003}, "int8-mixed", ["layer0.ffn_out", "layer0.ffn_in"]),
        ({"ffn_out": 0.01, "ffn_in": 0.01, "attention": 0.01, "heads": 0.01}, "fp32", None),
    ],
)
def test_the_search_keeps_the_most_harmful_groups_fp32_until_the_rule_holds(
    fp32: Path, tmp_path: Path, harm: dict[str, float], chosen: str, kept: list[str] | None
) -> None:
    groups = matmul_groups(fp32)
    # a group's harm is spread over its nodes, so it is recovered only when all of them stay fp32
    harmful = {
        node: v / len(nodes)
        for g, nodes in groups.items()
        for node in nodes
        for role, v in harm.items()
        if g.endswith(role)
    }
    lines: list[str] = []
    file, report, scored = choose_precision(
        fp32, tmp_path, lambda p: (p, _harm(p, harmful)), lambda out: out[1], log=lines.append
    )
    assert scored[0] == file  # what was run on the shipped file comes back with it
    assert report["chosen"] == chosen
    assert lines[0].startswith("int8: largest drop")
    if kept is not None:
        assert report["fp32_groups"] == kept
    if chosen == "fp32":
        assert file == fp32
        assert len(report["fp32_groups"]) == MAX_GROUPS
        assert report["int8_drop_points"] > RULE * 100
        return
    assert report["largest_drop_points"] <= RULE * 100
    ops = _ops(file)
    assert all(ops[node] == "MatMul" for g in report["fp32_groups"] for node in groups[g])
    quantized = [n for g, nodes in groups.items() if g not in report["fp32_groups"] for n in nodes]
    assert all(ops[f"{n}_quant"] == "MatMulInteger" for n in quantized), ops
    # the file runs and stays close to fp32 (int8 noise only)
    got, ref = _sentiment(file), _sentiment(fp32)
    assert float(np.abs(got - ref).mean()) < 0.05 * float(np.abs(ref).mean())
    assert float((got.argmax(1) == ref.argmax(1)).mean()) >= 0.9
    if chosen == "int8-mixed":
        assert "drop_with_one_group_fp32" in report
        assert set(report["drop_with_one_group_fp32"]) == set(groups)
