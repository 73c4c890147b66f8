"""Fine-tune the multi-task model on a team's labelled messages without forgetting the rest.

The team has sentiment labels only, and not our training sets, so the other heads are kept
by *learning without forgetting*: before training, the base model's own emotion and
sarcasm outputs on the training texts are recorded, and the student is trained to keep
reproducing them (soft-target BCE) while it learns the team's sentiment labels. The
sentiment head is anchored to the base head (an L2 pull towards its weights), so a few
hundred examples move the decision boundaries rather than rebuild them. Training stops
early on the held-out split's macro-F1 and the best evaluated weights are kept.

This module imports torch; import it only after the ``[train]`` extra was checked.
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from ._adapt_settings import AdaptSettings
from ._calibration import macro_f1, sqrt_balanced_weights

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from ._torch_model import MultiTask

__all__ = [
    "AdaptOutcome",
    "Evaluation",
    "Examples",
    "ProgressFn",
    "adapt",
    "model_outputs",
]

# progress(stage, completed, total): absolute progress of one stage ("teacher", "train", ...)
ProgressFn = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class Examples:
    """Token ids and labels to train on, with the base model's emotion and sarcasm logits on them."""

    ids: list[list[int]]
    labels: list[int]
    teacher_emotions: NDArray[np.float32]
    teacher_sarcasm: NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One held-out evaluation during training."""

    step: int
    epoch: float
    loss: float
    macro_f1: float
    accuracy: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "epoch": round(self.epoch, 2),
            "train_loss": round(self.loss, 4),
            "heldout_macro_f1": round(self.macro_f1, 4),
            "heldout_accuracy": round(self.accuracy, 4),
        }


@dataclass(slots=True)
class AdaptOutcome:
    """What training did: every evaluation, the kept one, and whether it stopped early."""

    start: Evaluation
    history: list[Evaluation] = field(default_factory=list)
    best: Evaluation | None = None
    stopped_early: bool = False
    total_steps: int = 0


def _pad(seqs: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(s) for s in seqs)
    ids = torch.zeros((len(seqs), width), dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(list(s), dtype=torch.long)
        mask[i, : len(s)] = 1
    return ids, mask


def _batches(n: int, lengths: Sequence[int], size: int, rng: random.Random) -> list[list[int]]:
    """Length-grouped batches: shuffle, sort inside chunks of 50 batches, shuffle the batches."""
    idx = list(range(n))
    rng.shuffle(idx)
    out: list[list[int]] = []
    chunk = size * 50
    for c in range(0, n, chunk):
        part = sorted(idx[c : c + chunk], key=lambda i: lengths[i])
        out += [part[b : b + size] for b in range(0, len(part), size)]
    rng.shuffle(out)
    return out


@torch.inference_mode()
def model_outputs(
    model: MultiTask, ids: Sequence[Sequence[int]], batch_size: int = 64, progress: ProgressFn | None = None
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    """Sentiment [n, 3], emotion [n, 28] and sarcasm [n] logits in eval mode, in input order."""
    was_training = model.training
    model.eval()
    n = len(ids)
    order = sorted(range(n), key=lambda i: len(ids[i]))
    parts: list[list[NDArray[np.float32]]] = [[], [], []]
    for b in range(0, n, batch_size):
        sel = order[b : b + batch_size]
        s, e, z, _ = model(*_pad([ids[i] for i in sel]))
        for part, value in zip(parts, (s, e, z), strict=True):
            part.append(value.float().numpy())
        if progress is not None:
            progress("teacher", min(b + batch_size, n), n)
    model.train(was_training)
    inv = np.argsort(np.array(order, dtype=np.int64))
    empty = [np.zeros((0, 3), np.float32), np.zeros((0, 28), np.float32), np.zeros(0, np.float32)]
    s_all, e_all, z_all = (np.concatenate(p)[inv] if p else empty[k] for k, p in enumerate(parts))
    return s_all, e_all, z_all


def _evaluate(
    model: MultiTask, ids: Sequence[Sequence[int]], labels: Sequence[int], step: int, epoch: float, loss: float
) -> Evaluation:
    logits, _, _ = model_outputs(model, ids)
    y = np.array(labels)
    pred = logits.argmax(1)
    return Evaluation(step, epoch, loss, macro_f1(y, pred, 3), float((pred == y).mean()))


def adapt(
    model: MultiTask,
    train: Examples,
    heldout_ids: Sequence[Sequence[int]],
    heldout_labels: Sequence[int],
    settings: AdaptSettings,
    *,
    progress: ProgressFn | None = None,
    log: Callable[[str], None] | None = None,
) -> AdaptOutcome:
    """Fine-tune ``model`` in place; on return it holds the weights of the best held-out evaluation."""
    torch.manual_seed(settings.seed)
    rng = random.Random(settings.seed)
    torch.set_num_threads(max(1, settings.threads))
    say = log or (lambda _msg: None)

    anchor = [p.detach().clone() for p in model.sentiment.parameters()]
    weights = sqrt_balanced_weights(train.labels) if settings.class_weights else np.ones(3)
    sentiment_loss = nn.CrossEntropyLoss(weight=torch.tensor(weights, dtype=torch.float32))
    bce = nn.BCEWithLogitsLoss()
    soft_emotions = torch.sigmoid(torch.from_numpy(train.teacher_emotions.astype(np.float32)))
    soft_sarcasm = torch.sigmoid(torch.from_numpy(train.teacher_sarcasm.astype(np.float32)))
    labels = torch.tensor(train.labels, dtype=torch.long)

    n = len(train.ids)
    steps_per_epoch = math.ceil(n / settings.batch_size)
    total = steps_per_epoch * settings.epochs
    eval_every = max(1, steps_per_epoch // max(1, settings.evals_per_epoch))
    no_decay = ("bias", "LayerNorm.weight")
    named = list(model.named_parameters())
    groups = [
        {"params": [p for k, p in named if not any(t in k for t in no_decay)], "weight_decay": settings.weight_decay},
        {"params": [p for k, p in named if any(t in k for t in no_decay)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=settings.lr)
    warm = max(1, int(settings.warmup * total))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm)))
    )

    start = _evaluate(model, heldout_ids, heldout_labels, 0, 0.0, float("nan"))
    outcome = AdaptOutcome(start=start, total_steps=total)
    say(f"base model on the held-out split: macro-F1 {start.macro_f1:.4f}, accuracy {start.accuracy:.4f}")
    best_state: dict[str, torch.Tensor] | None = None
    best_f1 = -1.0
    since_best = 0
    step = 0
    running: list[float] = []
    lengths = [len(s) for s in train.ids]
    for _epoch in range(settings.epochs):
        for batch in _batches(n, lengths, settings.batch_size, rng):
            model.train()
            x, m = _pad([train.ids[i] for i in batch])
            s, e, z, _ = model(x, m)
            sel = torch.tensor(batch, dtype=torch.long)
            loss = sentiment_loss(s, labels[sel])
            if settings.distill_weight > 0:
                loss = loss + settings.distill_weight * (bce(e, soft_emotions[sel]) + bce(z, soft_sarcasm[sel]))
            if settings.anchor_weight > 0:
                drift = sum(((p - a) ** 2).sum() for p, a in zip(model.sentiment.parameters(), anchor, strict=True))
                loss = loss + settings.anchor_weight * drift
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            running.append(float(loss.detach()))
            step += 1
            if progress is not None:
                progress("train", step, total)
            if step % eval_every and step != total:
                continue
            ev = _evaluate(model, heldout_ids, heldout_labels, step, step / steps_per_epoch, float(np.mean(running)))
            running = []
            outcome.history.append(ev)
            better = ev.macro_f1 > best_f1
            say(
                f"epoch {ev.epoch:.2f}: loss {ev.loss:.4f}, held-out macro-F1 {ev.macro_f1:.4f}, "
                f"accuracy {ev.accuracy:.4f}" + (" (best so far)" if better else "")
            )
            if better:
                best_f1, since_best = ev.macro_f1, 0
                outcome.best = ev
                best_state = copy.deepcopy(model.state_dict())
            else:
                since_best += 1
                if since_best >= settings.patience:
                    outcome.stopped_early = step < total
                    break
        else:
            continue
        break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    if outcome.stopped_early:
        say(f"stopped early at step {step} of {total}: no better held-out macro-F1 in {settings.patience} evaluations")
    return outcome
