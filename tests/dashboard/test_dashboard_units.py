"""The dashboard's building blocks: signed cookies, the PNG writer and charts, drift, the monthly report."""

from __future__ import annotations

import struct
import time
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tonewatch.dashboard import build_monthly_report, encode_png, latest_month, render_chart_png
from tonewatch.dashboard._charts import ChartSpec, Dataset
from tonewatch.dashboard._common import month_bounds, previous_month, week_of
from tonewatch.dashboard._font import glyph_columns, to_ascii
from tonewatch.dashboard._model_health import psi
from tonewatch.dashboard._session import (
    check_login_token,
    new_login_token,
    read_session,
    sign,
    unsign,
    write_session,
)
from tonewatch.store import Customer, EventRow, Message, Store

SECRET = "unit-test-secret"


# -- signed cookies -------------------------------------------------------------------------------


def test_a_session_round_trips_and_any_change_breaks_it() -> None:
    token = write_session("abc123", "lead", "Ana", SECRET)
    data = read_session(token, SECRET)
    assert data is not None
    assert (data.key_id, data.role, data.name) == ("abc123", "lead", "Ana")
    assert len(data.csrf) >= 24
    body, mac = token.split(".")
    for forged in (body[:-1] + ("A" if body[-1] != "A" else "B") + "." + mac, body + "." + mac[::-1], token + "x", ""):
        assert read_session(forged, SECRET) is None
    assert read_session(token, "another secret") is None


def test_sessions_expire_and_each_sign_in_gets_a_new_csrf_token() -> None:
    token = write_session("abc123", "agent", None, SECRET, now=time.time() - 13 * 3600)
    assert read_session(token, SECRET) is None
    a, b = (read_session(write_session("k", "qa", None, SECRET), SECRET) for _ in range(2))
    assert a is not None
    assert b is not None
    assert a.csrf != b.csrf


def test_a_token_signed_for_one_purpose_is_refused_for_another() -> None:
    login = sign({"k": "x", "r": "admin", "c": "y", "exp": time.time() + 60}, SECRET, "login")
    assert unsign(login, SECRET, "login") is not None
    assert read_session(login, SECRET) is None


def test_the_login_token_must_match_this_browsers_nonce() -> None:
    nonce, token = new_login_token(SECRET)
    other, _ = new_login_token(SECRET)
    assert check_login_token(token, nonce, SECRET)
    assert not check_login_token(token, other, SECRET)
    assert not check_login_token(token, None, SECRET)
    assert not check_login_token(None, nonce, SECRET)


@given(st.text(max_size=300))
def test_garbage_never_passes_for_a_session(text: str) -> None:
    assert read_session(text, SECRET) is None


# -- PNG --------------------------------------------------------------------------------------------


