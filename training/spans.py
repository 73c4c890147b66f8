"""Sentences read in context: the span objective that lets one forward pass score a message and its sentences.

The runtime reads a multi-sentence message once and pools each sentence's tokens (``span_mask``)
instead of reading every sentence again on its own, which halves the encoder's work per message.
A model fine-tuned on whole texts alone lets context bleed into those spans (measured on pairs
of labelled validation tweets: sentence macro-recall 0.80 -> 0.63 on the airline hold-out, mixed
pairs found 0.69 -> 0.07), so training adds this task: texts made of two or three labelled
single-sentence texts, each sentence's pooled tokens scored by the same heads (sentiment for
sentiment items, sarcasm for irony/sarcasm items).

:func:`span_metrics` is the yardstick for both ways of reading: on fixed validation pairs it
reports sentence macro-recall and how many positive+negative pairs come out ``mixed``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tonewatch.learn._calibration import softmax
from tonewatch.learn._torch_model import MultiTask, span_pool
from tonewatch.score._analyzer import MIXED_MIN, MIXED_WHOLE_MIN  # the runtime's mixed rule, so the report follows it
from tonewatch.score._sentences import split_sentences
from training import data as D

__all__ = [
    "READING_RULE",
    "SCREEN_METHOD",
    "SENTENCE_TEMPERATURE_METHOD",
    "PairLogits",
    "SpanGroup",
    "checked_reading",
    "choose_reading",
    "make_groups",
    "match_screen",
    "match_sentence_temperature",
    "measure_reading",
    "reading_report",
    "single_sentences",
    "span_batches",
    "span_loss",
    "span_metrics",
    "tuning_logits",
    "val_pairs",
]

MAX_TOKENS = 128


@dataclass(frozen=True)
class SpanGroup:
    """One composed text: token ids with [CLS]/[SEP], each sentence's token range, its task and label."""

    ids: list[int]
    spans: list[tuple[int, int]]
    tasks: list[str]  # "sentiment" or "sarcasm" per span
    labels: list[int]


def single_sentences(split: D.Split) -> list[tuple[str, int]]:
    """The items of ``split`` the runtime's splitter reads as one sentence (so each keeps its own label)."""
    return [(t, int(lab)) for t, lab in zip(split.texts, split.labels, strict=True) if len(split_sentences(t)) == 1]


def _compose(tok: Any, members: Sequence[tuple[str, int, str]]) -> SpanGroup | None:
    text = " ".join(t for t, _, _ in members)
    if len(split_sentences(text)) != len(members):
        return None  # the splitter would cut this text elsewhere: the spans would not be the runtime's
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    ids, spans = [cls], []
    for enc in tok.encode_batch([t for t, _, _ in members], add_special_tokens=False):
        start = len(ids)
        ids += enc.ids
        spans.append((start, len(ids)))
    ids.append(sep)
    if len(ids) > MAX_TOKENS:
        return None
    return SpanGroup(ids, spans, [task for _, _, task in members], [lab for _, lab, _ in members])


def make_groups(
    tok: Any,
    sentiment: Sequence[tuple[str, int]],
    sarcasm: Sequence[tuple[str, int]],
    n: int,
    rng: random.Random,
    sarcasm_share: float = 0.2,
) -> list[SpanGroup]:
    """``n`` texts of two (70 %) or three sentences, each drawn from the sentiment or the sarcasm pool."""
    out: list[SpanGroup] = []
    while len(out) < n:
        size = 2 if rng.random() < 0.7 else 3
        members = []
        for _ in range(size):
            if sarcasm and rng.random() < sarcasm_share:
                t, lab = rng.choice(sarcasm)
                members.append((t, lab, "sarcasm"))
            else:
                t, lab = rng.choice(sentiment)
                members.append((t, lab, "sentiment"))
        group = _compose(tok, members)
        if group is not None:
            out.append(group)
    return out


