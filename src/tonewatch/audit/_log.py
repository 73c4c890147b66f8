"""The append-only, hash-chained audit log.

Every entry's hash covers its content and the previous entry's hash, so changing any
stored byte, deleting an entry or reordering entries breaks the chain at a nameable
``seq``. The head row (newest seq and hash) is locked for each append, which serialises
concurrent writers and makes the tail tamper-evident too.

An entry is written in the caller's session and becomes durable with the caller's
commit: the audit record and the change it describes commit or roll back together.
Never put personal data in ``details`` (quote ids and counts): entries cannot be erased
without breaking the chain.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from tonewatch._errors import AuditIntegrityError, InputError
from tonewatch.store._store import store_error

from ._chain import entry_hash, format_ts, normalize_details
from ._models import GENESIS_HASH, AuditHeadRow, AuditRow

__all__ = ["AuditEntry", "AuditLog", "ExportFormat"]

ExportFormat = Literal["jsonl", "csv"]
_FIELDS = ("seq", "ts", "actor", "action", "subject", "details", "prev_hash", "hash")
_PAGE = 2000


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One link of the chain, as stored."""

    seq: int
    ts: datetime
    actor: str
    action: str
    subject: str
    details: Mapping[str, Any]
    prev_hash: str
    hash: str

    @classmethod
    def from_row(cls, row: AuditRow) -> AuditEntry:
        return cls(row.seq, row.ts, row.actor, row.action, row.subject, row.details, row.prev_hash, row.hash)

    def expected_hash(self) -> str:
        """The hash this entry should carry given its stored content."""
        return entry_hash(self.seq, self.ts, self.actor, self.action, self.subject, self.details, self.prev_hash)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "ts": format_ts(self.ts),
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "details": dict(self.details),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def _require_text(value: str, name: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"audit {name} must be a non-empty string", field=name)
    if len(value) > limit:
        raise InputError(f"audit {name} is longer than {limit} characters", field=name)
    return value


