"""Where the tables of every stage are found, so migrations see the whole schema.

Each stage defines its ORM classes on :class:`~tonewatch.store.Base` in its own module;
importing those modules registers the tables. Alembic's ``env.py`` (autogenerate) and the
tests call :func:`load_all_tables`; a stage adding tables adds its module here.
"""

from __future__ import annotations

import importlib
import importlib.util

from sqlalchemy import MetaData

from ._base import Base

__all__ = ["TABLE_MODULES", "load_all_tables"]

TABLE_MODULES: tuple[str, ...] = (
    "tonewatch.store._models",
    "tonewatch.audit._models",
    "tonewatch.review._models",
    "tonewatch.triggers._models",
    "tonewatch.act._models",
    "tonewatch.outcomes._models",
    "tonewatch.api._models",
    "tonewatch.learn._models",
    "tonewatch.learn._registry_tables",
    "tonewatch.learn._drift_tables",
)


def load_all_tables() -> MetaData:
    """Import every table module that exists and return the shared metadata."""
    for name in TABLE_MODULES:
        try:
            spec = importlib.util.find_spec(name)
        except ModuleNotFoundError:
            spec = None
        if spec is not None:
            importlib.import_module(name)
    return Base.metadata
