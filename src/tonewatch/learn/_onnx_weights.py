"""Recover the torch weights of an exported multi-task model from its ONNX file (fp32 or int8).

Only the ONNX file of a shipped or registered model is kept, so fine-tuning starts from it:
named fp32 initializers keep their torch names (``m.encoder...LayerNorm.weight``, biases,
embeddings), while every Linear weight became an anonymous ``MatMul`` initializer, or with
int8 dynamic quantisation a ``MatMulInteger`` weight (``*_quantized`` + ``_scale`` +
``_zero_point``) followed by ``Cast -> Mul(scale) -> Add(bias)``. Each such weight is named
after the bias its output is added to, dequantised ``(q - zero_point) * scale`` and
transposed back to torch's ``[out, in]`` layout.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tonewatch._errors import ModelError, require_extra

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["WRAPPER_PREFIX", "dequantize", "recover_state_dict"]

# The export wrapper holds the model as ``self.m``: torch names are the initializer names without it.
WRAPPER_PREFIX = "m."
_QUANTIZED = "_quantized"
_PASS_THROUGH = ("Cast", "Mul")  # ops between a (quantized) MatMul and its bias Add
_MAX_HOPS = 4


def dequantize(q: NDArray[Any], scale: NDArray[Any], zero_point: NDArray[Any]) -> NDArray[np.float32]:
    """``(q - zero_point) * scale``; per-tensor or per-channel (the channel axis is the one the scale fits)."""
    qf = q.astype(np.float32)
    zp = zero_point.astype(np.float32)
    sc = scale.astype(np.float32)
    if sc.ndim == 1 and sc.size > 1 and qf.ndim == 2 and sc.size != qf.shape[-1]:
        if sc.size != qf.shape[0]:
            raise ModelError(f"a quantisation scale of {sc.size} values fits no axis of a {qf.shape} weight")
        return ((qf - zp[:, None]) * sc[:, None]).astype(np.float32)
    return ((qf - zp) * sc).astype(np.float32)


def _torch_name(name: str) -> str:
    return name[len(WRAPPER_PREFIX) :] if name.startswith(WRAPPER_PREFIX) else name


def _bias_after(node: Any, consumers: dict[str, list[Any]], arrays: dict[str, NDArray[Any]]) -> str | None:
    """Name of the bias initializer added to ``node``'s output, following Cast/Mul; None if there is none."""
    tensor = node.output[0]
    for _ in range(_MAX_HOPS):
        nxt = consumers.get(tensor, [])
        if len(nxt) != 1:
            return None
        op = nxt[0]
        if op.op_type == "Add":
            other = [x for x in op.input if x != tensor]
            if len(other) == 1 and other[0] in arrays and other[0].endswith(".bias"):
                return str(other[0])
            return None
        if op.op_type not in _PASS_THROUGH:
            return None
        tensor = op.output[0]
    return None


def _quantized_weight(name: str, arrays: dict[str, NDArray[Any]]) -> NDArray[np.float32]:
    if not name.endswith(_QUANTIZED):
        raise ModelError(f"quantized weight {name} does not follow the <name>_quantized convention")
    stem = name[: -len(_QUANTIZED)]
    try:
        return dequantize(arrays[name], arrays[f"{stem}_scale"], arrays[f"{stem}_zero_point"])
    except KeyError as exc:
        raise ModelError(f"quantized weight {name} has no scale or zero point ({exc})") from exc


def recover_state_dict(onnx_path: Path) -> dict[str, NDArray[np.float32]]:
    """Torch ``state_dict`` arrays (names without the wrapper prefix) of an exported multi-task model."""
    onnx: Any = require_extra("onnx", "train", "Recovering model weights from ONNX")
    numpy_helper: Any = require_extra("onnx.numpy_helper", "train", "Recovering model weights from ONNX")
    try:
        graph = onnx.load(str(onnx_path)).graph
    except Exception as exc:  # onnx raises its own decode errors
        raise ModelError(f"cannot read the ONNX model {onnx_path}: {exc}") from exc
    arrays: dict[str, NDArray[Any]] = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    for node in graph.node:  # the exporter shares identical tensors (e.g. fresh zero biases) through Identity
        if node.op_type == "Identity" and node.input[0] in arrays:
            arrays.setdefault(node.output[0], arrays[node.input[0]])
    consumers: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)

    state: dict[str, NDArray[np.float32]] = {}
    for node in graph.node:
        if node.op_type in ("MatMul", "MatMulInteger") and len(node.input) >= 2 and node.input[1] in arrays:
            bias = _bias_after(node, consumers, arrays)
            if bias is None:
                continue
            w = node.input[1]
            weight = _quantized_weight(w, arrays) if node.op_type == "MatMulInteger" else arrays[w].astype(np.float32)
            state[_torch_name(bias[: -len(".bias")] + ".weight")] = np.ascontiguousarray(weight.T)
        elif node.op_type == "Gemm" and len(node.input) == 3 and node.input[1] in arrays:
            trans_b = any(a.name == "transB" and a.i == 1 for a in node.attribute)
            weight = arrays[node.input[1]].astype(np.float32)
            bias = node.input[2]
            state[_torch_name(bias[: -len(".bias")] + ".weight")] = np.ascontiguousarray(
                weight if trans_b else weight.T
            )
    for name, value in arrays.items():
        if not name.startswith(WRAPPER_PREFIX):
            continue
        if name.endswith(_QUANTIZED):
            stem = name[: -len(_QUANTIZED)]
            if stem.endswith("_Transposed"):
                continue  # a head's MatMulInteger weight, already named after its bias above
            state.setdefault(_torch_name(stem), _quantized_weight(name, arrays))
        elif value.dtype == np.float32 and not name.endswith(("_scale", "_zero_point")):
            state.setdefault(_torch_name(name), value.astype(np.float32))
    if not state:
        raise ModelError(f"{onnx_path} holds no weights named like an exported multi-task model")
    return state
