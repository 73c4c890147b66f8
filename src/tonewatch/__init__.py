"""tonewatch: read every customer message, follow each customer, act before they leave."""

from typing import TYPE_CHECKING, Any

from ._errors import *  # noqa: F403
from ._errors import __all__ as _errors_all
from ._version import __version__

if TYPE_CHECKING:
    from .score import Analysis, analyze, analyze_batch

__all__ = ["Analysis", "__version__", "analyze", "analyze_batch", *_errors_all]

# Scoring is imported on first use so `import tonewatch` never loads onnxruntime or the model.
_LAZY = {"analyze": "tonewatch.score", "analyze_batch": "tonewatch.score", "Analysis": "tonewatch.score"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tonewatch' has no attribute {name!r}")
