"""``tonewatch train`` end to end: adapt a model to a team's labels and write a model folder.

Steps: split the team's data (stratified, seeded) -> recover the base model's torch weights
from its ONNX file -> record the base's emotion/sarcasm outputs on the training texts ->
fine-tune with early stopping on the held-out macro-F1 -> export ONNX (span pooling) -> int8
only if the held-out accuracy and macro-recall drop by at most 0.5 points -> temperature
fitted on the held-out split -> ``manifest.json`` with provenance, held-out figures for base
and adapted, and the sha256 of every file. The folder is built under a hidden name and
renamed into place, so a half-written model is never visible.
"""

from __future__ import annotations

import importlib
import json
import shutil
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tonewatch._errors import InputError, NotFoundError, require_extra

from ._adapt_settings import AdaptSettings
from ._calibration import crossfit_ece, fit_temperature, sentiment_report
from ._train_data import SENTIMENT_LABELS, LabelledData, stratified_split

if TYPE_CHECKING:
    from ._adapt import AdaptOutcome, ProgressFn

__all__ = [
    "TrainReport",
    "build_manifest",
    "default_version",
    "registry_model_dir",
    "require_train_extra",
    "resolve_base",
    "train_model",
]

_PURPOSE = "tonewatch train"


def require_train_extra() -> None:
    """Raise :class:`~tonewatch.MissingExtraError` naming ``[train]`` unless torch & co. are installed."""
    for module in ("torch", "transformers", "onnx"):
        require_extra(module, "train", _PURPOSE)


def registry_model_dir(version: str) -> Path | None:
    """REGISTRY HOOK: the folder of registered model ``version``, or None without a registry.

    Looks the name up in ``tonewatch.learn._registry`` (``Registry.from_settings(...).get``)
    when that module is present; a registry with another interface only needs this function
    changed.
    """
    try:
        registry_module: Any = importlib.import_module("tonewatch.learn._registry")
    except ImportError:
        return None
    registry_cls = getattr(registry_module, "Registry", None)
    if registry_cls is None:
        return None
    from tonewatch.settings import Settings

    return Path(registry_cls.from_settings(Settings()).get(version).path)


def resolve_base(base: str | None) -> Path:
    """The model folder to adapt: the bundled model, a model folder path, or a registered version."""
    from tonewatch.score._model import BUNDLED_MODEL_DIR

    if base is None:
        return BUNDLED_MODEL_DIR
    folder = Path(base).expanduser()
    if (folder / "manifest.json").is_file():
        return folder
    if folder.exists():
        raise InputError(
            f"--base {base}: not a model folder (no manifest.json)", code="not_a_model_folder", field="base"
        )
    if "/" in base or "\\" in base:
        raise NotFoundError(f"--base {base}: no such model folder", field="base")
    found = registry_model_dir(base)
    if found is None:
        raise NotFoundError(
            f"--base {base!r} is neither a model folder (with manifest.json) nor a registered version", field="base"
        )
    return found


def default_version(base_version: str, today: datetime | None = None) -> str:
    """``<base public version>+adapt.<YYYYMMDD>``, e.g. ``1.0.0+adapt.20261124``."""
    day = (today or datetime.now(UTC)).strftime("%Y%m%d")
    return f"{base_version.split('+', 1)[0]}+adapt.{day}"


@dataclass(frozen=True, slots=True)
class TrainReport:
    """Where the adapted model went and what it measured."""

    out: Path
    version: str
    manifest: dict[str, Any]

    @property
    def base_heldout(self) -> dict[str, Any]:
        return dict(self.manifest["metrics"]["heldout"]["base"])

    @property
    def adapted_heldout(self) -> dict[str, Any]:
        return dict(self.manifest["metrics"]["heldout"]["adapted"])


def _data_summary(data: LabelledData, train_idx: list[int], held_idx: list[int] | None) -> dict[str, Any]:
    def counts(idx: list[int]) -> dict[str, int]:
        return {name: sum(1 for i in idx if data.labels[i] == k) for k, name in enumerate(SENTIMENT_LABELS)}

    out: dict[str, Any] = {
        "file": data.path.name,
        "sha256": data.sha256,
        "examples": len(data),
        "counts": data.counts(),
        "skipped_mixed": data.skipped_mixed,
        "duplicates_dropped": data.duplicates,
        "train_counts": counts(train_idx),
    }
    if held_idx is not None:
        out["heldout_counts"] = counts(held_idx)
    return out


