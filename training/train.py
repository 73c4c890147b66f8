"""Multi-task fine-tuning of MiniLM: one encoder, heads for sentiment, 28 GoEmotions and sarcasm.

One forward pass at run time gives every score, so the runtime stays fast. Run from the
repository root (needs the ``[train]`` extra)::

    python -m training.train --out training/runs/main --epochs 3

Progress goes to ``OUT/train.log``; the best checkpoint (by a validation composite) to
``OUT/best.pt``. See ``training/README.md`` for the full recipe. The model class is the
runtime package's (``tonewatch.learn._torch_model.MultiTask``), shared with ``tonewatch train``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from tonewatch.learn._calibration import softmax, sqrt_balanced_weights
from tonewatch.learn._torch_model import MultiTask, load_model_folder, pretrained_model
from tonewatch.learn._torch_model import pretrained_base_path as base_model_path
from tonewatch.score._model import read_manifest
from training import data as D
from training.metrics import binary_f1, goemotions_macro_f1, macro_f1, macro_recall
from training.spans import make_groups, single_sentences, span_batches, span_loss, span_metrics, val_pairs

__all__ = [
    "MultiTask",
    "base_model_path",
    "batches",
    "encode",
    "evaluate",
    "load_tokenizer",
    "pad",
    "predict",
    "rephrase_labels",
]


def load_tokenizer(path: Path) -> Any:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=128)
    return tok


def encode(tok: Any, texts: list[str]) -> list[list[int]]:
    return [e.ids for e in tok.encode_batch(texts)]


def batches(
    ids: list[list[int]], labels: list[Any], bs: int, rng: random.Random
) -> list[tuple[list[list[int]], list[Any]]]:
    """Length-grouped batches: shuffle, sort inside chunks of 50 batches, then shuffle batches."""
    idx = list(range(len(ids)))
    rng.shuffle(idx)
    out = []
    chunk = bs * 50
    for c in range(0, len(idx), chunk):
        part = sorted(idx[c : c + chunk], key=lambda i: len(ids[i]))
        for b in range(0, len(part), bs):
            sel = part[b : b + bs]
            out.append(([ids[i] for i in sel], [labels[i] for i in sel]))
    rng.shuffle(out)
    return out


def pad(seqs: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    n = max(len(s) for s in seqs)
    ids = torch.zeros((len(seqs), n), dtype=torch.long)
    mask = torch.zeros((len(seqs), n), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
        mask[i, : len(s)] = 1
    return ids, mask


@torch.inference_mode()
def predict(model: MultiTask, ids: list[list[int]], bs: int = 128) -> dict[str, np.ndarray]:
    model.eval()
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    outs: dict[str, list[np.ndarray]] = {"sentiment": [], "emotions": [], "sarcasm": [], "embedding": []}
    for b in range(0, len(order), bs):
        sel = order[b : b + bs]
        x, m = pad([ids[i] for i in sel])
        s, e, z, emb = model(x, m)
        for k, v in zip(outs, (s, e, z, emb), strict=True):
            outs[k].append(v.numpy())
    inv = np.argsort(order)
    return {k: np.concatenate(v)[inv] for k, v in outs.items()}


def evaluate(
    model: MultiTask, val: dict[str, tuple[list[list[int]], list[Any]]], pairs: dict[str, Any] | None = None
) -> dict[str, float]:
    res: dict[str, float] = {}
    for name, groups in (pairs or {}).items():  # sentences read in context (reported, not in the composite)
        res.update({f"{name}_{k}": v for k, v in span_metrics(model, groups).items()})
    p = predict(model, val["sentiment"][0])
    y = np.array(val["sentiment"][1])
    pred = p["sentiment"].argmax(1)
    res["sent_macro_recall"] = macro_recall(y, pred, 3)
    res["sent_acc"] = float((y == pred).mean())
    p = predict(model, val["airline"][0])
    y = np.array(val["airline"][1])
    res["airline_macro_f1"] = macro_f1(y, p["sentiment"].argmax(1), 3)
    p = predict(model, val["goemotions"][0])
    res["goemo_macro_f1@0.5"], res["goemo_macro_f1@tuned"] = goemotions_macro_f1(
        1 / (1 + np.exp(-p["emotions"])), val["goemotions"][1], len(D.GOEMOTIONS_LABELS)
    )
    p = predict(model, val["sarcasm"][0])
    y = np.array(val["sarcasm"][1])
    res["irony_f1"] = binary_f1(y, (p["sarcasm"] > 0).astype(int))
    res["composite"] = (
        res["sent_macro_recall"] + res["airline_macro_f1"] + res["goemo_macro_f1@tuned"] + 0.5 * res["irony_f1"]
    )
    return res


def rephrase_labels(model: MultiTask, tok: Any, min_probability: float) -> tuple[list[str], list[int]]:
    """Sarcastic tweets labelled with ``model``'s sentiment of their authors' plain rephrase.

    A sarcastic text means what its rephrase says ("I love it when professors draw a big question mark next
    to my answer" means "I do not like ..."), so the reading of the plain text is the target for the sarcastic
    one. Rephrases read with less than ``min_probability`` (softmax of the raw logits) are left out.
    """
    tweets, plain = D.sarcastic_rephrases()
    p = softmax(predict(model, encode(tok, plain))["sentiment"])
    keep = p.max(1) >= min_probability
    return [t for t, k in zip(tweets, keep, strict=True) if k], [int(c) for c in p.argmax(1)[keep]]


def _task_loss(
    model: MultiTask, task: str, xb: list[list[int]], yb: list[Any], losses: dict[str, nn.Module]
) -> torch.Tensor:
    """The loss of one single-task batch of whole texts (sentiment, GoEmotions or sarcasm)."""
    x, m = pad(xb)
    s, e, z, _ = model(x, m)
    if task == "sentiment":
        loss: torch.Tensor = losses["sentiment"](s, torch.tensor(yb))
    elif task == "goemotions":
        tgt = torch.zeros((len(yb), e.shape[-1]))
        for i, labs in enumerate(yb):
            tgt[i, labs] = 1.0
        loss = losses["goemotions"](e, tgt)
    else:
        loss = losses["sarcasm"](z, torch.tensor(yb, dtype=torch.float32))
    return loss


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--epochs", type=float, default=3.0)
    ap.add_argument("--lr", type=float, default=8e-5)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--eval-every", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--limit", type=int, default=0, help="smoke test: use only N examples per task")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--airline-repeat", type=int, default=2, help="oversample the customer-service domain")
    ap.add_argument("--init", type=Path, default=None, help="start from a checkpoint (e.g. continue training)")
    ap.add_argument(
        "--init-model",
        type=Path,
        default=None,
        help="start from an exported model folder (weights recovered from its model.onnx, e.g. the bundled model)",
    )
    ap.add_argument(
        "--max-steps", type=int, default=0, help="stop after this many steps (the schedule still spans --epochs)"
    )
    ap.add_argument(
        "--emotion-pos-weight",
        type=float,
        default=0.0,
        help="weight each GoEmotions label's positives by (negatives/positives)**P (0: unweighted); rare labels "
        "count for as much as common ones in macro-F1",
    )
    ap.add_argument(
        "--span-groups",
        type=int,
        default=0,
        help="per epoch, this many texts composed of 2-3 labelled sentences, each sentence scored from its pooled "
        "tokens in context (training/spans.py); 0: off",
    )
    ap.add_argument(
        "--sarcasm-rephrase",
        type=int,
        default=0,
        help="add iSarcasmEval's sarcastic tweets to the sentiment task this many times, each labelled with the "
        "starting model's reading of its author's plain rephrase (kept where that reading's probability >= "
        "--rephrase-min); 0: off",
    )
    ap.add_argument("--rephrase-min", type=float, default=0.6)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    log_fh = (args.out / "train.log").open("a", buffering=1)

    def log(msg: str, **kv: Any) -> None:
        line = time.strftime("%H:%M:%S ") + msg + (" " + json.dumps(kv) if kv else "")
        print(line, flush=True)
        log_fh.write(line + "\n")

    bp = base_model_path()
    tok = load_tokenizer(bp)
    if args.init_model:
        model = load_model_folder(args.init_model, read_manifest(args.init_model))
    else:
        model = pretrained_model(len(D.GOEMOTIONS_LABELS))
    if args.init:
        model.load_state_dict(torch.load(args.init, map_location="cpu"))

    log("loading data")
    s_tr, s_va = D.tweeteval_sentiment()
    a_tr, a_ho = D.airline()
    g_tr, g_dev = D.goemotions()
    z_tr, z_va = D.sarcasm()
    if args.limit:
        for sp in (s_tr, a_tr, g_tr, z_tr, s_va, a_ho, g_dev, z_va):
            del sp.texts[args.limit :], sp.labels[args.limit :]
    sent_texts = s_tr.texts + a_tr.texts * args.airline_repeat
    sent_labels = s_tr.labels + a_tr.labels * args.airline_repeat
    if args.sarcasm_rephrase:
        meant_texts, meant_labels = rephrase_labels(model, tok, args.rephrase_min)
        log(
            "sarcastic tweets labelled by their rephrase",
            n=len(meant_labels),
            counts=np.bincount(np.array(meant_labels, dtype=int), minlength=3).tolist(),
        )
        sent_texts += meant_texts * args.sarcasm_rephrase
        sent_labels += meant_labels * args.sarcasm_rephrase
    train = {
        "sentiment": (encode(tok, sent_texts), sent_labels),
        "goemotions": (encode(tok, g_tr.texts), g_tr.labels),
        "sarcasm": (encode(tok, z_tr.texts), z_tr.labels),
    }
    val = {
        "sentiment": (encode(tok, s_va.texts), s_va.labels),
        "airline": (encode(tok, a_ho.texts), a_ho.labels),
        "goemotions": (encode(tok, g_dev.texts), g_dev.labels),
        "sarcasm": (encode(tok, z_va.texts), z_va.labels),
    }
    log("data", **{k: len(v[0]) for k, v in train.items()}, **{"val_" + k: len(v[0]) for k, v in val.items()})
    span_pool_items = single_sentences(s_tr) + single_sentences(a_tr) * args.airline_repeat
    sarcasm_items = single_sentences(z_tr)
    pairs = {
        "tweeteval_pairs": val_pairs(tok, single_sentences(s_va)),
        "airline_pairs": val_pairs(tok, single_sentences(a_ho)),
    }

    cw = sqrt_balanced_weights(sent_labels)
    sent_loss = nn.CrossEntropyLoss(weight=torch.tensor(cw, dtype=torch.float32))
    bce = nn.BCEWithLogitsLoss()
    n_emo = len(D.GOEMOTIONS_LABELS)
    positives = np.zeros(n_emo)
    for labs in g_tr.labels:
        positives[labs] += 1
    pos_weight = ((len(g_tr.labels) - positives) / np.maximum(positives, 1)) ** args.emotion_pos_weight
    emo_bce = nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pos_weight, dtype=torch.float32))
    log("emotion positive weights", min=round(float(pos_weight.min()), 2), max=round(float(pos_weight.max()), 2))
    log("class weights", weights=[round(float(w), 3) for w in cw])
    losses: dict[str, nn.Module] = {"sentiment": sent_loss, "goemotions": emo_bce, "sarcasm": bce}

    steps_per_epoch = sum(math.ceil(len(v[0]) / args.batch_size) for v in train.values())
    steps_per_epoch += math.ceil(args.span_groups / args.batch_size)
    total = int(steps_per_epoch * args.epochs)
    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters() if not any(k in n for k in no_decay)], "weight_decay": 0.01},
        {"params": [p for n, p in model.named_parameters() if any(k in n for k in no_decay)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=args.lr)
    warm = int(0.06 * total)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / max(1, warm), max(0.0, (total - s) / max(1, total - warm)))
    )
    log("schedule", steps_per_epoch=steps_per_epoch, total_steps=total)

    best = -1.0
    step = 0
    t0 = time.time()
    running: dict[str, list[float]] = {k: [] for k in (*train, "spans")}
    epoch = 0
    stop_at = min(total, args.max_steps) if args.max_steps else total
    while step < stop_at:
        plan: list[tuple[str, Any]] = []
        for task, (ids, labels) in train.items():
            plan += [(task, b) for b in batches(ids, labels, args.batch_size, rng)]
        if args.span_groups:
            composed = make_groups(tok, span_pool_items, sarcasm_items, args.span_groups, rng)
            plan += [("spans", (b, [])) for b in span_batches(composed, args.batch_size, rng)]
        rng.shuffle(plan)
        for task, (xb, yb) in plan:
            if step >= stop_at:
                break
            model.train()
            loss = span_loss(model, xb, sent_loss, bce) if task == "spans" else _task_loss(model, task, xb, yb, losses)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            running[task].append(float(loss.detach()))
            step += 1
            if step % 100 == 0:
                el = time.time() - t0
                log(
                    f"step {step}/{total}",
                    epoch=epoch,
                    s_per_step=round(el / step, 3),
                    eta_min=round(el / step * (total - step) / 60, 1),
                    **{k: round(float(np.mean(v[-100:])), 4) for k, v in running.items() if v},
                )
            if step % args.eval_every == 0 or step == stop_at:
                res = evaluate(model, val, pairs)
                log(f"eval step {step}", **{k: round(v, 4) for k, v in res.items()})
                if res["composite"] > best:
                    best = res["composite"]
                    torch.save(model.state_dict(), args.out / "best.pt")
                    (args.out / "best.json").write_text(json.dumps({"step": step, **res}, indent=2))
                    log("saved best", composite=round(best, 4))
        epoch += 1
    torch.save(model.state_dict(), args.out / "last.pt")
    log("done", minutes=round((time.time() - t0) / 60, 1))


if __name__ == "__main__":
    main()
