"""The multilingual layer's second reader: a logistic model on hashed character n-grams.

Character 2-5-grams catch what a subword encoder reads poorly in short, noisy tweets
(romanised Hindi, elongations, hashtags); fused with the encoder's log-probabilities they add
about 2-3 points of macro-F1 on UMSAB validation. Features are computed by the runtime's own
``char_features`` (so training and serving cannot drift); idf comes from the training texts
(min df 2); the L2 strength is chosen on validation.

    python -m training.char_ngrams   # writes training/cache/e5/char.npz
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from training.multilingual_e5 import CACHE, LANGUAGES, load_umsab, macro_f1


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class CharFeatures:
    """Hashed character n-grams as an EmbeddingBag input; idf from the training texts (min df 2)."""

    def __init__(self, train_texts: list[str]) -> None:
        from tonewatch.score._multilingual import CHAR_BUCKETS, char_features

        self.features = char_features
        self.train = [char_features(t) for t in train_texts]
        df = np.zeros(CHAR_BUCKETS, dtype=np.float64)
        for f in self.train:
            df[list(f)] += 1
        n = len(self.train)
        self.idf = np.where(df >= 2, np.log((1 + n) / (1 + df)) + 1, 0.0).astype(np.float16).astype(np.float32)

    def bag(self, feats: list[dict[int, float]]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        idx: list[int] = []
        val: list[float] = []
        offsets = []
        for f in feats:
            offsets.append(len(idx))
            b = np.fromiter(f, dtype=np.int64, count=len(f))
            v = np.fromiter(f.values(), dtype=np.float32, count=len(f)) * self.idf[b]
            v /= max(float(np.linalg.norm(v)), 1e-12)
            idx += b.tolist()
            val += v.tolist()
        return torch.tensor(idx), torch.tensor(offsets), torch.tensor(val, dtype=torch.float32)


def fit_linear(logits_of: Any, params: list[torch.Tensor], y: np.ndarray, l2: float, iters: int = 150) -> list[Any]:
    """Full-batch L-BFGS for a multinomial logistic regression: mean cross-entropy + l2/2 |W|^2."""
    target = torch.from_numpy(y)
    opt = torch.optim.LBFGS(params, lr=1.0, max_iter=iters, history_size=20, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = F.cross_entropy(logits_of(), target) + 0.5 * l2 * (params[0] ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return [p.detach() for p in params]


def train_char() -> dict[str, Any]:
    """Fit on UMSAB train (8 languages), pick C on UMSAB validation; returns W, b, idf, C, figures."""
    from tonewatch.score._multilingual import CHAR_BUCKETS

    train, val = load_umsab("train"), load_umsab("val")
    cf = CharFeatures([t for lang in LANGUAGES for t in train[lang][0]])
    y = np.concatenate([train[lang][1] for lang in LANGUAGES])
    idx, off, vals = cf.bag(cf.train)
    vbags = {lang: cf.bag([cf.features(t) for t in val[lang][0]]) for lang in LANGUAGES}
    best: dict[str, Any] = {"avg": -1.0}
    for c in (1.0, 2.0):
        bag = nn.EmbeddingBag(CHAR_BUCKETS, 3, mode="sum")
        nn.init.zeros_(bag.weight)
        b = torch.zeros(3, requires_grad=True)
        W, b = fit_linear(
            lambda bag=bag, b=b: bag(idx, off, per_sample_weights=vals) + b, [bag.weight, b], y, 1.0 / (c * len(y))
        )
        with torch.no_grad():
            f1 = {
                lang: macro_f1(
                    val[lang][1], (F.embedding_bag(i, W, o, mode="sum", per_sample_weights=v) + b).numpy().argmax(1)
                )
                for lang, (i, o, v) in vbags.items()
            }
        avg = float(np.mean(list(f1.values())))
        _log(f"char n-gram logistic C={c}: avg {avg:.3f} " + " ".join(f"{k[:2]} {v:.3f}" for k, v in f1.items()))
        if avg > best["avg"]:
            best = {"avg": avg, "f1": f1, "C": c, "W": W.numpy(), "b": b.numpy(), "idf": cf.idf}
    return best


def main() -> None:
    best = train_char()
    path: Path = CACHE / "char.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, W=best["W"], b=best["b"], idf=best["idf"], C=best["C"])
    _log(f"wrote {path} (C={best['C']}, avg macro-F1 {best['avg']:.3f})")


if __name__ == "__main__":
    main()
