"""The model registry's tables: which version serves, how it got there, what the shadow said.

The model files live in a folder (``Settings.registry_dir``); only the pointers and the
history live in the database, so every worker and API process, on every machine that
shares the database, agrees on the active and shadow versions without a restart.
``model_serving`` has exactly one row (id 1, inserted by the migration), locked for every
change so two promotions can never interleave.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tonewatch.store._base import Base, JSONType, UTCDateTime

__all__ = ["ModelHistoryRow", "ModelServingRow", "ShadowResultRow"]

_BigId = BigInteger().with_variant(Integer(), "sqlite")
_VERSION = 80  # as long as messages.model_version


class ModelServingRow(Base):
    """The one pointer row: the active version (None = the bundled default) and the shadow version."""

    __tablename__ = "model_serving"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    active_version: Mapped[str | None] = mapped_column(String(_VERSION))
    shadow_version: Mapped[str | None] = mapped_column(String(_VERSION))
    revision: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_by: Mapped[str | None] = mapped_column(String(200))


class ModelHistoryRow(Base):
    """One change of a pointer: promote, rollback, shadow on/off, with who and why."""

    __tablename__ = "model_history"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    action: Mapped[str] = mapped_column(String(16))
    version: Mapped[str | None] = mapped_column(String(_VERSION))
    previous: Mapped[str | None] = mapped_column(String(_VERSION))
    actor: Mapped[str] = mapped_column(String(200))
    why: Mapped[str | None] = mapped_column(Text)
    forced: Mapped[bool] = mapped_column(Boolean, default=False)
    comparisons: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_model_history_at", "at"),)


class ShadowResultRow(Base):
    """A shadow version's reading of one live message, next to what the active version said.

    No text is stored: the event id links to the (masked) message, and erasing the customer
    removes these rows with the event.
    """

    __tablename__ = "shadow_results"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.event_id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(String(_VERSION))
    label: Mapped[str] = mapped_column(String(16))
    probabilities: Mapped[dict[str, Any]] = mapped_column(JSONType)
    confidence: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    active_version: Mapped[str] = mapped_column(String(_VERSION))
    active_label: Mapped[str] = mapped_column(String(16))
    active_score: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("event_id", "version", name="uq_shadow_results_event_version"),
        Index("ix_shadow_results_version", "version", "active_version"),
    )
