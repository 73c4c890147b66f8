"""Hyper-parameters of one ``tonewatch train`` adaptation (torch-free, so callers can build them anywhere)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["AdaptSettings"]


@dataclass(frozen=True, slots=True)
class AdaptSettings:
    """Hyper-parameters of one adaptation (recorded in the manifest)."""

    epochs: int = 4
    batch_size: int = 16
    lr: float = 3e-5
    weight_decay: float = 0.01
    warmup: float = 0.1
    evals_per_epoch: int = 2
    patience: int = 2  # evaluations without a better held-out macro-F1 before stopping
    distill_weight: float = 1.0  # emotion + sarcasm soft-target BCE against the base model
    anchor_weight: float = 0.05  # L2 pull of the sentiment head towards the base head
    class_weights: bool = True  # square-root inverse-frequency, as in the base recipe
    seed: int = 13
    threads: int = 2

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
