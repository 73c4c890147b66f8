"""tonewatch: read every customer message, follow each customer, act before they leave."""

from ._errors import *  # noqa: F403
from ._errors import __all__ as _errors_all
from ._version import __version__

__all__ = ["__version__", *_errors_all]
