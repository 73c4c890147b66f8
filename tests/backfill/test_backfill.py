"""Backfill: resumable after a kill with each message scored once; local and Dask engines agree."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from backfill_support import customer_messages, history, interrupt_backfill, run_backfill_cli, stored_ids

from tonewatch.backfill import CheckpointDir, is_database_url, partition_of, read_part, run_backfill
from tonewatch.ingest import Pipeline
from tonewatch.settings import Settings
from tonewatch.store import Message, Store


def test_a_killed_backfill_resumes_and_scores_each_message_once(tmp_path: Path) -> None:
    events = history(tmp_path / "history.jsonl", customers=16, months=2)
    db = f"sqlite:///{tmp_path / 'store.db'}"
    ckpt = tmp_path / "ckpt"
    args = [str(tmp_path / "history.jsonl"), "--db", db, "--checkpoint", str(ckpt)]
    args += ["--partition-size", "120", "--workers", "2"]

    done = interrupt_backfill(*args, checkpoint=ckpt, after_done=1)
    assert done >= 1
    manifest = json.loads((ckpt / "manifest.json").read_text())
    assert done < manifest["plan"]["partitions"]  # really interrupted part-way
    before = set(stored_ids(db))
    finished = CheckpointDir(ckpt)
    finished_ids = {
        e["event_id"]
        for i, _ in finished.done()
        for _, e in read_part(finished, i)
        if isinstance(e.get("event_id"), str)
    } & {e["event_id"] for e in events}
    assert finished_ids <= before
    messages = customer_messages(events)

    report = run_backfill_cli(*args)
    assert report["complete"] is True
    assert report["already_done"] == len(list((ckpt / "done").glob("*.json"))) - report["ran"]
    assert report["already_done"] >= done
    # Nothing scored twice: the resumed run scored exactly the messages not yet stored.
    assert report["scored"] == len(messages - before)
    # Events committed by the partitions cut short were recognised and not applied again.
    assert report["skipped_already_stored"] == len(before - finished_ids)
    ids = stored_ids(db)
    assert Counter(ids).most_common(1)[0][1] == 1
    assert set(ids) == {e["event_id"] for e in events}
    rejected = sum(len(m["rejected"]) for _, m in CheckpointDir(ckpt).done())
    assert rejected == 2  # the two bad lines, reported with their reason, once
    assert all(n == 1 for n in report["model_loads_per_worker"].values())

    again = run_backfill_cli(*args)  # everything checkpointed: nothing runs, nothing changes
    assert (again["ran"], again["scored"]) == (0, 0)
    assert sorted(stored_ids(db)) == sorted(ids)


def test_local_and_dask_engines_give_identical_results(tmp_path: Path) -> None:
    events = history(tmp_path / "history.jsonl", customers=10, months=2, poison=False)
    common = ["--partition-size", "120", "--workers", "2"]
    local = run_backfill_cli(
        str(tmp_path / "history.jsonl"), "--out", str(tmp_path / "local.jsonl"), "--engine", "local", *common
    )
    dask = run_backfill_cli(
        str(tmp_path / "history.jsonl"), "--out", str(tmp_path / "dask.jsonl"), "--engine", "dask", *common
    )
    assert local["complete"]
    assert dask["complete"]
    assert local["engine"].startswith("local")
    assert dask["engine"].startswith("dask (local cluster on 127.0.0.1")
    a = (tmp_path / "local.jsonl").read_bytes()
    b = (tmp_path / "dask.jsonl").read_bytes()
    assert a == b
    records = [json.loads(line) for line in a.splitlines()]
    assert {r["event_id"] for r in records} == customer_messages(events)
    assert len(records) == len(customer_messages(events)) == local["scored"] == dask["scored"]
    assert [r["line"] for r in records] == sorted(r["line"] for r in records)  # in file order
    for report in (local, dask):
        loads = report["model_loads_per_worker"]
        assert 1 <= len(loads) <= 2
        assert all(n == 1 for n in loads.values())  # the model loaded once per worker


def test_rescoring_a_store_touches_only_stale_messages(tmp_path: Path, analyzer: Any) -> None:
    events = list(_small_history())
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = Store(url)
    store.create_all()
    Pipeline(store, analyzer, Settings(threads=1)).ingest(events)
    with store.session() as s:
        stale = list(s.scalars(sa.select(Message).where(Message.author == "customer").limit(7)))
        for m in stale:
            m.model_version = "old-model"
            m.label = None
        stale_ids = {m.event_id for m in stale}
    store.dispose()
    settings = Settings(home=tmp_path / "home", threads=1)
    report = run_backfill(url, workers=1, settings=settings, partition_size=5)
    assert report.kind == "rescore"
    assert report.complete
    assert report.scored == len(stale_ids)
    store = Store(url)
    with store.session(readonly=True) as s:
        rows = list(s.scalars(sa.select(Message).where(Message.author == "customer")))
    store.dispose()
    assert all(m.model_version == analyzer.model_version and m.label is not None for m in rows)
    second = run_backfill(url, workers=1, settings=settings, partition_size=5)
    assert second.scored == 0


def _small_history() -> Any:
    from tonewatch.demo import generate

    return generate(customers=4, months=1, seed=3)


def test_partitions_are_stable_and_inputs_classified() -> None:
    assert partition_of("cus-1", 7) == partition_of("cus-1", 7)
    assert len({partition_of(f"cus-{i}", 7) for i in range(200)}) == 7
    assert is_database_url("postgresql+psycopg://u@h/db")
    assert is_database_url("sqlite:///x.db")
    assert not is_database_url("history.jsonl")


@pytest.fixture(scope="module")
def analyzer() -> Any:
    from tonewatch.score import get_analyzer

    a = get_analyzer(Settings(threads=1))
    a.analyze("warm-up")
    return a
