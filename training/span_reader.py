"""Train the span reader: sentences pooled in their message's context, read as if they were alone.

    python -m training.span_reader --model src/tonewatch/score/model --out training/runs/reader

The encoder and heads of ``--model`` stay frozen, so whole-text results do not move. On texts
composed of two or three single-sentence training texts (``training/spans.py``), each sentence's
mean token states of every encoder layer, from the composed text's one forward pass, are the
input; the target is what the same model gives that sentence read alone ([CLS] sentence [SEP]):
its pooled embedding (mean squared error) and its sentiment and sarcasm outputs (distillation).
No labels are used, and no validation text: the validation pairs are only reported.

Writes ``OUT/base.pt`` (the frozen model's weights, as ``training.export --checkpoint`` takes
them), ``OUT/reader.pt`` (the reader's settings and weights, for ``--span-reader``) and
``OUT/train.log``. About 20 minutes on 2 cores, most of it reading the 60,000 composed texts
(kept in ``OUT/features.npz``, so a second run that changes only the training takes a few minutes).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tonewatch.learn._calibration import softmax
from tonewatch.learn._torch_model import MultiTask, SpanReader, load_model_folder, span_pool
from tonewatch.score._model import BUNDLED_MODEL_DIR, read_manifest
from training import data as D
from training.spans import SpanGroup, _arrays, _pair_figures, make_groups, single_sentences, val_pairs

__all__ = ["load_reader", "read_groups", "train_reader"]

LAYERS = (0, 1, 2, 3, 4, 5, 6)
_FIELDS = ("features", "embedding", "sentiment", "sarcasm")


@torch.inference_mode()
def read_groups(
    model: MultiTask, groups: Sequence[SpanGroup], layers: Sequence[int], log: Callable[[str], None]
) -> dict[str, np.ndarray]:
    """Per sentence: its span means of ``layers`` in context (fp16) and, read alone, embedding and logits."""
    model.eval()
    n_spans = sum(len(g.spans) for g in groups)
    hidden = int(model.sentiment.in_features)
    feats = np.zeros((n_spans, len(layers) * hidden), dtype=np.float16)
    first = np.cumsum([0] + [len(g.spans) for g in groups])
    order = sorted(range(len(groups)), key=lambda i: len(groups[i].ids))
    t0 = time.time()
    for b in range(0, len(order), 64):
        sel = order[b : b + 64]
        ids, mask, span_mask = _arrays([(groups[i].ids, groups[i].spans) for i in sel])
        out = model.encoder(
            input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask), output_hidden_states=True
        )
        sm = torch.from_numpy(span_mask)
        x = torch.cat([span_pool(out.hidden_states[k], sm) for k in layers], -1).half().numpy()
        for row, i in enumerate(sel):
            k = len(groups[i].spans)
            feats[first[i] : first[i] + k] = x[row, :k]
        if b % 6400 == 0:
            log(f"read in context: {b}/{len(groups)} texts, {time.time() - t0:.0f} s")
    alone = [[g.ids[0], *g.ids[a:c], g.ids[-1]] for g in groups for a, c in g.spans]
    emb = np.zeros((n_spans, hidden), dtype=np.float16)
    sent = np.zeros((n_spans, 3), dtype=np.float32)
    sarc = np.zeros(n_spans, dtype=np.float32)
    order = sorted(range(n_spans), key=lambda i: len(alone[i]))
    for b in range(0, n_spans, 128):
        sel = order[b : b + 128]
        ids, mask, _ = _arrays([(alone[i], [(0, 1)]) for i in sel])
        e = model.pooled(torch.from_numpy(ids), torch.from_numpy(mask))
        s, _, z = model.heads(e)
        emb[sel], sent[sel], sarc[sel] = e.half().numpy(), s.numpy(), z.numpy()
    log(f"read {n_spans} sentences alone, {time.time() - t0:.0f} s in all")
    return {"features": feats, "embedding": emb, "sentiment": sent, "sarcasm": sarc}


def train_reader(
    model: MultiTask,
    data: dict[str, np.ndarray],
    layers: Sequence[int],
    width: int,
    epochs: int,
    seed: int,
    log: Callable[[str], None],
    report: Callable[[SpanReader], str] | None = None,
    average_last: int = 0,
) -> SpanReader:
    """Fit a :class:`SpanReader` to the alone readings (embedding MSE + sentiment KL + 0.3 sarcasm BCE).

    ``average_last`` > 0 keeps the mean of the weights after each of the last that many epochs: single epochs'
    readings of the validation pairs move by a point or more from one epoch to the next, the mean does less.
    """
    torch.manual_seed(seed)
    hidden = int(model.sentiment.in_features)
    x = torch.from_numpy(data["features"].astype(np.float32))
    target = torch.from_numpy(data["embedding"].astype(np.float32))
    teacher_s = torch.softmax(torch.from_numpy(data["sentiment"]), -1)
    teacher_z = torch.sigmoid(torch.from_numpy(data["sarcasm"]))
    mean, std = x.mean(0), x.std(0) + 1e-4
    last = slice((len(layers) - 1) * hidden, len(layers) * hidden)
    encoder: Any = model.encoder
    if layers[-1] != int(encoder.config.num_hidden_layers):
        raise ValueError("the last of --layers must be the encoder's last layer (the reading's residual)")
    reader = SpanReader(hidden, tuple(layers), width)
    reader.standardise(mean, std)  # the reader takes raw features, in training as in the exported graph
    ws, bs = model.sentiment.weight.detach(), model.sentiment.bias.detach()
    wz, bz = model.sarcasm.weight.detach(), model.sarcasm.bias.detach()
    opt = torch.optim.AdamW(reader.parameters(), 1e-3, weight_decay=1e-4)
    n, bsz = len(x), 256
    kept: list[dict[str, torch.Tensor]] = []
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 1e-3, total_steps=epochs * ((n + bsz - 1) // bsz))
    for epoch in range(epochs):
        reader.train()
        perm, total = torch.randperm(n), 0.0
        for b in range(0, n, bsz):
            i = perm[b : b + bsz]
            raw = x[i]
            e = reader(raw, raw[:, last])
            kl = torch.nn.functional.kl_div(torch.log_softmax(e @ ws.T + bs, -1), teacher_s[i], reduction="batchmean")
            bce = torch.nn.functional.binary_cross_entropy_with_logits((e @ wz.T + bz).squeeze(-1), teacher_z[i])
            loss = ((e - target[i]) ** 2).mean() + kl + 0.3 * bce
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach())
        line = f"epoch {epoch + 1}/{epochs} loss {total / ((n + bsz - 1) // bsz):.4f}"
        if report is not None:
            line += " " + report(reader)
        log(line)
        if epoch >= epochs - average_last:
            kept.append({k: v.detach().clone() for k, v in reader.state_dict().items()})
    if kept:
        reader.load_state_dict({k: torch.stack([w[k] for w in kept]).mean(0) for k in kept[0]})
        if report is not None:
            log(f"mean of the last {len(kept)} epochs: {report(reader)}")
    reader.eval()
    return reader


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, default=BUNDLED_MODEL_DIR, help="model folder whose encoder stays frozen")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--groups", type=int, default=60000, help="composed training texts")
    ap.add_argument("--airline-repeat", type=int, default=3)
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--epochs", type=int, default=16)
    ap.add_argument("--average-last", type=int, default=6, help="average the weights of the last N epochs")
    ap.add_argument("--layers", default=",".join(map(str, LAYERS)))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    logfile = (args.out / "train.log").open("a", encoding="utf-8")

    def log(msg: str) -> None:
        line = f"{time.strftime('%H:%M:%S')} {msg}"
        print(line, flush=True)
        logfile.write(line + "\n")
        logfile.flush()

    torch.set_num_threads(args.threads)
    layers = [int(v) for v in args.layers.split(",")]
    manifest = read_manifest(args.model)
    model = load_model_folder(args.model, manifest)
    model.span_reader = None
    torch.save(model.state_dict(), args.out / "base.pt")
    log(f"base {manifest['version']} from {args.model}: {json.dumps(vars(args), default=str)}")

    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(args.model / "tokenizer.json"))
    tok.no_padding()
    s_tr, s_va = D.tweeteval_sentiment()
    a_tr, a_va = D.airline()
    z_tr, _ = D.sarcasm()
    rng = random.Random(args.seed)
    pool = single_sentences(s_tr) + single_sentences(a_tr) * args.airline_repeat
    groups = make_groups(tok, pool, single_sentences(z_tr), args.groups, rng)
    temperature = float(manifest["calibration"]["temperature"])
    checks = {
        "tweeteval": val_pairs(tok, single_sentences(s_va), n=2000),
        "airline": val_pairs(tok, single_sentences(a_va), n=2000),
    }
    # reading the composed texts is most of the time: kept in OUT, so changing only the training reuses it
    key = json.dumps([manifest["files"], args.groups, args.airline_repeat, args.seed, layers])
    cache = args.out / "features.npz"
    if cache.is_file() and str(np.load(cache)["key"]) == key:
        saved = np.load(cache)
        data = {k: saved[f"train_{k}"] for k in _FIELDS}
        val = {name: {k: saved[f"{name}_{k}"] for k in _FIELDS} for name in checks}
        log(f"features from {cache}")
    else:
        data = read_groups(model, groups, layers, log)
        val = {name: read_groups(model, pairs, layers, lambda _m: None) for name, pairs in checks.items()}
        flat = {f"train_{k}": v for k, v in data.items()}
        flat.update({f"{name}_{k}": v for name, d in val.items() for k, v in d.items()})
        np.savez(cache, key=np.array(key), **flat)

    def report(reader: SpanReader) -> str:
        """Validation pairs, in context / alone (sentence macro-recall, mixed found), for the log only."""
        reader.eval()
        out = []
        with torch.no_grad():
            for name, d in val.items():
                x = torch.from_numpy(d["features"].astype(np.float32))
                e = reader(x, x[:, -model.sentiment.in_features :])
                y = np.array([g.labels for g in checks[name]])
                ctx = _pair_figures(softmax((model.sentiment(e)).numpy() / temperature).reshape(-1, 2, 3), y)
                alone = _pair_figures(softmax(d["sentiment"] / temperature).reshape(-1, 2, 3), y)
                out.append(
                    f"{name} recall {ctx['sentence_macro_recall']:.3f}/{alone['sentence_macro_recall']:.3f} "
                    f"mixed {ctx['mixed_recall']:.3f}/{alone['mixed_recall']:.3f}"
                )
        return "; ".join(out)

    reader = train_reader(model, data, layers, args.width, args.epochs, args.seed, log, report, args.average_last)
    torch.save({"config": reader.config, "state": reader.state_dict()}, args.out / "reader.pt")
    log(f"wrote {args.out / 'reader.pt'} ({reader.config})")


def load_reader(path: Path, hidden: int) -> SpanReader:
    """The reader ``main`` saved, ready to attach to its base model (``model.span_reader = ...``)."""
    saved: dict[str, Any] = torch.load(path, map_location="cpu")
    reader = SpanReader(hidden, tuple(saved["config"]["layers"]), int(saved["config"]["width"]))
    reader.load_state_dict(saved["state"])
    return reader.eval()


if __name__ == "__main__":
    main()
