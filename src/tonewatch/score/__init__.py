"""Scoring: sentiment, emotions, sarcasm, urgency and the evidence behind them.

``Analyzer`` runs the bundled multi-task MiniLM (ONNX) plus a tonal layer of transparent
cues; ``get_analyzer()`` shares one loaded analyzer per configuration; ``categorize()``
names a message's issue category. Importing this package does not load the model or
onnxruntime.
"""

from ._analysis import EMOTIONS, LABELS, SENTIMENTS, Analysis, Cue, SentenceResult, Urgency
from ._analyzer import Analyzer, analyze, analyze_batch, check_language, get_analyzer
from ._category import Taxonomy, categorize
from ._cues import RULES, CueRule
from ._emotions import top_emotion
from ._metrics import SentimentReport, evaluate_sentiment
from ._model import BUNDLED_MODEL_DIR
from ._samples import SAMPLES_PATH, load_samples
from ._sentences import split_sentences
from ._text import check_text

__all__ = [
    "BUNDLED_MODEL_DIR",
    "EMOTIONS",
    "LABELS",
    "RULES",
    "SAMPLES_PATH",
    "SENTIMENTS",
    "Analysis",
    "Analyzer",
    "Cue",
    "CueRule",
    "SentenceResult",
    "SentimentReport",
    "Taxonomy",
    "Urgency",
    "analyze",
    "analyze_batch",
    "categorize",
    "check_language",
    "check_text",
    "evaluate_sentiment",
    "get_analyzer",
    "load_samples",
    "split_sentences",
    "top_emotion",
]
