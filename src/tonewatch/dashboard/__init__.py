"""dashboard stage: the web pages and reports served by ``tonewatch serve`` at ``/``.

Server-rendered (Jinja2) pages behind the API's keys, roles and visibility policy: Overview,
At-risk customers, Customer, Review queue, Rules, Model health and the Monthly report
(HTML, CSV and PNG charts, also written offline by ``tonewatch report monthly``).

Names are loaded on first use, so the command line can register ``report monthly``
without importing the web stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._export import write_monthly_report
    from ._monthly import GroupRow, MonthlyReport, build_monthly_report, latest_month
    from ._mount import FORM_PATHS, mount_dashboard, router
    from ._png import encode_png
    from ._raster import render_chart_png

__all__ = [
    "FORM_PATHS",
    "GroupRow",
    "MonthlyReport",
    "build_monthly_report",
    "encode_png",
    "latest_month",
    "mount_dashboard",
    "render_chart_png",
    "router",
    "write_monthly_report",
]

_WHERE = {
    "FORM_PATHS": "._mount",
    "GroupRow": "._monthly",
    "MonthlyReport": "._monthly",
    "build_monthly_report": "._monthly",
    "encode_png": "._png",
    "latest_month": "._monthly",
    "mount_dashboard": "._mount",
    "render_chart_png": "._raster",
    "router": "._mount",
    "write_monthly_report": "._export",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
