"""Do the bundled encoder's features allow the airline precision lines at all? A report, not an export step.

    python -m training.head_probe src/tonewatch/score/model [--checkpoint RUN.pt --alpha 0.5 1.0]

The class-bias report (``training/decision_bias.py``) moves the decision between classes; this one asks
whether a different *head* on the same features, or a different encoder from a short continuation, would
separate the airline hold-out better. On the validation sets only, it measures:

* **refit**: the sentiment head fitted again on the frozen span-0 embeddings of the training sets
  (TweetEval train + the airline training part, the airline rows weighted 2, 4 or 8), linear as shipped
  or with one hidden layer, temperature fitted on TweetEval validation;
* **label convention**: how the airline sets label short thank-you tweets (up to four words), the largest
  group of false positives;
* **checkpoints** (``--checkpoint``, needs the checkpoint's run to have started from this model): the
  checkpoint's weights averaged with the model's at each ``--alpha`` (1.0 = the checkpoint alone, 0.0 = the
  model's own weights in fp32).

Margins use the lines of the class-bias report (negative: missed). The refits see the training sets'
embeddings from an encoder that was fine-tuned on those very texts, so they fit slightly overconfident
features; the shipped head was trained the same way. Run on 1.2.0, no refit and no continuation clears
positive precision (``training/README.md``, "Other heads, a longer airline run, sarcasm read through its
rephrase").
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tonewatch.learn._calibration import fit_temperature, sentiment_report, sqrt_balanced_weights
from tonewatch.learn._export import SpanRunner
from training import data as D
from training.decision_bias import margins

__all__ = ["Head", "embed", "fit_head", "label_convention", "measure"]

Head = Callable[[np.ndarray], np.ndarray]
SHORT_THANKS = re.compile(r"\bthanks?\b|\bthank you\b", re.IGNORECASE)


def embed(runner: SpanRunner, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Span-0 (whole text) embeddings and sentiment logits, as the runtime computes them."""
    out = runner.run(texts, embeddings=True)
    assert out.embedding is not None
    return out.embedding, out.sentiment


