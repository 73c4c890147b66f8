"""People's labels: recording (audited), vote resolution, the labelled-data export, disagreements, the CLI.

Real stores on SQLite and PostgreSQL (the ``store`` fixture); analyses are constructed so the
model's reading of each message is known.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from learn_fixtures import NOW, add_message, days
from sqlalchemy import func, select
from typer.testing import CliRunner

from tonewatch._errors import InputError, NotFoundError
from tonewatch.audit import AuditLog
from tonewatch.cli._label import register
from tonewatch.learn import (
    Vote,
    agreement_stats,
    disagreements,
    export_labels,
    labelled_items,
    record_label,
    resolve_votes,
)
from tonewatch.store import Feedback, Store


def _url(store: Store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


def _vote(actor: str, label: str, minute: int = 0) -> Vote:
    return Vote(actor, label, NOW.replace(minute=minute))


def _seed(store: Store) -> None:
    """m1: two reviewers agree against the model; m2: reviewers tie; m3: three reviewers, 2-1;
    m4: one reviewer confirms the model; m5: labelled but its text was purged."""
    with store.session() as s:
        add_message(s, "m1", "The invoice is wrong again.", label="neutral", confidence=0.5, customer="c1")
        add_message(s, "m2", "Great, another outage.", label="positive", confidence=0.6, customer="c2", segment="ent")
        add_message(s, "m3", "It works, but slowly.", label="mixed", confidence=0.55, customer="c1", channel="chat")
        add_message(s, "m4", "Thanks, all sorted!", label="positive", confidence=0.97, customer="c3")
        add_message(s, "m5", None, label="negative", confidence=0.8, customer="c3")
        t = NOW + days(1)
        record_label(s, "m1", label="negative", actor="ana", why="complaint", now=t)
        record_label(s, "m1", label="negative", actor="ben", now=t + days(0.1))
        record_label(s, "m2", label="negative", actor="ana", why="sarcasm", now=t)
        record_label(s, "m2", label="positive", actor="ben", now=t + days(0.1))
        record_label(s, "m3", label="mixed", actor="ana", now=t)
        record_label(s, "m3", label="neutral", actor="ben", now=t)
        record_label(s, "m3", label="mixed", actor="cy", now=t + days(0.2))
        record_label(s, "m4", label="positive", actor="ana", now=t)
        record_label(s, "m5", label="negative", actor="ana", now=t)


# -- recording ----------------------------------------------------------------------------------


def test_a_label_is_a_feedback_row_next_to_the_analysis_and_is_audited(store: Store) -> None:
    with store.session() as s:
        add_message(s, "e1", "Still broken.", label="neutral", confidence=0.5)
        row = record_label(s, "e1", label="negative", actor="  dana ", why="the customer is clearly upset")
        fid = row.id
    with store.session(readonly=True) as s:
        fb = s.get(Feedback, fid)
        assert fb is not None
        assert (fb.label, fb.actor, fb.note, fb.model_version) == (
            "negative",
            "dana",
            "the customer is clearly upset",
            "1.0.0",
        )
        assert fb.created_at.tzinfo is not None
        entries = [e for e in AuditLog(s).iter_entries() if e.action == "analysis.corrected"]
        assert [(e.actor, e.subject, e.details["label"]) for e in entries] == [
            ("dana", "message:e1", ["neutral", "negative"])
        ]
        assert "upset" not in json.dumps(entries[0].details)  # the reason is personal prose: never in the chain
        AuditLog(s).verify()


def test_unknown_messages_bad_labels_and_missing_actors_are_refused_before_anything_is_written(store: Store) -> None:
    with store.session() as s:
        add_message(s, "e1", "Hello")
    with store.session() as s:
        with pytest.raises(NotFoundError) as nf:
            record_label(s, "nope", label="negative", actor="dana")
        assert (nf.value.code, nf.value.field) == ("unknown_message", "event_id")
        with pytest.raises(InputError) as bad:
            record_label(s, "e1", label="angry", actor="dana")
        assert (bad.value.code, bad.value.field) == ("invalid_label", "label")
        with pytest.raises(InputError) as anon:
            record_label(s, "e1", label="negative", actor=" ")
        assert anon.value.code == "missing_actor"
    with store.session(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(Feedback)) == 0


# -- votes --------------------------------------------------------------------------------------


def test_majority_wins_and_a_tie_has_no_gold_label() -> None:
    assert resolve_votes([]) == (None, 0.0)
    assert resolve_votes([_vote("a", "negative")]) == ("negative", 1.0)
    label, agreement = resolve_votes([_vote("a", "negative"), _vote("b", "negative"), _vote("c", "mixed")])
    assert label == "negative"
    assert agreement == pytest.approx(2 / 3)
    assert resolve_votes([_vote("a", "negative"), _vote("b", "positive")]) == (None, 0.5)
    assert (
        resolve_votes([_vote("a", "x"), _vote("b", "x"), _vote("c", "y"), _vote("d", "y"), _vote("e", "z")])[0] is None
    )


def test_a_reviewer_who_changes_their_mind_has_one_vote_their_latest(store: Store) -> None:
    with store.session() as s:
        add_message(s, "e1", "Fine I guess.")
        record_label(s, "e1", label="positive", actor="ana", now=NOW)
        record_label(s, "e1", label="negative", actor="ben", now=NOW + days(0.1))
        record_label(s, "e1", label="negative", actor="ana", now=NOW + days(0.2))
    with store.session(readonly=True) as s:
        (item,) = labelled_items(s)
    assert [(v.actor, v.label) for v in item.votes] == [("ben", "negative"), ("ana", "negative")]
    assert (item.gold, item.agreement, item.tie) == ("negative", 1.0, False)


# -- export -------------------------------------------------------------------------------------


def test_export_writes_gold_labels_with_provenance_and_leaves_out_ties_and_purged_texts(
    store: Store, tmp_path: Path
) -> None:
    _seed(store)
    out = tmp_path / "data" / "labelled.jsonl"
    with store.session(readonly=True) as s:
        report = export_labels(s, out)
    assert (report.written, report.ties, report.purged) == (3, ["m2"], ["m5"])
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    by_id = {d["id"]: d for d in lines}
    assert set(by_id) == {"m1", "m3", "m4"}
    m1 = by_id["m1"]
    assert (m1["text"], m1["label"], m1["model_label"], m1["model_version"]) == (
        "The invoice is wrong again.",
        "negative",
        "neutral",
        "1.0.0",
    )
    assert (m1["segment"], m1["channel"], m1["language"], m1["agreement"]) == ("smb", "email", "en", 1.0)
    assert [(v["actor"], v["label"], v["why"]) for v in m1["labels"]] == [
        ("ana", "negative", "complaint"),
        ("ben", "negative", None),
    ]
    assert datetime.fromisoformat(m1["labels"][0]["at"]).tzinfo is not None
    assert (by_id["m3"]["label"], by_id["m3"]["agreement"]) == ("mixed", pytest.approx(0.6667))
    assert not list(tmp_path.glob("data/.*.tmp"))


def test_the_export_is_what_the_training_reader_reads(store: Store, tmp_path: Path) -> None:
    train_data = pytest.importorskip("tonewatch.learn._train_data")
    _seed(store)
    out = tmp_path / "labelled.jsonl"
    with store.session(readonly=True) as s:
        export_labels(s, out)
    data = train_data.read_labelled(out, min_per_class=0)
    assert sorted(data.ids) == ["m1", "m4"]  # the mixed gold label (m3) is skipped by training, not an error
    assert data.skipped_mixed == 1


def test_the_export_is_what_the_evaluation_reader_reads(store: Store, tmp_path: Path) -> None:
    evaluate = pytest.importorskip("tonewatch.learn._evaluate")
    _seed(store)
    out = tmp_path / "labelled.jsonl"
    with store.session(readonly=True) as s:
        export_labels(s, out)
    examples = evaluate.read_labelled(out)
    assert sorted((e.id, e.label) for e in examples) == [("m1", "negative"), ("m3", "mixed"), ("m4", "positive")]


def test_export_since_takes_messages_labelled_since_with_all_their_votes(store: Store, tmp_path: Path) -> None:
    with store.session() as s:
        add_message(s, "old", "Old complaint.")
        add_message(s, "new", "New complaint.")
        record_label(s, "old", label="negative", actor="ana", now=NOW)
        record_label(s, "new", label="negative", actor="ana", now=NOW)
        record_label(s, "new", label="negative", actor="ben", now=NOW + days(3))
    out = tmp_path / "since.jsonl"
    with store.session(readonly=True) as s:
        report = export_labels(s, out, since=NOW + days(2))
    (line,) = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert report.written == 1
    assert line["id"] == "new"
    assert [v["actor"] for v in line["labels"]] == ["ana", "ben"]


# -- disagreements and agreement ------------------------------------------------------------------


def test_disagreements_list_reviewer_splits_first_then_reviewers_against_the_model(store: Store) -> None:
    _seed(store)
    with store.session(readonly=True) as s:
        found = disagreements(s)
        only_model = disagreements(s, kind="model")
        items = labelled_items(s)
    kinds = [(i.event_id, i.kind) for i in found]
    assert kinds[:2] == [("m3", "reviewers"), ("m2", "reviewers")]  # newest label first within a kind
    assert kinds[2:] == [("m1", "model")]  # m4 and m5: the reviewer confirmed the model
    assert [i.event_id for i in only_model] == ["m1"]
    stats = agreement_stats(items)
    # pairs: m1 1 agreeing of 1, m2 0 of 1, m3 1 of 3 -> 2 of 5
    assert (stats.reviewer_pairs, stats.reviewer_agreement) == (5, pytest.approx(0.4))
    # gold: m1 negative (model: neutral), m3 mixed, m4 positive, m5 negative (the model agrees on these three)
    assert (stats.gold, stats.model_agreement, stats.ties) == (4, pytest.approx(0.75), 1)
    assert (stats.labelled, stats.multi_reviewed) == (5, 3)
    assert (stats.reviewer_disagreements, stats.model_disagreements) == (2, 1)


# -- the command line -------------------------------------------------------------------------


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def _run(cli: typer.Typer, store: Store, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["label", *args, "--db", _url(store)])
    return result.exit_code, result.stdout, result.stderr


def test_label_command_records_who_and_why(cli: typer.Typer, store: Store) -> None:
    with store.session() as s:
        add_message(s, "e-1", "Where is my refund?", label="neutral", confidence=0.51)
    code, out, err = _run(cli, store, "e-1", "--label", "negative", "--actor", "dana", "--why", "refund chase")
    assert code == 0, err
    assert "labelled e-1 negative" in out
    assert "the model said neutral" in out
    code, _, err = _run(cli, store, "add", "e-1", "--label", "Negative", "--actor", "eli")
    assert code == 0, err
    with store.session(readonly=True) as s:
        (item,) = labelled_items(s)
    assert [(v.actor, v.label, v.why) for v in item.votes] == [
        ("dana", "negative", "refund chase"),
        ("eli", "negative", None),
    ]


def test_label_command_fails_clearly_on_an_unknown_event_or_label(cli: typer.Typer, store: Store) -> None:
    with store.session() as s:
        add_message(s, "e-1", "Hello")
    code, _, err = _run(cli, store, "missing-1", "--label", "negative", "--actor", "dana")
    assert code == 2
    assert "error: no stored message 'missing-1'" in err
    code, _, err = _run(cli, store, "e-1", "--label", "furious", "--actor", "dana")
    assert code == 2
    assert "label must be one of mixed, negative, neutral, positive" in err
    code, _, err = _run(cli, store, "e-1", "--label", "negative")
    assert code == 2
    assert "--actor" in err
    with store.session(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(Feedback)) == 0


def test_export_and_disagreements_commands(cli: typer.Typer, store: Store, tmp_path: Path) -> None:
    _seed(store)
    out = tmp_path / "gold.jsonl"
    code, _, err = _run(cli, store, "export", "--out", str(out))
    assert code == 0, err
    assert "wrote 3 labelled messages" in err
    assert "left out 1 tied messages (need a deciding label): m2" in err
    assert "1 messages whose text was purged" in err
    assert len(out.read_text(encoding="utf-8").splitlines()) == 3
    code, out_json, err = _run(cli, store, "disagreements", "--format", "json")
    assert code == 0, err
    payload = json.loads(out_json)
    assert [i["id"] for i in payload["items"]][:2] == ["m3", "m2"]
    assert payload["agreement"]["reviewer_agreement"] == pytest.approx(0.4)
    code, table, err = _run(cli, store, "disagreements", "--kind", "reviewers")
    assert code == 0, err
    assert "m2" in table
    assert "m3" in table
    assert "m1" not in table
    assert "sarcasm" in table  # the reason shown with the vote
    assert "reviewer agreement 40%" in " ".join(table.split())
    code, _, err = _run(cli, store, "export", "--out", str(tmp_path / "x.jsonl"), "--since", "yesterday")
    assert code == 2
    assert "--since" in err


def test_since_dates_are_the_start_of_that_day(cli: typer.Typer, store: Store, tmp_path: Path) -> None:
    with store.session() as s:
        add_message(s, "e-1", "Late label.")
        record_label(s, "e-1", label="negative", actor="ana", now=datetime(2026, 6, 1, 0, 30, tzinfo=UTC))
    out = tmp_path / "june.jsonl"
    code, _, err = _run(cli, store, "export", "--out", str(out), "--since", "2026-06-01")
    assert code == 0, err
    assert "wrote 1 labelled messages" in err
