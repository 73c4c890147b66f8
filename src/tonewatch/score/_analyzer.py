"""The analyzer: one batched forward pass, then the tonal layer, into an :class:`Analysis`.

How a batch is scored:

1. every text is checked (:func:`check_text`) and split into sentences/clauses;
2. each text that fits the encoder (``max_tokens``) is read whole; a longer text is read as
   windows of whole sentences that fit, aggregated weighted by their token counts (never
   truncated). The sentences of a text that fits are pooled from its own forward pass (their
   token spans, ``span_mask``) when the model was trained to read sentences in context
   (manifest ``sentences.read: in_context``); with ``sentences.read: checked`` they are pooled
   the same way, and read again on their own (the result composed again) only in texts whose
   result could then be mixed: the whole text two-sided and two sentences leaning opposite ways
   by at least ``sentences.screen``, cues included; otherwise, and in long texts, each sentence
   is read again on its own. Per-sentence results and ``mixed`` come from those readings. A call
   of one such message starts that second reading early, on the core its first pass leaves idle,
   and stops it if the result is one-sided (``_speculate``);
3. all those sequences (identical ones once) are sorted by length and cut into batches of
   at most ``batch_size`` that minimise padded work (``_model.plan_batches``), each padded
   only to its own longest sequence;
4. temperature scaling (``calibration.temperature``; sentences pooled in context have their own,
   ``calibration.sentence_temperature``) turns sentiment logits into calibrated probabilities;
   the tonal layer (``score/_cues.py``, ``score/_tonal.py``) moves them by
   bounded, reported amounts; emotions, sarcasm, urgency and the review flag follow.

The model loads on first use, once, under a lock; ``get_analyzer`` keeps one analyzer per
configuration so every caller in a process shares the loaded model.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from tonewatch._errors import InputError

from ._analysis import EMOTIONS, Analysis, Cue, Label, SentenceResult
from ._cues import CueMatch, find_cues, is_courtesy, negative_context
from ._cues import warm_up as warm_up_cues
from ._emotions import recentre, support_emotions
from ._language import UMSAB_LANGUAGES, detect_language, load_identifier
from ._model import BUNDLED_MODEL_DIR, ModelOutputs, OnnxModel, Speculative, read_manifest
from ._multilingual import MULTILINGUAL_MODEL_DIR, MultilingualLayer, language_review_reason
from ._normalize import normalize_for_model
from ._sentences import Span, split_sentences
from ._text import check_text
from ._tonal import SARCASM_HEAD_RULE, Probs, apply_rule, boost, cue_share, to_cue
from ._urgency import urgency
from ._windows import fit_pieces, pack_windows

if TYPE_CHECKING:
    from tonewatch.settings import Settings

__all__ = [
    "MIXED_MIN",
    "MIXED_WHOLE_MIN",
    "SARCASM_HEAD_MIN",
    "SCREEN_DEFAULT",
    "Analyzer",
    "SentenceReading",
    "analyze",
    "analyze_batch",
    "check_language",
    "get_analyzer",
]

LanguageAction = Literal["review", "score"]
# How sentences are read (manifest ``sentences.read``; the export chooses by the reading rule in training/spans.py).
SentenceReading = Literal["alone", "in_context", "checked"]
# a sequence and the spans pooled from it: what the model runs once per batch
_Key = tuple[tuple[int, ...], tuple[tuple[int, int], ...]]
# A sentence counts towards "mixed" when its polarity holds at least this probability.
MIXED_MIN = 0.6
# ...and the whole text must still give the weaker polarity this much: when the whole reading is
# overwhelmingly one-sided (a shouted complaint whose second sentence the model misreads), it is not mixed.
MIXED_WHOLE_MIN = 0.05
# The export writes a "checked" model's screen (``sentences.screen``); a manifest written without one uses this.
SCREEN_DEFAULT = 0.3
# The sarcasm head alone (no sarcasm pattern) turns a positive sentence only from this probability on: it
# sits around 0.55 on plain praise, so the manifest's 0.5 decision threshold is too eager to act on alone.
SARCASM_HEAD_MIN = 0.75
# Texts longer than this cannot fit one 128-token window; they are read as windows without a whole-text pass.
_WHOLE_MAX_CHARS = 20_000
_APPLY_ORDER = {
    kind: i
    for i, kind in enumerate(
        (
            "negation",
            "understatement",
            "hedge",
            "sarcasm",
            "polite-escalation",
            "wait-time",
            "repeat-contact",
            "cancellation",
            "legal",
            "blocked",
            "deadline",
            "emoji",
            "brevity",
            "punctuation-run",
            "intensifier",
            "caps",
        )
    )
}


@dataclass(slots=True)
class _Plan:
    """What to run for one text and how to read the results back."""

    text: str
    units: list[Span]
    whole: list[int] | None = None  # token ids when the text fits the encoder
    windows: list[list[int]] = field(default_factory=list)  # when it does not
    pieces: list[list[list[int]]] = field(default_factory=list)  # per sentence read alone (texts with 2+ sentences)
    spans: list[tuple[int, int]] = field(default_factory=list)  # per sentence, its tokens in ``whole`` (in context)
    alone: list[list[int]] = field(default_factory=list)  # per sentence, its own sequence (to read it again alone)


def _alone_sequences(plans: Sequence[_Plan], keys: dict[_Key, int]) -> list[list[int]]:
    """The sentences of ``plans`` that reading them alone must still run: each once, none already read alone."""
    seen = set(keys)
    out: list[list[int]] = []
    for plan in plans:
        for ids in plan.alone:
            if (key := (tuple(ids), ())) not in seen:
                seen.add(key)
                out.append(ids)
    return out


def _softmax(row: Sequence[float], temperature: float) -> Probs:
    z = [v / temperature for v in row]
    top = max(z)
    e = [math.exp(v - top) for v in z]
    s = sum(e)
    return (e[0] / s, e[1] / s, e[2] / s)


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    ex = math.exp(x)
    return ex / (1.0 + ex)


def _argmax(p: Probs) -> Label:
    i = max(range(3), key=lambda k: p[k])
    return "negative" if i == 0 else "neutral" if i == 1 else "positive"


def _as_dict(p: Probs) -> MappingProxyType[str, float]:
    return MappingProxyType({"positive": p[2], "neutral": p[1], "negative": p[0]})


@dataclass(frozen=True, slots=True)
class _Heads:
    temperature: float
    sentence_temperature: float  # for sentences pooled in context (the model's span reader has its own scale)
    thresholds: tuple[float, ...]
    sarcasm_threshold: float
    go_labels: tuple[str, ...]


class Analyzer:
    """Scores customer messages with the bundled (or a given) model plus the tonal layer.

    Construction is cheap; the model is loaded (and its files verified against the
    manifest's sha256) on first use or by :meth:`load`.
    """

    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        threads: int = 0,
        review_threshold: float = 0.55,
        max_text_chars: int = 200_000,
        unvalidated_language_action: LanguageAction = "review",
        tonal: bool = True,
        language_min_f1: float = 0.55,
        multilingual: bool = True,
        score_alone: bool = False,
    ) -> None:
        if threads < 0:
            raise InputError("threads must be >= 0 (0 = all cores)", field="threads")
        if not 0.0 <= review_threshold <= 1.0:
            raise InputError("review_threshold must be in [0, 1]", field="review_threshold")
        if max_text_chars <= 0:
            raise InputError("max_text_chars must be positive", field="max_text_chars")
        self.model_dir = Path(model_dir) if model_dir is not None else BUNDLED_MODEL_DIR
        self.threads = threads
        # one sequence per model run: the int8 English model quantises activations with one scale per run, so
        # in a batch a text's neighbours move its probabilities (by up to 0.08 on the benchmark's messages)
        self.score_alone = score_alone
        self.review_threshold = review_threshold
        self.max_text_chars = max_text_chars
        self.unvalidated_language_action: LanguageAction = unvalidated_language_action
        self.tonal = tonal
        if not 0.0 <= language_min_f1 <= 1.0:
            raise InputError("language_min_f1 must be in [0, 1]", field="language_min_f1")
        self.language_min_f1 = language_min_f1
        # non-English texts the multilingual layer covers get their sentiment from it (reading its manifest is
        # cheap; its model loads on first use)
        self._multilingual = MultilingualLayer(MULTILINGUAL_MODEL_DIR, threads=threads) if multilingual else None
        self._manifest: dict[str, Any] | None = None
        self._figures: dict[str, float] | None = None
        self._heads_cache: _Heads | None = None
        self._model: OnnxModel | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(
        cls, settings: Settings, model_dir: Path | None = None, *, threads: int | None = None, tonal: bool = True
    ) -> Analyzer:
        """An analyzer configured by ``settings`` (``model_dir`` defaults to ``settings.model_dir``)."""
        return cls(
            model_dir if model_dir is not None else settings.model_dir,
            threads=settings.threads if threads is None else threads,
            review_threshold=settings.review_threshold,
            max_text_chars=settings.max_text_chars,
            unvalidated_language_action=settings.unvalidated_language_action,
            tonal=tonal,
            language_min_f1=settings.language_min_f1,
            score_alone=settings.score_alone,
        )

    # -- model
    @property
    def manifest(self) -> dict[str, Any]:
        """The model's manifest (read once; the model itself is not loaded by this)."""
        if self._manifest is None:
            self._manifest = read_manifest(self.model_dir)
        return self._manifest

    @property
    def model_version(self) -> str:
        return str(self.manifest["version"])

    @property
    def validated_languages(self) -> frozenset[str]:
        """English plus every language whose validated macro-F1 (this model's manifest) reaches the line."""
        good = {lang for lang, f1 in self._own_figures().items() if f1 >= self.language_min_f1}
        return frozenset({"en", *good})

    def _own_figures(self) -> dict[str, float]:
        """This model's validated macro-F1 per ISO code (the manifest names UMSAB languages in full); read once."""
        if self._figures is None:
            figures: dict[str, Any] = self.manifest.get("languages", {})
            self._figures = {
                UMSAB_LANGUAGES.get(name, name): float(fig.get("macro_f1", 0.0)) for name, fig in figures.items()
            }
        return self._figures

    def _heads(self) -> _Heads:
        """The manifest's calibration and label names as composing a result needs them; read once."""
        if self._heads_cache is None:
            manifest = self.manifest
            calibration = manifest["calibration"]
            self._heads_cache = _Heads(
                temperature=float(calibration["temperature"]),
                sentence_temperature=float(calibration.get("sentence_temperature", calibration["temperature"])),
                thresholds=tuple(calibration.get("goemotions_thresholds") or [0.5] * 28),
                sarcasm_threshold=float(calibration.get("sarcasm_threshold", 0.5)),
                go_labels=tuple(manifest["labels"]["goemotions"]),
            )
        return self._heads_cache

    def reads_with_multilingual(self, language: str) -> bool:
        """Whether texts in ``language`` get their sentiment from the multilingual layer (else from this model)."""
        return language != "en" and self._multilingual is not None and self._multilingual.covers(language)

    @property
    def multilingual_version(self) -> str | None:
        return None if self._multilingual is None else self._multilingual.version

    def language_macro_f1(self, language: str) -> float | None:
        """The validated macro-F1 behind results in ``language`` (multilingual layer or this model), if any."""
        if self.reads_with_multilingual(language):
            assert self._multilingual is not None
            return self._multilingual.macro_f1(language)
        return self._own_figures().get(language)

    def language_review(self, language: str) -> str | None:
        """Why results in ``language`` go to a person (None: acted on), judged by the figure of the model
        that reads that language."""
        if self.unvalidated_language_action != "review" or language == "en":
            return None
        return language_review_reason(self.language_macro_f1(language), self.language_min_f1)

    def _sentences_block(self) -> dict[str, Any]:
        """The manifest's ``sentences`` block (empty when a model has none)."""
        sentences = self.manifest.get("sentences")
        return sentences if isinstance(sentences, dict) else {}

    @property
    def sentence_reading(self) -> SentenceReading:
        """How this model's sentences are read (manifest ``sentences.read``; anything else reads them alone)."""
        read = self._sentences_block().get("read")
        return "in_context" if read == "in_context" else "checked" if read == "checked" else "alone"

    @property
    def reads_sentences_in_context(self) -> bool:
        """Whether sentences are pooled from their text's forward pass (the model was trained and validated
        for it: manifest ``sentences.read``) rather than each read again on its own."""
        return self.sentence_reading != "alone"

    @property
    def sentence_screen(self) -> float:
        """For ``checked`` reading: the probability of opposite polarities, read in context, from which a
        text's sentences are read again alone (manifest ``sentences.screen``)."""
        screen = self._sentences_block().get("screen")
        return float(screen) if isinstance(screen, int | float) else SCREEN_DEFAULT

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> Analyzer:
        """Load and verify the model now (otherwise it loads on first use); thread-safe, once."""
        self._ensure_model()
        load_identifier()
        warm_up_cues()
        return self

    def _ensure_model(self) -> OnnxModel:
        model = self._model
        if model is None:
            with self._lock:
                model = self._model
                if model is None:
                    model = OnnxModel(self.model_dir, self.manifest, threads=self.threads)
                    self._model = model
        return model

    # -- public API
    def analyze(self, text: str, *, language: str | None = None) -> Analysis:
        """Score one text. Raises an :class:`~tonewatch.InputError` subclass on bad input."""
        return self.analyze_batch([text], languages=[language])[0]

    def analyze_batch(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 32,
        languages: Sequence[str | None] | None = None,
    ) -> list[Analysis]:
        """Score many texts in one sorted, dynamically padded pass; results in input order."""
        if isinstance(texts, str | bytes):
            raise InputError("analyze_batch takes a sequence of texts, not one text", field="texts")
        if batch_size < 1:
            raise InputError("batch_size must be >= 1", field="batch_size")
        if languages is not None and len(languages) != len(texts):
            raise InputError("languages must have one entry per text", field="languages")
        checked = [check_text(t, max_chars=self.max_text_chars, field=f"texts[{i}]") for i, t in enumerate(texts)]
        langs = [check_language(lang) for lang in (languages or [None] * len(checked))]
        if not checked:
            return []
        model = self._ensure_model()
        plans = self._plan(model, checked)
        keys: dict[_Key, int] = {}
        sequences: list[list[int]] = []
        spans: list[list[tuple[int, int]]] = []
        for plan in plans:
            for seq, seq_spans in _sequences(plan):
                key = (tuple(seq), tuple(seq_spans))
                if key not in keys:
                    keys[key] = len(sequences)
                    sequences.append(seq)
                    spans.append(seq_spans)
        batch_size = 1 if self.score_alone else batch_size
        pending = model.submit(sequences, batch_size=batch_size, spans=spans if model.pools_spans else None)
        # what depends on the text alone is worked out while the model runs (measured: about +5 % messages/s)
        resolved = [lang or detect_language(text) for lang, text in zip(langs, checked, strict=True)]
        found = [find_cues(plan.text, plan.units) if self.tonal else [] for plan in plans]
        other = self._multilingual_sentiment(checked, resolved)
        early = self._speculate(model, plans, resolved, keys, batch_size)  # after the Python work: no contention
        outputs = pending.result()
        results = [
            self._compose(plan, outputs, keys, lang, other.get(i), found[i])
            for i, (plan, lang) in enumerate(zip(plans, resolved, strict=True))
        ]
        if self.sentence_reading != "checked":
            return results
        screen = self.sentence_screen
        again = [i for i, r in enumerate(results) if i not in other and _could_be_mixed(plans[i], r, screen)]
        if not again and early is not None:
            early.cancel()
        if again:  # their sentences are read again alone and the results composed again from those readings
            later = self._read_again_alone(model, [plans[i] for i in again], outputs, keys, batch_size, early)
            outputs = outputs if later is None else outputs.followed_by(later)
            for i in again:
                results[i] = self._compose(plans[i], outputs, keys, resolved[i], other.get(i), found[i])
        return results

    def _speculate(
        self, model: OnnxModel, plans: list[_Plan], langs: list[str], keys: dict[_Key, int], batch_size: int
    ) -> Speculative | None:
        """For one message alone, start reading its sentences alone while its first pass runs.

        The first pass of one message is one sequence on one core, and the second pass (a result that could be
        mixed: 16 % of the benchmark's messages) could only start after it, so such messages took about twice
        as long and set the p95 latency. Started on the idle core, the second pass is ready when it is needed
        and stopped when it is not. Batches of several messages keep every core busy already and never do this.
        """
        if len(plans) != 1 or self.sentence_reading != "checked" or self.score_alone or model.workers < 2:
            return None
        if plans[0].whole is None or not plans[0].alone or self._reads_other_language(langs[0]):
            return None
        sequences = _alone_sequences(plans, keys)
        return model.speculate(sequences, batch_size) if sequences else None

    def _reads_other_language(self, lang: str) -> bool:
        """Whether the multilingual layer gives this language's sentiment (then sentences are not read again)."""
        layer = self._multilingual
        return layer is not None and lang != "en" and layer.covers(lang)

    def _multilingual_sentiment(self, texts: list[str], langs: list[str]) -> dict[int, Probs]:
        """Sentiment from the multilingual layer for the non-English texts it covers (by index)."""
        layer = self._multilingual
        if layer is None:
            return {}
        idx = [i for i, lang in enumerate(langs) if self._reads_other_language(lang)]
        if not idx:
            return {}
        return dict(zip(idx, layer.sentiment([texts[i] for i in idx]), strict=True))

    # -- planning
    def _plan(self, model: OnnxModel, texts: list[str]) -> list[_Plan]:
        plans = [_Plan(t, split_sentences(t)) for t in texts]
        if self.reads_sentences_in_context and model.pools_spans:
            return _plan_in_context(model, plans)
        return _plan_alone(model, plans)

    def _read_again_alone(
        self,
        model: OnnxModel,
        plans: list[_Plan],
        out: ModelOutputs,
        keys: dict[_Key, int],
        batch_size: int,
        early: Speculative | None = None,
    ) -> ModelOutputs | None:
        """Read the sentences of ``plans`` on their own (a second, smaller pass; its rows follow ``out``'s) and
        switch the plans to those readings; the whole-text rows of the first pass stay (a span does not change the
        whole reading). None when every such sentence was already read alone in the first pass. ``early``, the
        same pass started speculatively, gives the rows when it read exactly these sequences."""
        base = len(out.sentiment)
        for plan in plans:
            assert plan.whole is not None
            keys.setdefault((tuple(plan.whole), ()), keys[(tuple(plan.whole), tuple(plan.spans))])
        sequences = _alone_sequences(plans, keys)
        for plan in plans:
            plan.pieces = [[ids] for ids in plan.alone]
            plan.spans = []
        for k, ids in enumerate(sequences):
            keys[(tuple(ids), ())] = base + k
        if early is not None and early.sequences == sequences:
            return early.result()
        if early is not None:
            early.cancel()
        return model.run(sequences, batch_size=batch_size) if sequences else None

    # -- composing the result
    def _compose(
        self,
        plan: _Plan,
        out: ModelOutputs,
        keys: dict[_Key, int],
        language: str,
        override: Probs | None,
        matches: list[CueMatch],
    ) -> Analysis:
        heads = self._heads()
        temperature, thresholds = heads.temperature, heads.thresholds
        sarcasm_threshold, go_labels = heads.sarcasm_threshold, heads.go_labels

        row = keys[(tuple(plan.whole), tuple(plan.spans))] if plan.whole is not None else None
        rows = [row] if row is not None else [keys[(tuple(w), ())] for w in plan.windows]
        weights = [1.0] if plan.whole is not None else [max(len(w) - 2, 1) for w in plan.windows]
        text_p = _mean_probs([_softmax(out.sentiment[r].tolist(), temperature) for r in rows], weights)
        go_raw = _blend([[_sigmoid(float(v)) for v in out.emotions[r]] for r in rows], weights)
        sarcasm_model = _blend([[_sigmoid(float(out.sarcasm[r]))] for r in rows], weights)[0]

        units = plan.units
        unit_p: list[Probs]
        unit_sarcasm: list[float]
        if plan.spans:
            assert row is not None
            first = out.span_rows[row]
            unit_rows = range(first, first + len(plan.spans))
            unit_p = [_softmax(out.sentiment[i].tolist(), heads.sentence_temperature) for i in unit_rows]
            unit_sarcasm = [_sigmoid(float(out.sarcasm[i])) for i in unit_rows]
        elif plan.pieces:
            unit_p, unit_sarcasm = [], []
            for pieces in plan.pieces:
                r = [keys[(tuple(s), ())] for s in pieces]
                w = [max(len(s) - 2, 1) for s in pieces]
                unit_p.append(_mean_probs([_softmax(out.sentiment[i].tolist(), temperature) for i in r], w))
                unit_sarcasm.append(_blend([[_sigmoid(float(out.sarcasm[i]))] for i in r], w)[0])
        else:
            unit_p, unit_sarcasm = [text_p], [sarcasm_model]

        if override is not None:  # the multilingual layer reads the whole text: its sentences share its reading
            text_p = override
            unit_p = [override] * len(units)
        emotions = support_emotions(dict(zip(go_labels, recentre(go_raw, thresholds), strict=True)))
        matches.sort(key=lambda m: (_APPLY_ORDER.get(m.rule.kind, 99), m.start))
        lengths = _content_lengths(plan.text, units)
        cues: list[Cue] = []
        urgent: list[CueMatch] = []
        pattern_sarcasm = 0.0
        single = len(units) == 1
        pre_sarcasm: Label | None = None
        for m in matches:
            strength = m.strength
            if m.rule.kind == "sarcasm":
                # the pattern and the model's sarcasm head are two witnesses of the same thing
                strength = 1.0 - (1.0 - strength) * (1.0 - unit_sarcasm[m.unit])
                pattern_sarcasm = max(pattern_sarcasm, strength)
                if pre_sarcasm is None:
                    pre_sarcasm = _argmax(text_p)
            if single:
                unit_p[0], moved, direction = apply_rule(unit_p[0], m.rule, strength)
                text_p = unit_p[0]
            elif m.rule.scope == "text" and m.rule.direction is None:
                # a whole-text amplifier (all caps) follows the text's polarity, not one sentence's
                text_p, moved, direction = apply_rule(text_p, m.rule, strength)
            else:
                unit_p[m.unit], moved, direction = apply_rule(unit_p[m.unit], m.rule, strength)
                share = 1.0 if m.rule.scope == "text" else cue_share(lengths, m.unit)
                text_p, _, _ = apply_rule(text_p, m.rule, share * strength)
            boost(emotions, m.rule, direction, strength)
            cues.append(to_cue(plan.text, m, direction, moved))
            if m.rule.direction is not None or direction == "negative":
                urgent.append(m)
        head: list[CueMatch] = []
        if self.tonal and pattern_sarcasm == 0.0:
            head_min = max(sarcasm_threshold, SARCASM_HEAD_MIN)
            self._sarcasm_head(plan, unit_p, unit_sarcasm, head_min, head, cues, emotions)
            if head:
                pre_sarcasm = pre_sarcasm or _argmax(text_p)
                if single:
                    text_p = unit_p[0]
                else:
                    for m in head:
                        text_p, _, _ = apply_rule(text_p, m.rule, cue_share(lengths, m.unit) * m.strength)
        sarcasm = 1.0 - (1.0 - sarcasm_model) * (1.0 - pattern_sarcasm)

        label: Label = _argmax(text_p)
        confidence = {"negative": text_p[0], "neutral": text_p[1], "positive": text_p[2]}[label]
        mixed = self._mixed(plan, unit_p) if min(text_p[0], text_p[2]) >= MIXED_WHOLE_MIN else None
        reasons: list[str] = []
        if mixed is not None:
            label, confidence = "mixed", mixed
            reasons.append("mixed_sentiment")
        if confidence < self.review_threshold:
            reasons.insert(0, "low_confidence")
        if pre_sarcasm == "positive" and label == "negative":
            reasons.append("sarcasm_flipped")
        language_reason = self.language_review(language)
        if language_reason is not None:
            reasons.append(language_reason)

        sentences = tuple(
            SentenceResult(plan.text[a:b], a, b, _argmax(p), _as_dict(p), p[2] - p[0])
            for (a, b), p in zip(units, unit_p, strict=True)
        )
        cues.sort(key=lambda c: (c.start, c.end))
        return Analysis(
            label=label,
            probabilities=_as_dict(text_p),
            score=text_p[2] - text_p[0],
            confidence=confidence,
            needs_review=bool(reasons),
            emotions=MappingProxyType({e: emotions[e] for e in EMOTIONS}),
            goemotions=MappingProxyType(dict(zip(go_labels, go_raw, strict=True))),
            sarcasm=sarcasm,
            urgency=urgency([*urgent, *head], emotions),
            language=language,
            sentences=sentences,
            cues=tuple(cues),
            model_version=self.model_version,
            review_reasons=tuple(reasons),
        )

    def _sarcasm_head(
        self,
        plan: _Plan,
        unit_p: list[Probs],
        unit_sarcasm: list[float],
        threshold: float,
        head: list[CueMatch],
        cues: list[Cue],
        emotions: dict[str, float],
    ) -> None:
        """Let the model's sarcasm head turn positive sentences it finds sarcastic."""
        for i, ((a, b), p, s) in enumerate(zip(plan.units, unit_p, unit_sarcasm, strict=True)):
            if s < threshold or _argmax(p) != "positive" or not negative_context(plan.text, plan.units, i):
                continue  # genuine praise stays praise: the head alone flips only next to a complaint
            strength = min((s - threshold) / max(1.0 - threshold, 1e-6), 1.0)
            match = CueMatch(SARCASM_HEAD_RULE, a, b, i, strength)
            unit_p[i], moved, direction = apply_rule(p, SARCASM_HEAD_RULE, strength)
            boost(emotions, SARCASM_HEAD_RULE, direction, strength)
            head.append(match)
            cues.append(to_cue(plan.text, match, direction, moved))

    def _mixed(self, plan: _Plan, unit_p: list[Probs]) -> float | None:
        """Confidence that the text holds both polarities, or None when it does not."""
        if len(plan.units) < 2:
            return None
        pos = neg = 0.0
        for k in _stance_units(plan):
            p = unit_p[k]
            if _argmax(p) == "positive":
                pos = max(pos, p[2])
            elif _argmax(p) == "negative":
                neg = max(neg, p[0])
        if pos >= MIXED_MIN and neg >= MIXED_MIN:
            return pos * neg
        return None


def _could_be_mixed(plan: _Plan, result: Analysis, screen: float) -> bool:
    """Whether ``result``, composed from sentences pooled in context, could be mixed had they been read alone:
    its whole text is two-sided as ``mixed`` needs (weaker polarity >= ``MIXED_WHOLE_MIN``) and two of its
    sentences lean opposite ways by at least ``screen``, cues included.

    A context pulls each sentence towards its neighbours, so a text that reading alone calls mixed can fall
    under the mixed rule in context; the screen sits well below the rule to catch it.
    """
    if not plan.spans or min(result.probabilities["negative"], result.probabilities["positive"]) < MIXED_WHOLE_MIN:
        return False
    units = _stance_units(plan)
    positive = [k for k in units if result.sentences[k].probabilities["positive"] >= screen]
    negative = [k for k in units if result.sentences[k].probabilities["negative"] >= screen]
    return any(i != j for i in positive for j in negative)


def _stance_units(plan: _Plan) -> list[int]:
    """The sentences that can make a text mixed: two words or more, and not a greeting or sign-off."""
    out = []
    for k, (a, b) in enumerate(plan.units):
        piece = plan.text[a:b]
        if len(piece.split()) >= 2 and not is_courtesy(piece):
            out.append(k)
    return out


def _plan_in_context(model: OnnxModel, plans: list[_Plan]) -> list[_Plan]:
    """Whole texts as their sentences' pieces between the special tokens, each sentence a span.

    Splits fall on whitespace and normalisation is local, so the joined pieces are the whole text's
    own tokens (tested). A text too long for one sequence is read as windows, its sentences alone.
    """
    limit = model.max_tokens
    head, tail = model.special_affixes()
    encoded = iter(model.encode([normalize_for_model(p.text[a:b]) for p in plans for a, b in p.units]))
    for plan in plans:
        pieces = [next(encoded) for _ in plan.units]
        if len(plan.units) == 1:
            _read_alone(model, plan, pieces[0], pieces)
        elif head + tail + sum(len(ids) - head - tail for ids in pieces) > limit:
            _read_alone(model, plan, None, pieces)
        else:
            whole = pieces[0][:head]
            for ids in pieces:
                start = len(whole)
                whole += ids[head : len(ids) - tail]
                plan.spans.append((start, len(whole)))
            plan.whole = whole + pieces[0][len(pieces[0]) - tail :]
            plan.alone = pieces
    return plans


def _plan_alone(model: OnnxModel, plans: list[_Plan]) -> list[_Plan]:
    """Texts read whole (or as windows) and each sentence of a multi-sentence text read on its own."""
    # a text far longer than one window is never read whole: skip tokenizing it whole
    whole_ids: list[list[int] | None] = [None] * len(plans)
    fits = [i for i, p in enumerate(plans) if len(p.units) == 1 or len(p.text) <= _WHOLE_MAX_CHARS]
    multi = [p for p in plans if len(p.units) > 1]
    unit_texts = [normalize_for_model(p.text[a:b]) for p in multi for a, b in p.units]
    # one tokenizer call for texts and sentences: each call has a fixed cost worth a short message
    encoded = model.encode([normalize_for_model(plans[i].text) for i in fits] + unit_texts)
    for i, ids in zip(fits, encoded, strict=False):
        whole_ids[i] = ids
    unit_ids = iter(encoded[len(fits) :])
    for plan, whole in zip(plans, whole_ids, strict=True):
        if len(plan.units) == 1:
            assert whole is not None  # one-sentence texts are always tokenized whole
            _read_alone(model, plan, whole, [whole])
        else:
            _read_alone(model, plan, whole, [next(unit_ids) for _ in plan.units])
    return plans


def _read_alone(model: OnnxModel, plan: _Plan, whole: list[int] | None, unit_ids: list[list[int]]) -> None:
    """Fill ``plan`` from its tokens: the whole text if it fits (else windows of sentences), and each
    sentence of a multi-sentence text as its own sequence (split at words when it is itself too long)."""
    limit = model.max_tokens
    if whole is not None and len(whole) <= limit:
        plan.whole = whole
    if len(plan.units) == 1 and plan.whole is not None:
        return
    pieces: list[list[tuple[Span, list[int]]]] = []
    for span, seq in zip(plan.units, unit_ids, strict=True):
        if len(seq) <= limit:
            pieces.append([(span, seq)])
        else:
            pieces.append(fit_pieces(plan.text, span, model.encode, model.count_words, limit))
    plan.pieces = [[seq for _, seq in unit] for unit in pieces]
    if plan.whole is None:
        flat = [(span, len(seq)) for unit in pieces for span, seq in unit]
        plan.windows = [seq for _, seq in pack_windows(plan.text, flat, model.encode, limit)]
    if len(plan.units) == 1:
        plan.pieces = []


def _content_lengths(text: str, units: Sequence[Span]) -> list[int]:
    """Characters per sentence, with greetings and sign-offs counted as nothing (they carry no stance)."""
    lengths = [0 if is_courtesy(text[a:b]) else b - a for a, b in units]
    return lengths if any(lengths) else [b - a for a, b in units]


def _sequences(plan: _Plan) -> list[tuple[list[int], list[tuple[int, int]]]]:
    """The sequences a plan runs, each with the spans pooled from it."""
    seqs = [(plan.whole, plan.spans)] if plan.whole is not None else [(w, []) for w in plan.windows]
    for unit in plan.pieces:
        seqs.extend((s, []) for s in unit)
    return seqs


def _mean_probs(rows: Sequence[Probs], weights: Sequence[float]) -> Probs:
    if len(rows) == 1:
        return rows[0]
    total = sum(weights)
    acc = [sum(r[k] * w for r, w in zip(rows, weights, strict=True)) / total for k in range(3)]
    s = sum(acc)
    return (acc[0] / s, acc[1] / s, acc[2] / s)


def _blend(rows: Sequence[Sequence[float]], weights: Sequence[float]) -> list[float]:
    """Weighted mean blended half-and-half with the maximum: one angry paragraph still counts."""
    if len(rows) == 1:
        return list(rows[0])
    total = sum(weights)
    out = []
    for k in range(len(rows[0])):
        mean = sum(r[k] * w for r, w in zip(rows, weights, strict=True)) / total
        out.append(0.5 * mean + 0.5 * max(r[k] for r in rows))
    return out


@cache
def _language_re() -> re.Pattern[str]:
    return re.compile(r"^[a-z]{2,3}$")


def check_language(language: str | None) -> str | None:
    """A caller-given language as its ISO 639 primary subtag ("en-US" -> "en")."""
    if language is None:
        return None
    if not isinstance(language, str):
        raise InputError("language must be a string such as 'en'", code="invalid_language", field="language")
    code = language.strip().lower().replace("_", "-").split("-")[0]
    if not _language_re().match(code):
        raise InputError(f"language {language!r} is not an ISO 639 code", code="invalid_language", field="language")
    return code


_analyzers: dict[tuple[Any, ...], Analyzer] = {}
_analyzers_lock = threading.Lock()


def analyzer_key(settings: Settings, model_dir: Path | None = None) -> tuple[Any, ...]:
    """What makes two analyzers score alike: the model folder and every setting :meth:`Analyzer.from_settings` reads.

    The one key of every analyzer cache (this module's, the registry's, a backfill worker's), so a setting
    added to the analyzer cannot be forgotten by one of them.
    """
    folder = model_dir if model_dir is not None else settings.model_dir or BUNDLED_MODEL_DIR
    return (
        Path(folder).resolve(),
        settings.threads,
        settings.score_alone,
        settings.review_threshold,
        settings.max_text_chars,
        settings.unvalidated_language_action,
        settings.language_min_f1,
    )


_by_environment: dict[tuple[Any, ...], Analyzer] = {}


def get_analyzer(settings: Settings | None = None) -> Analyzer:
    """The shared analyzer for ``settings`` (default: ``Settings()``), built once per configuration."""
    if settings is None:
        from tonewatch.settings import Settings, environment_fingerprint

        fingerprint = environment_fingerprint()
        found = _by_environment.get(fingerprint)
        if found is not None:
            return found
        shared = get_analyzer(Settings())
        with _analyzers_lock:
            if len(_by_environment) >= 16:  # environments come and go in tests; keep the map small
                _by_environment.clear()
            _by_environment[fingerprint] = shared
        return shared
    key = analyzer_key(settings)
    model_dir = key[0]
    with _analyzers_lock:
        analyzer = _analyzers.get(key)
        if analyzer is None:
            analyzer = Analyzer.from_settings(settings, model_dir)
            _analyzers[key] = analyzer
    return analyzer


def analyze(text: str, *, language: str | None = None) -> Analysis:
    """Score one text with the shared analyzer of the current settings (``tonewatch.analyze``)."""
    return get_analyzer().analyze(text, language=language)


def analyze_batch(
    texts: Sequence[str], batch_size: int = 32, *, languages: Sequence[str | None] | None = None
) -> list[Analysis]:
    """Score many texts in one batched pass with the shared analyzer (``tonewatch.analyze_batch``)."""
    return get_analyzer().analyze_batch(texts, batch_size=batch_size, languages=languages)
