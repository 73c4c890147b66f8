"""The demo generator: deterministic, valid v1 events, and the archetypes it promises.

Each archetype test reads like the story the product must detect, checked on the
generated events themselves (no scoring involved).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from tonewatch._errors import InputError
from tonewatch.demo import ARCHETYPE_NAMES, DEFAULT_START, GroundTruth, dumps_event, generate, ground_truth
from tonewatch.ingest.events import CHANNELS, parse_event

Events = list[dict[str, Any]]


def _ts(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def history() -> tuple[Events, GroundTruth]:
    """The advertised default size: 300 customers over six months."""
    return list(generate()), ground_truth()


@pytest.fixture(scope="module")
def by_customer(history: tuple[Events, GroundTruth]) -> dict[str, Events]:
    out: dict[str, Events] = defaultdict(list)
    for event in history[0]:
        out[event["customer_id"]].append(event)
    return out


def _customers(truth: GroundTruth, archetype: str) -> list[str]:
    return [c.customer_id for c in truth.customers if c.archetype == archetype]


def test_same_seed_gives_byte_identical_output() -> None:
    first = [dumps_event(e) for e in generate(customers=40, months=2, seed=11)]
    second = [dumps_event(e) for e in generate(customers=40, months=2, seed=11)]
    assert first == second
    assert ground_truth(customers=40, months=2, seed=11) == ground_truth(customers=40, months=2, seed=11)


def test_output_does_not_depend_on_the_process_hash_seed() -> None:
    """Byte-identical across processes: nothing iterates a set or relies on str hashing."""
    code = (
        "import hashlib, sys; from tonewatch.demo import dumps_event, generate; "
        "h = hashlib.sha256(); [h.update(dumps_event(e).encode()) for e in generate(customers=30, months=2)]; "
        "print(h.hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for hash_seed in ("1", "4242")
    }
    assert len(digests) == 1


def test_different_seed_gives_different_output() -> None:
    a = [dumps_event(e) for e in generate(customers=40, months=2, seed=11)]
    b = [dumps_event(e) for e in generate(customers=40, months=2, seed=12)]
    assert a != b
    texts_a = {e["text"] for e in map(json.loads, a) if e["kind"] == "message"}
    texts_b = {e["text"] for e in map(json.loads, b) if e["kind"] == "message"}
    assert len(texts_a & texts_b) < 0.2 * min(len(texts_a), len(texts_b))


def test_start_date_moves_the_history() -> None:
    start = date(2026, 3, 2)
    events = list(generate(customers=10, months=1, start=start))
    assert min(_ts(e) for e in events).date() >= start
    assert max(_ts(e) for e in events).date() < date(2026, 4, 2)


def test_size_and_every_kind_and_channel(history: tuple[Events, GroundTruth]) -> None:
    events, truth = history
    assert 15_000 <= len(events) <= 32_000
    assert len(truth.customers) == 300
    kinds = Counter(e["kind"] for e in events)
    assert set(kinds) == {"customer", "message", "ticket", "survey", "usage", "outcome"}
    channels = {e["channel"] for e in events if e["kind"] == "message"}
    assert channels == set(CHANNELS)
    statuses = {e["status"] for e in events if e["kind"] == "ticket"}
    assert statuses == {"opened", "pending", "resolved", "reopened", "closed"}
    assert {e["survey"] for e in events if e["kind"] == "survey"} == {"csat", "nps"}
    assert {e["metric"] for e in events if e["kind"] == "usage"} == {"logins", "active_users", "projects_created"}
    assert {e["author"] for e in events if e["kind"] == "message"} == {"customer", "agent"}
    assert len({e["agent_id"] for e in events if e.get("author") == "agent"}) >= 8


def test_every_event_validates_against_the_v1_format(history: tuple[Events, GroundTruth]) -> None:
    for event in history[0]:
        parse_event(event)


def test_timestamps_are_ordered_utc_and_inside_the_window(history: tuple[Events, GroundTruth]) -> None:
    events, truth = history
    stamps = [e["timestamp"] for e in events]
    assert stamps == sorted(stamps)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", s) for s in stamps)
    assert _ts(events[0]).date() >= truth.start == DEFAULT_START
    assert _ts(events[-1]).date() < truth.end


def test_event_ids_are_unique(history: tuple[Events, GroundTruth]) -> None:
    ids = [e["event_id"] for e in history[0]]
    assert len(ids) == len(set(ids))


def test_customers_have_the_meaningful_attributes(history: tuple[Events, GroundTruth]) -> None:
    events, truth = history
    first = {e["customer_id"]: e for e in reversed(events) if e["kind"] == "customer"}
    assert set(first) == {c.customer_id for c in truth.customers}
    for event in first.values():
        attrs = event["attributes"]
        assert {"name", "plan", "signup_date", "renewal_date", "account_value", "language", "segment"} <= set(attrs)
    assert {e["attributes"]["segment"] for e in first.values()} == {"new", "smb", "enterprise"}
    assert {e["attributes"]["plan"] for e in first.values()} == {"starter", "team", "business", "enterprise"}


def test_every_customer_event_comes_first_for_that_customer(by_customer: dict[str, Events]) -> None:
    for events in by_customer.values():
        assert events[0]["kind"] == "customer"


def test_each_archetype_is_a_meaningful_share(history: tuple[Events, GroundTruth]) -> None:
    events, truth = history
    shares = truth.archetypes
    assert set(shares) == set(ARCHETYPE_NAMES)
    assert all(n >= 0.05 * len(truth.customers) for n in shares.values())
    writing = {e["customer_id"] for e in events if e["kind"] == "message" and e["author"] == "customer"}
    for archetype in ARCHETYPE_NAMES:
        assert writing & set(_customers(truth, archetype)), archetype


def test_small_populations_still_get_every_archetype() -> None:
    assert set(ground_truth(customers=len(ARCHETYPE_NAMES)).archetypes) == set(ARCHETYPE_NAMES)


def test_language_mix_and_code_switching(history: tuple[Events, GroundTruth], by_customer: dict[str, Events]) -> None:
    _, truth = history
    assert {"en", "es", "fr", "de"} <= set(truth.languages)
    markers = {
        "es": r"\b(?:que|por|gracias|no funciona)\b",
        "fr": r"\b(?:nous|est|merci|depuis)\b",
        "de": r"\b(?:wir|nicht|ist|danke)\b",
    }
    for language, pattern in markers.items():
        writers = [c for c in truth.customers if c.language == language and not c.code_switching]
        texts = [e["text"] for c in writers for e in by_customer[c.customer_id] if e.get("author") == "customer"]
        assert texts, language
        assert sum(bool(re.search(pattern, t, re.IGNORECASE)) for t in texts) >= 0.5 * len(texts), language
    switchers = [c for c in truth.customers if c.code_switching]
    assert switchers
    mixed = [
        e["text"]
        for c in switchers
        for e in by_customer[c.customer_id]
        if e.get("author") == "customer"
        and re.search(r"\b(?:the|this|I|we|is|again|thanks)\b", e["text"])
        and re.search(r"\b(?:otra vez|gracias|pero|esto|desde|cuando)\b", e["text"])
    ]
    assert len(mixed) >= 5


def _trigram_stats(texts: list[str]) -> tuple[int, float]:
    seen: set[tuple[str, ...]] = set()
    total = 0
    for text in texts:
        words = re.findall(r"\w+", text.lower())
        for i in range(len(words) - 2):
            seen.add(tuple(words[i : i + 3]))
            total += 1
    return len(seen), len(seen) / total


def test_customer_text_is_varied(history: tuple[Events, GroundTruth]) -> None:
    texts = [e["text"] for e in history[0] if e["kind"] == "message" and e["author"] == "customer"]
    assert len(texts) >= 1500
    assert len(set(texts)) >= 0.7 * len(texts)
    distinct, ratio = _trigram_stats(texts)
    assert distinct >= 10_000
    assert ratio >= 0.25
    openings = {re.split(r"(?<=[.!?])\s", t.split("\n\n")[1] if "\n\n" in t else t)[0] for t in texts}
    assert len(openings) >= 500


def test_agent_replies_vary(history: tuple[Events, GroundTruth]) -> None:
    texts = [e["text"] for e in history[0] if e["kind"] == "message" and e["author"] == "agent"]
    assert len(set(texts)) >= 0.7 * len(texts)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def test_some_texts_carry_pii_for_the_masker(history: tuple[Events, GroundTruth]) -> None:
    texts = [e["text"] for e in history[0] if e["kind"] == "message" and e["author"] == "customer"]
    emails = [t for t in texts if re.search(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", t)]
    phones = [t for t in texts if re.search(r"(?:\+\d{1,2}[ ]?)?\(?\d{3}\)?[ -]555[ -]0\d{3}|\+(?:33|34|49) \d", t)]
    iban = re.compile(r"\bDE\d\d(?: \d{4}){4} \d\d\b")
    ibans = [m.group(0).replace(" ", "") for t in texts for m in iban.finditer(t)]
    cards = [m.group(0) for t in texts for m in re.finditer(r"\b(?:\d{4}[ -]?){3}\d{4}\b", iban.sub("", t))]
    assert len(emails) >= 50
    assert len(phones) >= 50
    assert cards
    assert all(_luhn_ok(re.sub(r"\D", "", c)) for c in cards)
    assert all(int(i[4:] + "1314" + i[2:4]) % 97 == 1 for i in ibans)
    names = [c.name for c in history[1].customers]
    assert any(name in t for t in texts for name in names[:50])  # organisations named in signatures


def test_slowly_declining_customers_turn_from_questions_to_complaints(
    history: tuple[Events, GroundTruth], by_customer: dict[str, Events]
) -> None:
    _, truth = history
    early: Counter[str] = Counter()
    late: Counter[str] = Counter()
    for cid in _customers(truth, "slowly_declining"):
        tickets = [e for e in by_customer[cid] if e["kind"] == "ticket" and e["status"] == "opened"]
        if len(tickets) < 2:
            continue
        half = len(tickets) // 2
        early.update(e["category"] for e in tickets[:half])
        late.update(e["category"] for e in tickets[half:])
    questions = ("how-to", "feature request")
    share = lambda c: sum(c[k] for k in questions) / max(1, sum(c.values()))  # noqa: E731
    assert share(early) > share(late) + 0.15


def test_silent_churners_go_quiet_while_usage_falls(
    history: tuple[Events, GroundTruth], by_customer: dict[str, Events]
) -> None:
    _, truth = history
    churned = [c for c in truth.customers if c.archetype == "silent_churner" and c.outcome == "churned"]
    assert len(churned) >= 10
    for c in churned:
        events = by_customer[c.customer_id]
        assert c.outcome_date is not None
        written = [_ts(e) for e in events if e["kind"] == "message" and e["author"] == "customer"]
        if written:
            assert (c.outcome_date - max(written).date()).days >= 45
        logins = [e["value"] for e in events if e["kind"] == "usage" and e["metric"] == "logins"]
        assert sum(logins[-3:]) <= 0.4 * sum(logins[:3])
        assert not any(e["kind"] == "ticket" and e.get("category") == "cancellation" for e in events)


def test_polite_b2b_customers_chase_an_outstanding_ticket(
    history: tuple[Events, GroundTruth], by_customer: dict[str, Events]
) -> None:
    _, truth = history
    ids = _customers(truth, "polite_escalation")
    assert all(truth.by_id()[cid].segment == "enterprise" for cid in ids)
    verbatim = re.compile(
        r"Please advise on the current status of ticket #\d{5} as this has now been outstanding for 14 business days\."
    )
    hits = 0
    for cid in ids:
        chasers = Counter(
            e["ticket_id"]
            for e in by_customer[cid]
            if e.get("author") == "customer"
            and e.get("ticket_id")
            and f"ticket #{e['ticket_id'].removeprefix('T-')}" in e["text"]
        )
        assert chasers, cid
        assert max(chasers.values()) >= 3, cid
        hits += any(verbatim.search(e.get("text", "")) for e in by_customer[cid])
    assert hits >= len(ids) // 3


def test_repeat_contacts_about_the_same_issue_within_ten_days(
    history: tuple[Events, GroundTruth], by_customer: dict[str, Events]
) -> None:
    _, truth = history
    for cid in _customers(truth, "repeat_contact"):
        opened = [e for e in by_customer[cid] if e["kind"] == "ticket" and e["status"] == "opened"]
        found = False
        for i, first in enumerate(opened):
            same = [
                e
                for e in opened[i:]
                if e["category"] == first["category"] and _ts(e) - _ts(first) <= timedelta(days=10)
            ]
            found = found or len(same) >= 3
        assert found, cid


def test_channel_switchers_go_chat_then_email_then_phone_within_a_week(
    history: tuple[Events, GroundTruth], by_customer: dict[str, Events]
) -> None:
    _, truth = history
    for cid in _customers(truth, "channel_switcher"):
        firsts = [e for e in by_customer[cid] if e.get("author") == "customer"]
        found = False
        for i, chat in enumerate(firsts):
            if chat["channel"] != "chat":
                continue
            window = [e for e in firsts[i:] if _ts(e) - _ts(chat) <= timedelta(days=7)]
            email = next((e for e in window if e["channel"] == "email"), None)
            phone = next((e for e in window if e["channel"] == "phone" and email and _ts(e) > _ts(email)), None)
            found = found or phone is not None
        assert found, cid


def test_sarcastic_customers_say_bad_things_in_good_words(
    history: tuple[Events, GroundTruth], by_customer: dict[str, Events]
) -> None:
    _, truth = history
    pattern = re.compile(
        r"Oh (?:great|good|perfect)|Love paying|highlight of my week|Exactly what I needed|Just what we needed|"
        r"Stellar support|world-class service|Five stars|Nothing s(?:ays|creams)|Love that for us|Can't wait for|"
        r"Really looking forward to|Glad (?:I|we)|Very cool|Classic|Much appreciated|Really appreciate it"
    )
    texts = [
        e["text"] for cid in _customers(truth, "sarcastic") for e in by_customer[cid] if e.get("author") == "customer"
    ]
    assert sum(bool(pattern.search(t)) for t in texts) >= 0.2 * len(texts)
    assert any("Oh great, another outage. Love paying for downtime." in t for t in texts)
    others = [
        e["text"]
        for cid in _customers(truth, "happy_stable")
        for e in by_customer[cid]
        if e.get("author") == "customer"
    ]
    assert not any("Love paying for downtime" in t for t in others)


def test_outcomes_follow_the_archetype(history: tuple[Events, GroundTruth]) -> None:
    _, truth = history
    rate: dict[str, float] = {}
    for archetype in ARCHETYPE_NAMES:
        decided = [c for c in truth.customers if c.archetype == archetype and c.outcome]
        rate[archetype] = sum(c.outcome == "churned" for c in decided) / max(1, len(decided))
    assert rate["silent_churner"] > 0.6
    assert rate["slowly_declining"] > 0.3
    assert rate["happy_stable"] < 0.15
    assert rate["chronic_complainer"] < 0.2
    churners = truth.churned()
    assert len(churners) >= 40
    assert all(c.at_risk for c in churners if c.archetype not in ("happy_stable", "chronic_complainer"))


def test_outcome_events_match_the_truth_and_nothing_follows_a_churn(
    history: tuple[Events, GroundTruth], by_customer: dict[str, Events]
) -> None:
    _, truth = history
    for c in truth.customers:
        events = by_customer[c.customer_id]
        outcomes = [e for e in events if e["kind"] == "outcome"]
        if c.outcome is None:
            assert not outcomes
            continue
        assert [(e["outcome"], _ts(e).date()) for e in outcomes] == [(c.outcome, c.outcome_date)]
        if c.outcome == "churned":
            assert events[-1]["kind"] == "outcome"
        else:
            later = [e for e in events if e["kind"] == "customer" and _ts(e) > _ts(outcomes[0])]
            assert later
            assert later[0]["attributes"]["renewal_date"] > c.renewal_date.isoformat()


def test_ticket_numbers_in_text_refer_to_real_tickets(history: tuple[Events, GroundTruth]) -> None:
    events, _ = history
    tickets = {e["ticket_id"] for e in events if e["kind"] == "ticket"}
    mentioned = {f"T-{m}" for e in events if e["kind"] == "message" for m in re.findall(r"#(\d{5,})", e["text"])}
    assert mentioned
    assert mentioned <= tickets


def test_sizes_outside_the_range_are_refused() -> None:
    with pytest.raises(InputError) as err:
        generate(customers=0)
    assert err.value.field == "customers"
    with pytest.raises(InputError) as err:
        ground_truth(months=0)
    assert err.value.field == "months"


def test_ground_truth_round_trips(tmp_path: Any) -> None:
    truth = ground_truth(customers=30, months=3, seed=3)
    path = tmp_path / "truth.json"
    truth.write(path)
    assert GroundTruth.read(path) == truth