def span_batches(groups: list[SpanGroup], bs: int, rng: random.Random) -> list[list[SpanGroup]]:
    """Length-grouped batches, shuffled (as ``training.train.batches``)."""
    order = sorted(range(len(groups)), key=lambda i: len(groups[i].ids))
    out = [[groups[i] for i in order[b : b + bs]] for b in range(0, len(order), bs)]
    rng.shuffle(out)
    return out


_Row = tuple[list[int], list[tuple[int, int]]]


def _arrays(rows: Sequence[_Row]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``input_ids``, ``attention_mask`` and ``span_mask`` (each row's spans, no whole span) for (ids, spans) rows."""
    width = max(len(ids) for ids, _ in rows)
    n_spans = max(len(sp) for _, sp in rows)
    ids = np.zeros((len(rows), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    span_mask = np.zeros((len(rows), n_spans, width), dtype=np.float32)
    for r, (seq, spans) in enumerate(rows):
        ids[r, : len(seq)] = seq
        mask[r, : len(seq)] = 1
        for k, (a, c) in enumerate(spans):
            span_mask[r, k, a:c] = 1.0
    return ids, mask, span_mask


def _tensors(batch: Sequence[SpanGroup]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    ids, mask, span_mask = _arrays([(g.ids, g.spans) for g in batch])
    return torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(span_mask)


def span_loss(
    model: MultiTask,
    batch: Sequence[SpanGroup],
    sent_loss: torch.nn.Module,
    sarcasm_loss: torch.nn.Module,
) -> torch.Tensor:
    """Sentiment/sarcasm loss of every sentence's pooled tokens, read in its text's context."""
    ids, mask, span_mask = _tensors(batch)
    pooled = span_pool(model.hidden_states(ids, mask), span_mask)
    s, _, z = model.heads(model.dropout(pooled))
    rows_s, cols_s, y_s, rows_z, cols_z, y_z = [], [], [], [], [], []
    for r, g in enumerate(batch):
        for k, (task, lab) in enumerate(zip(g.tasks, g.labels, strict=True)):
            if task == "sentiment":
                rows_s.append(r), cols_s.append(k), y_s.append(lab)
            else:
                rows_z.append(r), cols_z.append(k), y_z.append(lab)
    loss = torch.zeros(())
    if y_s:
        loss = loss + sent_loss(s[rows_s, cols_s], torch.tensor(y_s))
    if y_z:
        loss = loss + 0.5 * sarcasm_loss(z[rows_z, cols_z], torch.tensor(y_z, dtype=torch.float32))
    return loss


def val_pairs(tok: Any, items: Sequence[tuple[str, int]], n: int = 800, seed: int = 5) -> list[SpanGroup]:
    """A fixed set of validation pairs (same seed, same pairs in every run)."""
    rng = random.Random(seed)
    out: list[SpanGroup] = []
    while len(out) < n:
        (a, la), (b, lb) = rng.sample(list(items), 2)
        group = _compose(tok, [(a, la, "sentiment"), (b, lb, "sentiment")])
        if group is not None:
            out.append(group)
    return out


@torch.inference_mode()
def span_metrics(model: MultiTask, pairs: list[SpanGroup], temperature: float = 1.0) -> dict[str, float]:
    """Sentence macro-recall in context, and mixed found / falsely found on pairs (the runtime's rule)."""
    model.eval()
    probs: list[np.ndarray] = []
    for b in range(0, len(pairs), 64):
        batch = pairs[b : b + 64]
        ids, mask, span_mask = _tensors(batch)
        s, _, _ = model.heads(span_pool(model.hidden_states(ids, mask), span_mask))
        probs.append(torch.softmax(s / temperature, -1).numpy())
    return _pair_figures(np.concatenate(probs), np.array([g.labels for g in pairs]))


def _pair_logits(session: Any, rows: list[_Row]) -> np.ndarray:
    """Sentiment logits of (ids, spans) rows read as the runtime reads them, through onnxruntime.

    As at run time, span 0 is the whole sequence and the row's spans follow it (a model with a span reader
    reads spans after the first through it); returns [rows, 1 + most spans, 3], the whole reading first.
    """
    out: list[np.ndarray] = []
    width = 1 + max((len(sp) for _, sp in rows), default=0)
    for b in range(0, len(rows), 64):
        ids, mask, spans = _arrays(rows[b : b + 64])
        span_mask = np.concatenate([mask[:, None, :].astype(np.float32), spans], 1)
        (s,) = session.run(["sentiment"], {"input_ids": ids, "attention_mask": mask, "span_mask": span_mask})
        out.append(np.pad(s, ((0, 0), (0, width - s.shape[1]), (0, 0))))
    return np.concatenate(out)


def _pair_probs(session: Any, rows: list[_Row], temperature: float) -> np.ndarray:
    """:func:`_pair_logits` as probabilities at ``temperature``."""
    return softmax(_pair_logits(session, rows) / temperature)


def _two_sided(whole: np.ndarray | None) -> np.ndarray | bool:
    """Pairs whose whole reading [pairs, 3] gives the weaker polarity >= MIXED_WHOLE_MIN (all, without one)."""
    return True if whole is None else np.minimum(whole[:, 0], whole[:, 2]) >= MIXED_WHOLE_MIN


def _mixed_found(p: np.ndarray, whole: np.ndarray | None = None) -> np.ndarray:
    """Pairs [pairs, 2, 3] the runtime's rule calls mixed: opposite labels, both at >= MIXED_MIN (and, given the
    whole readings, the whole text two-sided)."""
    pred = p.argmax(-1)
    opposite = ((pred[:, 0] == 0) & (pred[:, 1] == 2)) | ((pred[:, 0] == 2) & (pred[:, 1] == 0))
    return opposite & (p[:, :, 2].max(1) >= MIXED_MIN) & (p[:, :, 0].max(1) >= MIXED_MIN) & _two_sided(whole)


def _pair_figures(p: np.ndarray, y: np.ndarray, whole: np.ndarray | None = None) -> dict[str, float]:
    pred = p.argmax(-1)
    recall = float(np.mean([np.mean(pred[y == c] == c) for c in range(3)]))
    gold_mixed = ((y[:, 0] == 0) & (y[:, 1] == 2)) | ((y[:, 0] == 2) & (y[:, 1] == 0))
    found = _mixed_found(p, whole)
    return {
        "sentence_macro_recall": round(recall, 4),
        "mixed_recall": round(float(found[gold_mixed].mean()), 4),
        "false_mixed": round(float(found[~gold_mixed].mean()), 4),
        "pairs": len(y),
    }


def _alone_rows(pairs: Sequence[SpanGroup]) -> list[_Row]:
    """Every sentence of every pair as its own sequence ([CLS] sentence [SEP]), read whole (no spans)."""
    return [([g.ids[0], *g.ids[a:b], g.ids[-1]], []) for g in pairs for a, b in g.spans]


def _screened(context: np.ndarray, screen: float, whole: np.ndarray | None = None) -> np.ndarray:
    """Pairs whose two sentences, read in context, lean opposite ways by at least ``screen`` in a text whose
    whole reading is two-sided (the runtime's ``checked`` reading reads those again alone)."""
    one_way = (context[:, 0, 2] >= screen) & (context[:, 1, 0] >= screen)
    return (one_way | ((context[:, 0, 0] >= screen) & (context[:, 1, 2] >= screen))) & _two_sided(whole)


@dataclass(frozen=True)
class PairLogits:
    """Sentiment logits of validation pairs read both ways, each pair's tokens run once per way."""

    alone: np.ndarray  # [pairs, 2, 3]: each sentence its own sequence
    context: np.ndarray  # [pairs, 3, 3]: the whole pair (span 0), then its two sentences pooled in context

    @classmethod
    def read(cls, session: Any, pairs: Sequence[SpanGroup]) -> PairLogits:
        alone = _pair_logits(session, _alone_rows(pairs))[:, 0].reshape(len(pairs), 2, 3)
        return cls(alone, _pair_logits(session, [(g.ids, g.spans) for g in pairs])[:, :3])

    def probs(
        self, temperature: float, sentence_temperature: float | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sentence probabilities [pairs, 2, 3] read alone and in context (at ``sentence_temperature``), and the
        whole pair's [pairs, 3]."""
        context = softmax(self.context[:, 1:] / (sentence_temperature or temperature))
        return softmax(self.alone / temperature), context, softmax(self.context[:, 0] / temperature)


def reading_report(
    session: Any,
    pairs: list[SpanGroup],
    temperature: float,
    sentence_temperature: float | None = None,
    screen: float | None = None,
) -> dict[str, dict[str, float]]:
    """The ways of reading sentences, as the runtime does them, on validation pairs (exported ONNX).

    ``alone``: each sentence its own sequence ([CLS] sentence [SEP]); ``in_context``: each sentence's
    tokens pooled from the pair's single forward pass, calibrated with ``sentence_temperature``
    (the runtime's ``calibration.sentence_temperature``) when the model has one; with a ``screen``,
    ``checked``: in context, except the pairs the screen sends to be read again alone
    (``read_again``: their share).
    """
    y = np.array([g.labels for g in pairs])
    alone, context, whole = PairLogits.read(session, pairs).probs(temperature, sentence_temperature)
    report = {"alone": _pair_figures(alone, y, whole), "in_context": _pair_figures(context, y, whole)}
    if screen is not None:
        checked, again = checked_reading(alone, context, screen, whole)
        report["checked"] = {**_pair_figures(checked, y, whole), "read_again": round(float(again.mean()), 4)}
    return report


def checked_reading(
    alone: np.ndarray, context: np.ndarray, screen: float, whole: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The ``checked`` reading of pairs [pairs, 2, 3]: in context, except where the screen sends the pair to be
    read again alone; and which pairs it sent."""
    again = _screened(context, screen, whole)
    return np.where(again[:, None, None], alone, context), again


SENTENCE_TEMPERATURE_METHOD = (
    "in-context sentence logits are divided by the temperature at which the share of sentences read with a "
    "confident polarity (negative or positive argmax with probability >= the runtime's MIXED_MIN 0.6) equals "
    "the alone reading's at the whole-text temperature, on 2,000 TweetEval validation pairs (seed 11, not the "
    "reading report's seed 5): the runtime's mixed rule keeps its operating point"
)


def _polar_share(p: np.ndarray) -> float:
    """Share of sentences (rows of ``p``, any leading shape) with a polar argmax at >= MIXED_MIN."""
    p = p.reshape(-1, 3)
    return float(((p[:, [0, 2]].max(1) >= MIXED_MIN) & (p.argmax(1) != 1)).mean())


def tuning_logits(session: Any, tokenizer_file: Path) -> PairLogits:
    """The pairs the sentence temperature and the screen are matched on: 2,000 TweetEval validation pairs,
    seed 11 (the reading report's are seed 5), read once for both."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_file))
    tok.no_padding()
    return PairLogits.read(session, val_pairs(tok, single_sentences(D.tweeteval_sentiment()[1]), n=2000, seed=11))


def match_sentence_temperature(tuning: PairLogits, temperature: float) -> float:
    """The in-context sentence temperature (:data:`SENTENCE_TEMPERATURE_METHOD`) on ``tuning``
    (:func:`tuning_logits`), by bisection.

    A reading that has seen the whole message is less extreme than one of the sentence alone, so at
    the same temperature fewer sentences clear the mixed rule's 0.6; the share only falls as the
    temperature rises (the argmax does not move), so one temperature matches it.
    """
    target = _polar_share(softmax(tuning.alone / temperature))
    z = tuning.context[:, 1:]
    lo, hi = 0.25, 8.0
    for _ in range(40):
        mid = (lo + hi) / 2
        if _polar_share(softmax(z / mid)) > target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


SCREEN_METHOD = (
    "the highest of 0.50, 0.45, ..., 0.10 at which the pairs sent to be read again alone (both polarities at "
    ">= the screen, in context, in different sentences, and the whole text's weaker polarity >= 0.05) hold at "
    "least 98 % of the pairs that reading alone calls mixed, on 2,000 TweetEval validation pairs (seed 11, not "
    "the reading report's seed 5)"
)


def match_screen(tuning: PairLogits, temperature: float, sentence_temperature: float | None) -> float:
    """The ``checked`` reading's screen (:data:`SCREEN_METHOD`) on ``tuning`` (:func:`tuning_logits`): as high as
    it can be, so that as few texts as possible are read twice, while almost every text that reading alone would
    call mixed still is."""
    alone, context, whole = tuning.probs(temperature, sentence_temperature)
    called = _mixed_found(alone, whole)
    if not called.any():
        raise ValueError("reading alone calls no validation pair mixed: the screen cannot be matched")
    for screen in np.round(np.arange(0.50, 0.09, -0.05), 2):
        if _screened(context, float(screen), whole)[called].mean() >= 0.98:
            return float(screen)
    return 0.10


# In-context reading is chosen only where it holds up against reading each sentence alone.
READING_RULE = (
    "in_context when, on both pair sets, sentence macro-recall >= alone - 0.01, mixed recall >= alone - 0.03 "
    "and false mixed <= alone + 0.01; else checked (sentences pooled in context, read again alone where the "
    "screen says the text could be mixed) when it passes the same; else alone"
)


def _passes(a: dict[str, float], c: dict[str, float]) -> bool:
    return (
        c["sentence_macro_recall"] >= a["sentence_macro_recall"] - 0.01
        and c["mixed_recall"] >= a["mixed_recall"] - 0.03
        and c["false_mixed"] <= a["false_mixed"] + 0.01
    )


def choose_reading(reports: dict[str, dict[str, dict[str, float]]]) -> str:
    """The first of ``in_context`` and ``checked`` that passes :data:`READING_RULE` on every pair set, else
    ``alone``."""
    for reading in ("in_context", "checked"):
        if all(reading in r and _passes(r["alone"], r[reading]) for r in reports.values()):
            return reading
    return "alone"


def measure_reading(
    session: Any,
    tokenizer_file: Path,
    temperature: float,
    sentence_temperature: float | None = None,
    tuning: PairLogits | None = None,
) -> dict[str, Any]:
    """The manifest's ``sentences`` block: the readings on 2,000 validation pairs per set, the screen (matched on
    ``tuning``, read here when not given) and the choice."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_file))
    tok.no_padding()
    tuning = tuning or tuning_logits(session, tokenizer_file)
    screen = match_screen(tuning, temperature, sentence_temperature)
    pairs = {
        "tweeteval_val_pairs": val_pairs(tok, single_sentences(D.tweeteval_sentiment()[1]), n=2000),
        "airline_holdout_pairs": val_pairs(tok, single_sentences(D.airline()[1]), n=2000),
    }
    reading = {
        name: reading_report(session, groups, temperature, sentence_temperature, screen)
        for name, groups in pairs.items()
    }
    return {
        "read": choose_reading(reading),
        "rule": READING_RULE,
        "screen": screen,
        "screen_method": SCREEN_METHOD,
        "validation": reading,
        "pairs": "2,000 pairs per set of two single-sentence validation texts joined by a space (seed 5), each "
        "sentence keeping its label; mixed = the runtime's rule (opposite labels, both >= 0.6, and the whole pair's "
        "weaker polarity >= 0.05)",
    }


def main() -> None:
    """Measure how a model folder should read sentences; ``--write`` records it in the folder's manifest."""
    import argparse
    import json

    from tonewatch.learn._export import SpanRunner

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("model", type=Path)
    ap.add_argument("--write", action="store_true", help="store the result as the manifest's `sentences`")
    args = ap.parse_args()
    path = args.model / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    runner = SpanRunner(args.model / "model.onnx", args.model / "tokenizer.json")
    temperature = float(manifest["calibration"]["temperature"])
    sentence_t = manifest["calibration"].get("sentence_temperature")
    block = measure_reading(runner.session, args.model / "tokenizer.json", temperature, sentence_t)
    print(json.dumps(block, indent=2))
    if args.write:
        manifest["sentences"] = block  # the manifest is not among the files its sha256 list covers
        path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
