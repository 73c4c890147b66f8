"""Where learned health weights live: ``<home>/health-weights.yaml``.

``tonewatch health fit`` writes the file; the pipeline and ``tonewatch health`` read it, so
every report of a deployment uses the same weights. No file means the default weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tonewatch.health import HealthWeights
    from tonewatch.settings import Settings

__all__ = ["WEIGHTS_FILE", "load_weights", "save_weights", "weights_path"]

WEIGHTS_FILE = "health-weights.yaml"


def weights_path(settings: Settings) -> Path:
    return settings.home / WEIGHTS_FILE


def load_weights(settings: Settings, path: Path | None = None) -> HealthWeights | None:
    """The weights in ``path`` (or the deployment's weights file), or None when there is none."""
    from tonewatch.health import HealthWeights

    p = path or weights_path(settings)
    if path is None and not p.is_file():
        return None
    return HealthWeights.from_yaml(p)


def save_weights(settings: Settings, weights: HealthWeights, path: Path | None = None) -> Path:
    """Write ``weights`` atomically (a reader never sees half a file)."""
    p = path or weights_path(settings)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(weights.to_yaml(), encoding="utf-8")
    tmp.replace(p)
    return p
