"""learn stage of the tonewatch pipeline."""

from ._adapt_settings import AdaptSettings
from ._drift import DriftAlert, DriftReport, NewTerm, Window, compute_drift, parse_window, psi
from ._drift_record import RecordedDrift, drift_gauges, latest_drift, record_drift
from ._evaluate import EvaluationReport, LabelledExample, Prediction, build_evaluation, read_labelled, score_labelled
from ._labels import (
    AgreementStats,
    ExportReport,
    LabelledItem,
    Vote,
    agreement_stats,
    disagreements,
    export_labels,
    labelled_items,
    pick_disagreements,
    record_label,
    resolve_votes,
)
from ._promotion import HistoryEntry, ServingPointer, import_model, promote, read_pointer, rollback, set_shadow
from ._registry import BUILTIN, ModelVersion, Registry
from ._report_html import write_evaluation
from ._serving import ServingModels, serving_analyzer
from ._shadow import ShadowComparison, ShadowScorer, compare_shadow
from ._suggest import Suggestion, SuggestionRun, suggest_labels
from ._train import TrainReport, train_model

__all__ = [
    "BUILTIN",
    "AdaptSettings",
    "AgreementStats",
    "DriftAlert",
    "DriftReport",
    "EvaluationReport",
    "ExportReport",
    "HistoryEntry",
    "LabelledExample",
    "LabelledItem",
    "ModelVersion",
    "NewTerm",
    "Prediction",
    "RecordedDrift",
    "Registry",
    "ServingModels",
    "ServingPointer",
    "ShadowComparison",
    "ShadowScorer",
    "Suggestion",
    "SuggestionRun",
    "TrainReport",
    "Vote",
    "Window",
    "agreement_stats",
    "build_evaluation",
    "compare_shadow",
    "compute_drift",
    "disagreements",
    "drift_gauges",
    "export_labels",
    "import_model",
    "labelled_items",
    "latest_drift",
    "parse_window",
    "pick_disagreements",
    "promote",
    "psi",
    "read_labelled",
    "read_pointer",
    "record_drift",
    "record_label",
    "resolve_votes",
    "rollback",
    "score_labelled",
    "serving_analyzer",
    "set_shadow",
    "suggest_labels",
    "train_model",
    "write_evaluation",
]
