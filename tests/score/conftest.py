"""One loaded analyzer for the whole scoring test session (loading the model once keeps the files fast).

It scores with the bundled model, or with the model folder in ``TONEWATCH_MODEL_DIR`` (to
check a freshly trained model against the same hard cases before bundling it).
"""

from __future__ import annotations

import pytest

from tonewatch.score import Analyzer
from tonewatch.settings import Settings


@pytest.fixture(scope="session")
def analyzer() -> Analyzer:
    return Analyzer(Settings().model_dir, threads=2).load()
