"""The audit tables: the append-only hash chain and its head.

``audit_head`` holds the sequence number and hash of the newest entry. Appenders lock that
one row first, which serialises concurrent writers on PostgreSQL (row lock) and SQLite
(write transaction) alike, and it lets ``verify`` notice entries deleted from the end of
the chain, which the chain links alone cannot show.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tonewatch.store._base import Base, JSONType, UTCDateTime

__all__ = ["GENESIS_HASH", "AuditHeadRow", "AuditRow"]

GENESIS_HASH = "0" * 64


class AuditRow(Base):
    """One audit entry; ``hash`` covers every other column plus ``prev_hash``."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (
        Index("ix_audit_log_subject_seq", "subject", "seq"),
        Index("ix_audit_log_action_seq", "action", "seq"),
    )


class AuditHeadRow(Base):
    """The single row (``id = 1``) naming the newest entry of the chain."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
