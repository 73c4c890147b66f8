"""Refit the GoEmotions head on the fine-tuned encoder's frozen embeddings.

Multi-task fine-tuning moves the encoder quickly but the 28-label head learns slowly (rare labels get tiny
BCE gradients). With the encoder fixed, a class-balanced logistic head fits in seconds on cached
embeddings. The refit head is kept only if GoEmotions dev macro-F1 (thresholds cross-fitted) improves.

    python -m training.refit_heads --checkpoint training/runs/main/best.pt --out training/runs/main/refit.pt
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from tonewatch.learn._torch_model import build_model, pretrained_encoder_config
from training import data as D
from training.metrics import goemotions_macro_f1, multilabel_targets
from training.train import base_model_path, encode, load_tokenizer, predict


def fit_head(x: np.ndarray, t: np.ndarray, init: nn.Linear, steps: int = 400, lr: float = 0.02) -> nn.Linear:
    """Full-batch Adam on BCE with sqrt inverse-frequency positive weights and light L2."""
    head = nn.Linear(x.shape[1], t.shape[1])
    head.load_state_dict(init.state_dict())
    xt = torch.tensor(x, dtype=torch.float32)
    tt = torch.tensor(t, dtype=torch.float32)
    pos = tt.mean(0).clamp(min=1e-4)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=((1 - pos) / pos).sqrt())
    opt = torch.optim.Adam(head.parameters(), lr=lr, weight_decay=1e-5)
    for step in range(steps):
        opt.zero_grad()
        loss = loss_fn(head(xt), tt)
        loss.backward()
        opt.step()
        if step % 100 == 0:
            print(f"step {step} loss {float(loss.detach()):.4f}", flush=True)
    return head


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    tok = load_tokenizer(base_model_path())
    model = build_model(pretrained_encoder_config(), len(D.GOEMOTIONS_LABELS))
    model.load_state_dict(torch.load(args.checkpoint, map_location="cpu"))
    model.eval()
    g_tr, g_dev = D.goemotions()
    k = len(D.GOEMOTIONS_LABELS)
    print("embedding", len(g_tr), "+", len(g_dev), "texts", flush=True)
    tr = predict(model, encode(tok, g_tr.texts))
    dev = predict(model, encode(tok, g_dev.texts))
    old = goemotions_macro_f1(1 / (1 + np.exp(-dev["emotions"])), g_dev.labels, k)
    head = fit_head(tr["embedding"], multilabel_targets(g_tr.labels, k), model.emotions)
    with torch.inference_mode():
        new_logits = head(torch.tensor(dev["embedding"])).numpy()
    new = goemotions_macro_f1(1 / (1 + np.exp(-new_logits)), g_dev.labels, k)
    print(json.dumps({"old_f1_at_0.5_and_crossfit": old, "new_f1_at_0.5_and_crossfit": new}), flush=True)
    if new[1] > old[1]:
        model.emotions.load_state_dict(head.state_dict())
        print("kept the refit head", flush=True)
    else:
        print("kept the trained head", flush=True)
    torch.save(model.state_dict(), args.out)
    (args.out.with_suffix(".json")).write_text(
        json.dumps({"old": old, "new": new, "kept": "refit" if new[1] > old[1] else "trained"})
    )


if __name__ == "__main__":
    main()
