"""The bundled sample of customer messages (what ``tonewatch score --sample`` scores).

Thirty short, varied, realistic support messages, including the hard cases the tonal
layer exists for (hedges, sarcasm, negation, polite escalation, mixed, emoji, caps, a
long email), so a fresh install shows what tonewatch reads without any data of one's own.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["SAMPLES_PATH", "load_samples"]

SAMPLES_PATH = Path(__file__).resolve().parent / "samples.jsonl"


def load_samples() -> list[dict[str, str]]:
    """The sample messages as ``{"id", "text"}`` dicts, in file order."""
    with SAMPLES_PATH.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