class AuditLog:
    """Record, read, verify and export audit entries through one session."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def record(
        self,
        actor: str,
        action: str,
        subject: str,
        details: Mapping[str, Any] | None = None,
        *,
        ts: datetime | None = None,
    ) -> AuditEntry:
        """Append one entry (``actor`` did ``action`` to ``subject``) and return it.

        ``action`` is a dotted verb such as ``rule.fired`` or ``privacy.erase``; ``subject``
        names what it concerns (``customer:c1``, ``review:42``). The entry is part of the
        session's transaction.
        """
        actor = _require_text(actor, "actor", 200)
        action = _require_text(action, "action", 100)
        subject = _require_text(subject, "subject", 10_000)
        plain = normalize_details(details)
        when = (ts or datetime.now(UTC)).astimezone(UTC)
        s = self._session
        try:
            # Locking the head first serialises appenders (row lock on PostgreSQL; on SQLite
            # the write transaction is already exclusive) before anyone reads the tip.
            bumped = s.execute(update(AuditHeadRow).where(AuditHeadRow.id == 1).values(seq=AuditHeadRow.seq + 1))
            if getattr(bumped, "rowcount", 1) == 0:
                s.add(AuditHeadRow(id=1, seq=1, hash=GENESIS_HASH))
                s.flush()
            head = s.execute(
                select(AuditHeadRow).where(AuditHeadRow.id == 1).execution_options(populate_existing=True)
            ).scalar_one()
            seq, prev_hash = head.seq, head.hash
            digest = entry_hash(seq, when, actor, action, subject, plain, prev_hash)
            s.add(
                AuditRow(
                    seq=seq,
                    ts=when,
                    actor=actor,
                    action=action,
                    subject=subject,
                    details=plain,
                    prev_hash=prev_hash,
                    hash=digest,
                )
            )
            head.hash = digest
            s.flush()
        except SQLAlchemyError as exc:
            raise store_error(exc, "writing the audit log") from exc
        return AuditEntry(seq, when, actor, action, subject, plain, prev_hash, digest)

    def head(self) -> tuple[int, str]:
        """(seq, hash) of the newest entry; (0, genesis) for an empty log."""
        row = self._session.execute(select(AuditHeadRow.seq, AuditHeadRow.hash).where(AuditHeadRow.id == 1)).first()
        return (0, GENESIS_HASH) if row is None else (int(row[0]), str(row[1]))

    def count(self) -> int:
        return int(self._session.execute(select(func.count()).select_from(AuditRow)).scalar_one())

    def iter_entries(
        self,
        *,
        subject: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        after_seq: int = 0,
    ) -> Iterator[AuditEntry]:
        """Entries in chain order, read in pages (the log can be large)."""
        last = after_seq
        while True:
            q = select(AuditRow).where(AuditRow.seq > last).order_by(AuditRow.seq).limit(_PAGE)
            if subject is not None:
                q = q.where(AuditRow.subject == subject)
            if action is not None:
                q = q.where(AuditRow.action == action)
            if since is not None:
                q = q.where(AuditRow.ts >= since)
            try:
                rows = self._session.execute(q).scalars().all()
            except SQLAlchemyError as exc:
                raise store_error(exc, "reading the audit log") from exc
            if not rows:
                return
            for row in rows:
                yield AuditEntry.from_row(row)
                self._session.expunge(row)
            last = rows[-1].seq

    def entries(
        self, *, subject: str | None = None, action: str | None = None, limit: int | None = None
    ) -> list[AuditEntry]:
        """Matching entries in chain order (the first ``limit`` when given)."""
        out: list[AuditEntry] = []
        for entry in self.iter_entries(subject=subject, action=action):
            out.append(entry)
            if limit is not None and len(out) >= limit:
                break
        return out

    def verify(self) -> int:
        """Check the whole chain; return the number of entries, or raise at the first bad seq.

        Detects an altered entry (its hash no longer matches its content), a deleted entry
        (a gap in ``seq`` or a broken ``prev_hash`` link), reordered entries, and entries
        removed from the end (the head names a later entry than the last one stored).
        """
        expected_seq = 1
        prev_hash = GENESIS_HASH
        for entry in self.iter_entries():
            if entry.seq != expected_seq:
                raise AuditIntegrityError(
                    f"audit entry {expected_seq} is missing (next stored entry is {entry.seq})", seq=expected_seq
                )
            if entry.prev_hash != prev_hash:
                raise AuditIntegrityError(
                    f"audit entry {entry.seq} does not link to entry {entry.seq - 1} (deleted or reordered)",
                    seq=entry.seq,
                )
            if entry.expected_hash() != entry.hash:
                raise AuditIntegrityError(f"audit entry {entry.seq} was altered after it was written", seq=entry.seq)
            prev_hash = entry.hash
            expected_seq += 1
        head_seq, head_hash = self.head()
        last = expected_seq - 1
        if head_seq != last or (last > 0 and head_hash != prev_hash):
            if head_seq > last:
                raise AuditIntegrityError(
                    f"audit entries {last + 1}..{head_seq} are missing from the end of the log", seq=last + 1
                )
            raise AuditIntegrityError(f"the audit head does not match entry {last}", seq=max(last, 1))
        return last

    def export(self, fmt: ExportFormat = "jsonl") -> Iterator[str]:
        """The log as text chunks (JSON lines, or CSV with a header and ``details`` as JSON).

        Streams, so ``out.writelines(log.export("csv"))`` works for logs of any size. Each
        line carries ``hash`` and ``prev_hash``, so an export can be verified offline.
        """
        if fmt not in ("jsonl", "csv"):
            raise InputError(f"unknown export format {fmt!r}: use jsonl or csv", field="format")
        if fmt == "csv":
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            writer.writerow(_FIELDS)
            yield buf.getvalue()
        for entry in self.iter_entries():
            d = entry.to_dict()
            if fmt == "jsonl":
                yield json.dumps(d, ensure_ascii=False, sort_keys=True) + "\n"
            else:
                buf = io.StringIO()
                writer = csv.writer(buf, lineterminator="\n")
                d["details"] = json.dumps(d["details"], ensure_ascii=False, sort_keys=True)
                writer.writerow([d[f] for f in _FIELDS])
                yield buf.getvalue()