def fit_head(
    x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    hidden: int = 0,
    epochs: int = 10,
    lr: float = 3e-3,
    seed: int = 0,
) -> Head:
    """A sentiment head (linear, or one GELU layer of ``hidden``) fitted by weighted cross-entropy.

    Classes are weighted as in ``training/train.py`` (:func:`sqrt_balanced_weights`).
    """
    import torch
    from torch import nn

    torch.manual_seed(seed)
    d = x.shape[1]
    layers: list[Any] = [nn.Dropout(0.1)]
    layers += [nn.Linear(d, hidden), nn.GELU(), nn.Dropout(0.1), nn.Linear(hidden, 3)] if hidden else [nn.Linear(d, 3)]
    model = nn.Sequential(*layers)
    cw_t = torch.tensor(sqrt_balanced_weights(y), dtype=torch.float32)
    xt, yt = torch.tensor(x), torch.tensor(y, dtype=torch.long)
    wt = torch.ones(len(y)) if weights is None else torch.tensor(weights, dtype=torch.float32)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(len(y))
        for a in range(0, len(y), 256):
            i = perm[a : a + 256]
            loss = nn.functional.cross_entropy(model(xt[i]), yt[i], weight=cw_t, reduction="none")
            loss = (loss * wt[i]).sum() / wt[i].sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()

    def head(e: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            out: np.ndarray = model(torch.tensor(e)).numpy()
        return out

    return head


def measure(
    tweeteval: tuple[np.ndarray, np.ndarray], airline: tuple[np.ndarray, np.ndarray], temperature: float | None = None
) -> dict[str, Any]:
    """The lines' margins and the airline figures (temperature fitted on TweetEval validation unless given)."""
    t = fit_temperature(*tweeteval) if temperature is None else temperature
    reps = {
        name: sentiment_report(z, y, t, D.SENTIMENT_LABELS)
        for name, (z, y) in (("tweeteval", tweeteval), ("airline", airline))
    }
    air = reps["airline"]
    brief = {"macro_f1": air["macro_f1"], **{f"precision.{k}": v for k, v in air["precision"].items()}}
    return {"temperature": round(t, 4), "margins": margins(reps), "airline": brief}


def label_convention(texts: Sequence[str], labels: Sequence[object], max_words: int = 4) -> dict[str, int]:
    """Label counts of short thank-you texts (handles not counted as words)."""
    out = dict.fromkeys(D.SENTIMENT_LABELS, 0)
    for text, label in zip(texts, labels, strict=True):
        words = text.replace("@user", " ").split()
        if SHORT_THANKS.search(text) and len(words) <= max_words:
            out[D.SENTIMENT_LABELS[int(label)]] += 1  # type: ignore[call-overload]
    return out


def _checkpoint_logits(model_dir: Path, checkpoint: Path, alpha: float, sets: dict[str, list[str]]) -> dict[str, Any]:
    """Sentiment logits of the model's weights averaged with a checkpoint's (torch, fp32)."""
    import torch

    from tonewatch.learn._torch_model import load_model_folder, pretrained_base_path
    from tonewatch.score._model import read_manifest
    from training.train import encode, load_tokenizer, predict

    model = load_model_folder(model_dir, read_manifest(model_dir))
    base = model.state_dict()
    other = torch.load(checkpoint, map_location="cpu")
    model.load_state_dict(
        {k: (1 - alpha) * v.float() + alpha * other[k].float() if v.is_floating_point() else v for k, v in base.items()}
    )
    tok = load_tokenizer(pretrained_base_path())
    return {name: predict(model, encode(tok, texts))["sentiment"] for name, texts in sets.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", type=Path, help="a model folder (manifest.json, model.onnx, tokenizer.json)")
    ap.add_argument("--checkpoint", type=Path, default=None, help="a training run's checkpoint from this model")
    ap.add_argument("--alpha", type=float, nargs="*", default=[0.5, 1.0], help="checkpoint weights to measure")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(2)
    runner = SpanRunner(args.model / "model.onnx", args.model / "tokenizer.json")
    te_tr, te_va = D.tweeteval_sentiment()
    a_tr, a_ho = D.airline()
    e = {
        name: embed(runner, sp.texts)
        for name, sp in (("te_tr", te_tr), ("te_va", te_va), ("a_tr", a_tr), ("a_ho", a_ho))
    }
    y = {name: np.array(sp.labels) for name, sp in (("te_tr", te_tr), ("te_va", te_va), ("a_tr", a_tr), ("a_ho", a_ho))}

    def on_validation(head: Head) -> dict[str, Any]:
        return measure((head(e["te_va"][0]), y["te_va"]), (head(e["a_ho"][0]), y["a_ho"]))

    shipped_t = float(
        json.loads((args.model / "manifest.json").read_text(encoding="utf-8"))["calibration"]["temperature"]
    )
    out: dict[str, Any] = {"shipped": measure((e["te_va"][1], y["te_va"]), (e["a_ho"][1], y["a_ho"]), shipped_t)}
    x_tr = np.concatenate([e["te_tr"][0], e["a_tr"][0]])
    y_tr = np.concatenate([y["te_tr"], y["a_tr"]])
    for weight in (2, 4, 8):
        w = np.concatenate([np.ones(len(y["te_tr"])), np.full(len(y["a_tr"]), float(weight))])
        for hidden in (0, 256):
            out[f"refit_airline_x{weight}_hidden{hidden}"] = on_validation(fit_head(x_tr, y_tr, w, hidden=hidden))
    out["short_thanks"] = {
        "train": label_convention(a_tr.texts, a_tr.labels),
        "holdout": label_convention(a_ho.texts, a_ho.labels),
    }
    if args.checkpoint:
        sets = {"tweeteval": te_va.texts, "airline": a_ho.texts}
        for alpha in args.alpha:
            z = _checkpoint_logits(args.model, args.checkpoint, alpha, sets)
            out[f"checkpoint_alpha{alpha}"] = measure((z["tweeteval"], y["te_va"]), (z["airline"], y["a_ho"]))
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