def _decode(png: bytes) -> np.ndarray:
    """A strict reader for what encode_png writes: checks every chunk's CRC."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + data) & 0xFFFFFFFF, kind
        chunks[kind] = data
        pos += 12 + length
    width, height, depth, color, *_ = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, color) == (8, 2)
    raw = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), dtype=np.uint8).reshape(height, width * 3 + 1)
    assert (raw[:, 0] == 0).all()
    return raw[:, 1:].reshape(height, width, 3)


def test_the_png_writer_keeps_every_pixel() -> None:
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 256, size=(13, 29, 3), dtype=np.uint8)
    assert (_decode(encode_png(pixels)) == pixels).all()
    with pytest.raises(ValueError):
        encode_png(np.zeros((4, 4), dtype=np.uint8))


def test_a_chart_png_draws_bars_labels_and_gaps_for_hidden_values() -> None:
    spec = ChartSpec(
        "c",
        "Négative share by category",
        "bar",
        ["billing", "login"],
        [Dataset("2026-10", [0.4, None], kind="bar", color=5)],
        percent=True,
        y_min=0,
    )
    image = _decode(render_chart_png(spec, width=400, height=240))
    assert image.shape == (240, 400, 3)
    orange = (image == np.array([213, 94, 0], dtype=np.uint8)).all(axis=2)
    columns = np.where(orange[60:170].any(axis=0))[0]
    assert columns.size > 10  # the billing bar
    assert columns.max() < 400 / 2 + 20  # and nothing drawn for the hidden login value
    empty = ChartSpec("e", "Nothing", "line", ["a"], [Dataset("x", [None])])
    assert _decode(render_chart_png(empty, width=300, height=200)).min() < 255  # title and a "no data" note


def test_the_font_draws_printable_ascii_and_folds_accents() -> None:
    assert to_ascii("Chloé Martin – 5€") == "Chloe Martin ? 5?"
    assert glyph_columns("A") != glyph_columns("B")
    assert glyph_columns("é") == glyph_columns("?")
    assert all(len(glyph_columns(chr(c))) == 5 for c in range(32, 127))


# -- small computations -----------------------------------------------------------------------------


def test_psi_is_zero_for_the_same_distribution_and_grows_with_the_shift() -> None:
    base = [10, 30, 40, 20]
    assert psi(base, base) == pytest.approx(0.0)
    assert psi(base, [2 * x for x in base]) == pytest.approx(0.0)
    assert 0 < psi(base, [12, 28, 38, 22]) < psi(base, [40, 30, 20, 10])
    assert psi(base, [0, 0, 0, 0]) == 0.0


def test_months_and_weeks() -> None:
    assert month_bounds("2026-12") == (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    assert previous_month("2026-01") == "2025-12"
    for bad in ("2026-13", "26-01", "2026-1", "may"):
        with pytest.raises(ValueError):
            month_bounds(bad)
    assert week_of(datetime(2026, 11, 29, 23, 0, tzinfo=UTC)).isoformat() == "2026-11-23"


# -- the monthly report on a real store -------------------------------------------------------------


def _store(tmp_path: Path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'report.db'}")
    store.create_all()
    return store


def _messages(store: Store, rows: list[tuple[datetime, str, str, float]]) -> None:
    """Scored customer messages (timestamp, category, masked text, score), spread over three customers."""
    now = datetime.now(UTC)
    with store.session() as session:
        for cid in ("c1", "c2", "c3"):
            session.add(Customer(id=cid, attributes={}, created_at=now, updated_at=now))
        session.flush()
        for n, (ts, category, text, score) in enumerate(rows):
            eid, cid = f"e{n}", f"c{n % 3 + 1}"
            session.add(
                EventRow(event_id=eid, customer_id=cid, kind="message", timestamp=ts, payload={}, ingested_at=now)
            )
            session.flush()
            label = "negative" if score < -0.2 else ("positive" if score > 0.2 else "neutral")
            session.add(
                Message(
                    event_id=eid,
                    customer_id=cid,
                    channel="email",
                    author="customer",
                    timestamp=ts,
                    text=text,
                    category=category,
                    label=label,
                    score=score,
                    confidence=0.8,
                    needs_review=False,
                    analysis={"emotions": {"frustration": 0.9 if score < 0 else 0.1}},
                )
            )


def test_the_monthly_report_ranks_what_drives_negative_sentiment_and_compares_with_last_month(tmp_path: Path) -> None:
    store = _store(tmp_path)
    oct_, nov = datetime(2026, 10, 5, tzinfo=UTC), datetime(2026, 11, 5, tzinfo=UTC)
    rows: list[tuple[datetime, str, str, float]] = []
    for i in range(6):  # billing: October mostly fine, November mostly negative
        rows.append((oct_ + timedelta(hours=i), "billing", "Invoice question, thanks.", 0.3))
        rows.append(
            (nov + timedelta(hours=i), "billing", "Hi,\n\nThe invoice export is broken again!\n\nBest, <NAME>", -0.7)
        )
    for i in range(6):  # how-to: positive both months
        rows.append((nov + timedelta(days=1, hours=i), "how-to", "How do I use the gantt chart? Love it.", 0.6))
    rows.append((nov + timedelta(days=2), "refund", "Refund please, the invoice export is broken.", -0.8))
    _messages(store, rows)
    with store.session(readonly=True) as session:
        assert latest_month(session, nov + timedelta(days=10)) == "2026-10"  # November is not over yet
        assert latest_month(session, datetime(2027, 1, 3, tzinfo=UTC)) == "2026-11"
        report = build_monthly_report(session, "2026-11", min_group=5, now=nov)
        listed = build_monthly_report(session, "2026-11", min_group=5, features=["the invoice export", "Gantt chart"])

    assert (report.messages, report.prev_messages) == (13, 6)
    billing = next(c for c in report.categories if c.name == "billing")
    assert billing.negative_share == 1.0
    assert billing.prev_negative_share == 0.0
    assert billing.change == 1.0
    assert report.categories[0].name == "billing"  # most negative messages first
    refund = next(c for c in report.categories if c.name == "refund")
    assert refund.suppressed
    assert refund.negative_share is None
    assert refund.mean_score is None
    assert report.features
    assert report.features[0].name in ("invoice export", "export broken")
    assert all(f.excess_negative > 0 for f in report.features)
    assert report.quotes
    assert report.quotes[0] == {"category": "billing", "text": "The invoice export is broken again!"}

    assert listed.feature_source == "list"
    assert [f.name for f in listed.features] == ["the invoice export"]  # the gantt chart is not negative
    assert listed.features[0].messages == 7
    assert listed.features[0].excess_negative > 0

    csv_text = report.to_csv()
    assert csv_text.splitlines()[0].startswith("section,name,month,messages")
    assert "category,billing,2026-11,6,1.0000" in csv_text
    assert "quote,billing" in csv_text


def test_a_quote_is_what_the_customer_said_not_their_greeting_or_signature() -> None:
    from tonewatch.dashboard._monthly import _quote

    text = "Dear team,\n\nThe export fails.\n\nLooking forward to hearing from you, <NAME> | Acme Ltd <EMAIL>"
    assert _quote(text) == "The export fails."
    assert _quote("Broken\nagain.") == "Broken again."
    assert len(_quote("word " * 200)) == 240


@pytest.mark.parametrize("name", ["Ann Lee", None])
def test_dashboard_and_api_name_a_key_the_same_way_in_the_audit_log(name: str | None) -> None:
    from tonewatch.api._auth import Principal
    from tonewatch.api._visibility import Viewer
    from tonewatch.dashboard._access import Visitor
    from tonewatch.settings import Settings

    viewer = Viewer.for_role("lead", Settings())
    via_api = Principal("k1", "lead", name).actor
    via_dashboard = Visitor("k1", "lead", name, viewer, "session").actor
    assert via_api == via_dashboard == ("Ann Lee [key:k1]" if name else "key:k1")
