"""Can a class bias on the sentiment logits meet the airline precision lines? A report, not an export step.

    python -m training.decision_bias src/tonewatch/score/model

The airline hold-out asks for positive and neutral precision >= 0.75 next to macro-F1 >= 0.78, and TweetEval
validation for macro-recall >= 0.72 with ECE <= 0.03. The bundled model calls too many airline messages
positive. The cheapest fix would be a per-class bias ``b`` at the calibration step, ``softmax(z / T + b)``
(neutral fixed at 0, so ``b`` is two numbers). This measures, on the validation sets only:

* **grid**: every bias on a 0.05 grid in [-1, 1]^2, and the one whose smallest margin over the five lines is
  largest (the in-sample best case);
* **cross-fitted**: the same choice made on TweetEval plus one random half of the airline hold-out and measured
  on the other half, both ways, for three splits: what the choice is worth on messages it did not see;
* **NLL**: temperature and bias fitted by likelihood (the principled calibration) on TweetEval, on the
  airline hold-out, and on both with equal weight.

The bundled model ships no bias: the in-sample margin is about zero, the cross-fitted positive precision
and macro-F1 land just under their lines, and no likelihood fit reaches 0.75 (``training/README.md``, "A class bias").
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from tonewatch.learn._calibration import sentiment_report
from training import data as D
from training.quantize import Sets, sentiment_logits, validation_sets

__all__ = ["LINES", "crossfit", "fit_nll", "grid_search", "margins", "report"]

# (set, figure, line, direction): +1 when the figure must be at least the line, -1 when at most
LINES: tuple[tuple[str, str, float, int], ...] = (
    ("tweeteval", "macro_recall", 0.72, 1),
    ("tweeteval", "ece", 0.03, -1),
    ("airline", "macro_f1", 0.78, 1),
    ("airline", "precision.positive", 0.75, 1),
    ("airline", "precision.neutral", 0.75, 1),
)
GRID = np.round(np.arange(-1.0, 1.0001, 0.05), 2)
Logits = dict[str, tuple[np.ndarray, np.ndarray]]


def report(logits: np.ndarray, y: np.ndarray, temperature: float, bias: tuple[float, float]) -> dict[str, Any]:
    """Sentiment figures with ``bias`` (negative, positive; neutral 0) added after the temperature."""
    b = np.array([bias[0], 0.0, bias[1]])
    return sentiment_report(np.asarray(logits) + temperature * b, y, temperature, D.SENTIMENT_LABELS)


def _figure(rep: dict[str, Any], name: str) -> float:
    head, _, tail = name.partition(".")
    return float(rep[head][tail] if tail else rep[head])


def margins(reports: dict[str, dict[str, Any]]) -> dict[str, float]:
    """How far each line is cleared (negative: missed)."""
    return {f"{s}.{f}": round(d * (_figure(reports[s], f) - line), 4) for s, f, line, d in LINES}


def grid_search(sets: Logits, temperature: float) -> tuple[tuple[float, float], float]:
    """The grid bias with the largest smallest margin, and that margin."""
    best, best_m = (0.0, 0.0), -np.inf
    for a in GRID:
        for b in GRID:
            bias = (float(a), float(b))
            m = min(margins({k: report(z, y, temperature, bias) for k, (z, y) in sets.items()}).values())
            if m > best_m:
                best, best_m = bias, m
    return best, float(best_m)


def crossfit(sets: Logits, temperature: float, seeds: int = 3) -> list[dict[str, Any]]:
    """Choose on TweetEval + half the airline hold-out, measure the other half (both ways, ``seeds`` splits)."""
    z, y = sets["airline"]
    out = []
    for seed in range(seeds):
        order = np.random.default_rng(seed).permutation(len(y))
        halves = (order[::2], order[1::2])
        for k in (0, 1):
            fit, held = halves[k], halves[1 - k]
            bias, _ = grid_search({"tweeteval": sets["tweeteval"], "airline": (z[fit], y[fit])}, temperature)
            chosen = report(z[held], y[held], temperature, bias)
            base = report(z[held], y[held], temperature, (0.0, 0.0))
            out.append({"seed": seed, "half": k, "bias": bias, "chosen": _brief(chosen), "none": _brief(base)})
    return out


def _brief(rep: dict[str, Any]) -> dict[str, float]:
    return {
        "macro_f1": rep["macro_f1"],
        "precision_positive": rep["precision"]["positive"],
        "precision_neutral": rep["precision"]["neutral"],
    }


def fit_nll(parts: list[tuple[np.ndarray, np.ndarray, float]]) -> tuple[float, tuple[float, float]]:
    """Temperature and bias by weighted negative log-likelihood (LBFGS), each part ``(logits, y, weight)``."""
    import torch

    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    data = [(torch.tensor(z, dtype=torch.float64), torch.tensor(y), w) for z, y, w in parts]
    opt = torch.optim.LBFGS([log_t, bias], max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        b = torch.stack([bias[0], torch.zeros((), dtype=torch.float64), bias[1]])
        loss = sum(w * torch.nn.functional.cross_entropy(z / log_t.exp() + b, y, reduction="sum") for z, y, w in data)
        assert isinstance(loss, torch.Tensor)
        loss.backward()  # type: ignore[no-untyped-call]
        return loss

    opt.step(closure)  # type: ignore[no-untyped-call]
    t, b = log_t.detach().exp().item(), bias.detach().tolist()
    return t, (b[0], b[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", type=Path, help="a model folder (manifest.json, model.onnx, tokenizer.json)")
    args = ap.parse_args()
    manifest = json.loads((args.model / "manifest.json").read_text(encoding="utf-8"))
    temperature = float(manifest["calibration"]["temperature"])
    raw: Sets = validation_sets()
    logits = sentiment_logits(args.model / "model.onnx", args.model / "tokenizer.json", raw)
    sets: Logits = {k: (logits[k], y) for k, (_, y) in raw.items()}

    def at(t: float, bias: tuple[float, float]) -> dict[str, Any]:
        reps = {k: report(z, y, t, bias) for k, (z, y) in sets.items()}
        return {"bias": [round(v, 3) for v in bias], "temperature": round(t, 4), "margins": margins(reps)}

    out: dict[str, Any] = {"none": at(temperature, (0.0, 0.0))}
    bias, _ = grid_search(sets, temperature)
    out["grid_best"] = at(temperature, bias)
    folds = crossfit(sets, temperature)
    out["crossfit"] = folds
    out["crossfit_mean"] = {
        side: {k: round(float(np.mean([f[side][k] for f in folds])), 4) for k in folds[0][side]}
        for side in ("chosen", "none")
    }
    (zt, yt), (za, ya) = sets["tweeteval"], sets["airline"]
    for name, parts in (
        ("nll_tweeteval", [(zt, yt, 1.0)]),
        ("nll_airline", [(za, ya, 1.0)]),
        ("nll_both_equal_weight", [(zt, yt, 1.0 / len(yt)), (za, ya, 1.0 / len(ya))]),
    ):
        t, b = fit_nll(parts)
        out[name] = at(t, b)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
