"""RedisStreamSource against the real Redis: reclaiming, delivery counts, dead letters, reconnects."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import pytest

from tonewatch._errors import MissingExtraError
from tonewatch.streams import DeadLetter, RedisStreamSource, RedisStreamWriter

pytestmark = pytest.mark.redis


async def _fill(url: str, stream: str, n: int) -> list[str]:
    writer = RedisStreamWriter(url, stream)
    await writer.start()
    try:
        return await writer.send_raw([f'{{"n": {i}}}'.encode() for i in range(n)])
    finally:
        await writer.close()


def _pending(redis_sync: Any, stream: str, group: str) -> int:
    return int(redis_sync.xpending(stream, group)["pending"])


def test_a_dead_consumers_messages_are_reclaimed_and_counted(
    redis_url: str, redis_stream: str, redis_sync: Any
) -> None:
    async def scenario() -> None:
        ids = await _fill(redis_url, redis_stream, 5)
        # idle time long enough that a slow machine closing one consumer and starting the next stays under it
        dead = RedisStreamSource(redis_url, redis_stream, "g", consumer="dead", claim_idle=1.5)
        await dead.start()
        taken = await dead.fetch(10, 0.5)
        assert [d.id for d in taken] == ids
        assert all(d.deliveries == 1 for d in taken)
        await dead.close()  # dies without acknowledging anything

        alive = RedisStreamSource(redis_url, redis_stream, "g", consumer="alive", claim_idle=1.5, reclaim_interval=0.05)
        await alive.start()
        assert await alive.fetch(10, 0.05) == []  # not idle long enough yet
        await asyncio.sleep(1.55)
        got = await alive.fetch(10, 0.1)
        assert sorted(d.id for d in got) == ids
        assert all(d.deliveries == 2 for d in got)
        assert alive.stats.reclaimed == 5
        await alive.ack(got)
        await alive.close()

    asyncio.run(scenario())
    assert _pending(redis_sync, redis_stream, "g") == 0


def test_exhausted_messages_are_dead_lettered_once_with_the_last_reason(
    redis_url: str, redis_stream: str, redis_sync: Any
) -> None:
    async def scenario() -> None:
        [entry] = await _fill(redis_url, redis_stream, 1)
        src = RedisStreamSource(
            redis_url, redis_stream, "g", consumer="w", claim_idle=0.05, reclaim_interval=0.01, max_deliveries=3
        )
        await src.start()
        seen = []
        for _ in range(40):
            got = await src.fetch(1, 0.05)
            for d in got:
                seen.append(d.deliveries)
                await src.fail(d, f"ValueError: attempt {d.deliveries} failed")
            if src.stats.exhausted:
                break
            await asyncio.sleep(0.06)
        assert seen == [1, 2, 3]
        assert src.stats.exhausted == 1
        # A second dead-lettering of the same message (two workers racing) adds nothing.
        again = RedisStreamSource(redis_url, redis_stream, "g", consumer="w2")
        await again.start()
        from tonewatch.streams import Delivery

        await again.dead_letter([DeadLetter(Delivery(entry, b'{"n": 0}', 4), "duplicate attempt")])
        await again.close()
        await src.close()

    asyncio.run(scenario())
    dead = redis_sync.xrange(f"{redis_stream}:dead")
    assert len(dead) == 1
    fields = dead[0][1]
    assert fields[b"data"] == b'{"n": 0}'
    assert fields[b"code"] == b"max_deliveries"
    assert fields[b"reason"] == b"not acknowledged after 3 deliveries; last error: ValueError: attempt 3 failed"
    assert fields[b"deliveries"] == b"4"
    assert _pending(redis_sync, redis_stream, "g") == 0
    assert redis_sync.hlen(f"{redis_stream}:g:failures") == 0


def test_released_messages_go_to_another_consumer_at_once(redis_url: str, redis_stream: str, redis_sync: Any) -> None:
    async def scenario() -> None:
        ids = await _fill(redis_url, redis_stream, 3)
        a = RedisStreamSource(redis_url, redis_stream, "g", consumer="a", claim_idle=60, reclaim_interval=0.01)
        b = RedisStreamSource(redis_url, redis_stream, "g", consumer="b", claim_idle=60, reclaim_interval=0.01)
        await a.start()
        await b.start()
        got = await a.fetch(10, 0.2)
        await a.release(got)
        started = time.monotonic()
        taken = await b.fetch(10, 0.2)
        assert sorted(d.id for d in taken) == ids
        assert time.monotonic() - started < 5  # not after the 60 s claim timeout
        await b.ack(taken)
        await a.close()
        await b.close()

    asyncio.run(scenario())
    assert _pending(redis_sync, redis_stream, "g") == 0


def test_a_killed_connection_is_reopened_with_backoff(redis_url: str, redis_stream: str, redis_sync: Any) -> None:
    async def scenario() -> None:
        src = RedisStreamSource(redis_url, redis_stream, "g", consumer="victim", claim_idle=30)
        await src.start()
        blocked = asyncio.create_task(src.fetch(10, 2.0))
        await asyncio.sleep(0.3)
        killed = 0
        for client in redis_sync.client_list():
            if client.get("name", "").startswith("tonewatch-worker-victim"):
                redis_sync.client_kill_filter(_id=client["id"])
                killed += 1
        assert killed >= 1
        assert await blocked == []
        ids = await _fill(redis_url, redis_stream, 2)
        got: list[Any] = []
        for _ in range(30):
            got += await src.fetch(10, 0.2)
            if len(got) == 2:
                break
        assert [d.id for d in got] == ids
        assert src.stats.reconnects >= 1
        await src.ack(got)
        await src.close()

    asyncio.run(scenario())
    assert _pending(redis_sync, redis_stream, "g") == 0


def test_without_the_redis_extra_the_error_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)
    src = RedisStreamSource("redis://127.0.0.1:6379/0", "s", "g")
    with pytest.raises(MissingExtraError, match=r"tonewatch\[redis\]"):
        asyncio.run(src.start())


def test_a_live_worker_keeps_its_messages_and_never_steals_them_back(
    redis_url: str, redis_stream: str, redis_sync: Any
) -> None:
    async def scenario() -> None:
        ids = await _fill(redis_url, redis_stream, 2)
        slow = RedisStreamSource(redis_url, redis_stream, "g", consumer="slow", claim_idle=0.4)
        other = RedisStreamSource(redis_url, redis_stream, "g", consumer="other", claim_idle=0.4, reclaim_interval=0.01)
        await slow.start()
        await other.start()
        held = await slow.fetch(10, 0.5)
        for _ in range(6):  # 1.2 s, three times the lease: renewed, never taken
            await slow.extend(held)
            await asyncio.sleep(0.2)
            assert await other.fetch(10, 0.01) == []
        await asyncio.sleep(0.5)  # the slow worker "died": no more renewals
        taken = await other.fetch(10, 0.1)
        assert sorted(d.id for d in taken) == ids
        await slow.extend(held)  # a late renewal must not take them back
        owners = {row["consumer"] for row in redis_sync.xpending_range(redis_stream, "g", "-", "+", 10)}
        assert owners == {b"other"}
        await other.ack(taken)
        await slow.close()
        await other.close()

    asyncio.run(scenario())
    assert _pending(redis_sync, redis_stream, "g") == 0


def test_a_worker_waiting_for_an_unreachable_broker_still_stops_on_request() -> None:
    from tonewatch.streams import Worker

    def no_pipeline(_hooks: Any) -> Any:
        raise AssertionError("nothing should be processed")

    source = RedisStreamSource("redis://127.0.0.1:1/0", "s", "g")  # nothing listens on port 1

    async def scenario() -> Any:
        worker = Worker(source, no_pipeline)
        asyncio.get_running_loop().call_later(0.5, worker.stop, "test")
        return await asyncio.wait_for(worker.run(), 10)

    stats = asyncio.run(scenario())
    assert stats.fetched == 0
    assert stats.stopped_by == "test"
