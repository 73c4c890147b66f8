"""Field types shared by the routers.

pydantic's lax mode reads a bare number as a Unix timestamp, which the OpenAPI schema (``format:
date-time``) does not allow; the API accepts exactly what its schema documents, so numbers are refused.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import BeforeValidator

__all__ = ["IsoDateTime"]

_NUMBER = re.compile(r"\s*[+-]?\d+(\.\d*)?([eE][+-]?\d+)?\s*")


def _iso_only(value: Any) -> Any:
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("expected an ISO-8601 date-time such as 2026-05-01T10:00:00Z")
    return value


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_only)]