def build_manifest(
    base: Mapping[str, Any],
    *,
    version: str,
    encoder: Mapping[str, Any],
    precision: str,
    quantization: Mapping[str, Any],
    temperature: float,
    ece_crossfit: float,
    ece_in_sample: float,
    base_heldout: Mapping[str, Any],
    adapted_heldout: Mapping[str, Any],
    training_data: Mapping[str, Any],
    adaptation: Mapping[str, Any],
    files: Mapping[str, str],
    prior_correction: Mapping[str, Any] | None = None,
    created: datetime | None = None,
) -> dict[str, Any]:
    """The adapted model's manifest: the base's format plus ``base_version``, provenance and held-out figures."""
    calibration = dict(base.get("calibration", {}))
    return {
        "name": base.get("name", "tonewatch-minilm-multitask"),
        "version": version,
        "base_version": str(base["version"]),
        "created": (created or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "architecture": base.get("architecture", "MiniLM encoder, mean pooling, linear heads"),
        "pooling": "spans",
        "encoder": dict(encoder),
        "precision": precision,
        "quantization": dict(quantization),
        "max_tokens": int(base["max_tokens"]),
        "normalization": base.get("normalization", "tonewatch.score._normalize.normalize_for_model"),
        "labels": base["labels"],
        "calibration": {
            "method": "temperature scaling on the held-out split of the adaptation data",
            "temperature": round(temperature, 4),
            "ece_crossfit": round(ece_crossfit, 4),
            "ece_in_sample": round(ece_in_sample, 4),
            # the emotion and sarcasm heads are distilled from the base model, so its thresholds still apply
            "goemotions_thresholds": calibration.get(
                "goemotions_thresholds", [0.5] * len(base["labels"]["goemotions"])
            ),
            "sarcasm_threshold": calibration.get("sarcasm_threshold", 0.5),
            "prior_correction": dict(prior_correction) if prior_correction is not None else None,
        },
        "metrics": {"heldout": {"base": dict(base_heldout), "adapted": dict(adapted_heldout)}},
        "adaptation": dict(adaptation),
        "training_data": dict(training_data),
        "base_training_data": base.get("training_data", []),
        "languages": {},
        "licence_note": base.get("licence_note", ""),
        "files": dict(files),
    }


def _out_folder(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"output folder {out} already exists and is not empty", code="output_exists", field="out")


def train_model(
    data: LabelledData,
    *,
    base_dir: Path,
    out: Path | None = None,
    version: str | None = None,
    replay: LabelledData | None = None,
    settings: AdaptSettings | None = None,
    heldout: float = 0.2,
    prior: tuple[float, float, float] | None = None,
    progress: ProgressFn | None = None,
    log: Callable[[str], None] | None = None,
) -> TrainReport:
    """Adapt the model in ``base_dir`` to ``data`` and write the new model folder (see the module docstring).

    ``prior`` gives the class shares of the traffic the model will score when they differ from
    the labelled data's (labels are often collected per class): the calibrated probabilities are
    corrected for the label shift, ``p(y|x) * prior[y] / labelled share[y]``, folded into the
    sentiment bias, and the held-out figures are reweighted to that class mix.
    """
    require_train_extra()
    import torch
    from tokenizers import Tokenizer

    from tonewatch.score._model import read_manifest, verify_files
    from tonewatch.settings import Settings

    from ._adapt import Examples, adapt, model_outputs
    from ._export import SpanRunner, export_span_onnx, file_sha256, shift_sentiment_bias
    from ._quantize import Metrics, choose_precision
    from ._registry import check_version_name
    from ._torch_model import ENCODER_FIELDS, base_encoder_config, load_model_folder

    settings = settings or AdaptSettings()
    say = log or (lambda _msg: None)
    if not 0.05 <= heldout <= 0.5:
        raise InputError("--heldout must be between 0.05 and 0.5", code="invalid_heldout", field="heldout")
    base_manifest = read_manifest(base_dir)
    verify_files(base_dir, base_manifest)
    base_version = str(base_manifest["version"])
    version = check_version_name(version or default_version(base_version))
    out = out if out is not None else Settings().home / "trained" / version
    _out_folder(out)
    max_tokens = int(base_manifest["max_tokens"])

    train_idx, held_idx = stratified_split(data.labels, heldout, settings.seed)
    say(f"{len(train_idx)} examples to train on, {len(held_idx)} held out ({heldout:.0%} of every class)")
    tokenizer = Tokenizer.from_file(str(base_dir / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_tokens)
    train_texts = [data.texts[i] for i in train_idx]
    train_labels = [data.labels[i] for i in train_idx]
    if replay is not None:
        train_texts += list(replay.texts)
        train_labels += list(replay.labels)
    held_texts = [data.texts[i] for i in held_idx]
    held_labels = [data.labels[i] for i in held_idx]
    train_ids = [e.ids for e in tokenizer.encode_batch(train_texts)]
    held_ids = [e.ids for e in tokenizer.encode_batch(held_texts)]

    torch.set_num_threads(max(1, settings.threads))
    say(f"recovering the weights of base model {base_version} from its ONNX file")
    model = load_model_folder(base_dir, base_manifest)
    encoder = dict(base_manifest.get("encoder") or base_encoder_config())
    # the adapted encoder no longer gives the states the base model's span reader was fitted to: the new
    # model reads sentences alone (its manifest has no ``sentences`` block), so it ships without the reader
    model.span_reader = None
    _, teacher_emotions, teacher_sarcasm = model_outputs(model, train_ids, progress=progress)
    examples = Examples(train_ids, train_labels, teacher_emotions, teacher_sarcasm)
    outcome: AdaptOutcome = adapt(model, examples, held_ids, held_labels, settings, progress=progress, log=say)

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.{uuid.uuid4().hex[:8]}.tmp"
    staging.mkdir()
    try:
        work = staging / "work"
        work.mkdir()
        fp32 = work / "model.fp32.onnx"
        say("exporting ONNX (fp32) and quantising (int8)")
        if progress is not None:
            progress("export", 0, 3)
        export_span_onnx(model, fp32)
        if progress is not None:
            progress("export", 1, 3)
        y = np.array(held_labels)
        tok = base_dir / "tokenizer.json"

        def held_logits(path: Path) -> Any:
            return SpanRunner(path, tok, max_tokens=max_tokens, threads=settings.threads).run(held_texts).sentiment

        def held_figures(logits: Any) -> Metrics:
            return {"heldout": sentiment_report(logits, y, 1.0, SENTIMENT_LABELS)}

        chosen_file, quantization, chosen_logits = choose_precision(fp32, work, held_logits, held_figures, log=say)
        chosen = str(quantization["chosen"])
        if progress is not None:
            progress("export", 2, 3)
        logits: dict[str, Any] = {"base": held_logits(base_dir / "model.onnx"), chosen: chosen_logits}
        if progress is not None:
            progress("export", 3, 3)
        say(f"shipping {chosen} (held-out drop against fp32: {quantization['largest_drop_points']:.2f} points)")
        shutil.copyfile(chosen_file, staging / "model.onnx")
        shutil.copyfile(base_dir / "tokenizer.json", staging / "tokenizer.json")
        shutil.rmtree(work)

        temperature = fit_temperature(logits[chosen], y)
        ece_cf, ece_in = crossfit_ece(logits[chosen], y)
        base_t = float(base_manifest["calibration"]["temperature"])
        correction: dict[str, Any] | None = None
        final = logits[chosen]
        if prior is not None:
            labelled = np.bincount(y, minlength=3) / len(y)
            shift = temperature * (np.log(np.asarray(prior)) - np.log(labelled))
            shift_sentiment_bias(staging / "model.onnx", shift.tolist())
            final = (
                SpanRunner(staging / "model.onnx", staging / "tokenizer.json", max_tokens=max_tokens)
                .run(held_texts)
                .sentiment
            )
            correction = {
                "method": "label-shift (Bayes) correction folded into the sentiment bias: "
                "+ temperature * (log traffic share - log labelled share)",
                "traffic_shares": dict(zip(SENTIMENT_LABELS, (round(v, 4) for v in prior), strict=True)),
                "labelled_shares": dict(zip(SENTIMENT_LABELS, (round(float(v), 4) for v in labelled), strict=True)),
                "logit_shift": [round(float(v), 4) for v in shift],
            }
            say(
                "corrected for the traffic's class shares: "
                + ", ".join(f"{k} {v}" for k, v in correction["traffic_shares"].items())
            )
        files = {p.name: file_sha256(p) for p in sorted(staging.iterdir()) if p.is_file()}
        manifest = build_manifest(
            base_manifest,
            version=version,
            encoder={k: encoder[k] for k in ENCODER_FIELDS if k in encoder},
            precision=chosen,
            quantization=quantization,
            temperature=temperature,
            ece_crossfit=ece_cf,
            ece_in_sample=ece_in,
            base_heldout={
                **sentiment_report(logits["base"], y, base_t, SENTIMENT_LABELS, prior),
                "temperature": base_t,
                "weighted_to_prior": prior is not None,
            },
            adapted_heldout={
                **sentiment_report(final, y, temperature, SENTIMENT_LABELS, prior),
                "weighted_to_prior": prior is not None,
            },
            prior_correction=correction,
            training_data={
                **_data_summary(data, train_idx, held_idx),
                "heldout_fraction": heldout,
                "split_seed": settings.seed,
                "replay": None if replay is None else _data_summary(replay, list(range(len(replay))), None),
            },
            adaptation={
                "method": "fine-tuning from the base weights with learning without forgetting: the emotion and "
                "sarcasm heads distilled from the base model's outputs on the training texts, the sentiment head "
                "anchored to the base head (L2); early stopping on held-out macro-F1",
                "settings": settings.to_dict(),
                "start": outcome.start.to_dict(),
                "best": outcome.best.to_dict() if outcome.best else None,
                "history": [ev.to_dict() for ev in outcome.history],
                "stopped_early": outcome.stopped_early,
                "planned_steps": outcome.total_steps,
            },
            files=files,
        )
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        verify_files(staging, read_manifest(staging))
        _out_folder(out)
        if out.exists():
            out.rmdir()
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return TrainReport(out, version, manifest)
