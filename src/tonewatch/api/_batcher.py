"""Adaptive micro-batching of single-text requests.

Concurrent ``classify-sentiment`` calls each carrying one text are coalesced into one
forward pass: a worker thread takes whatever has queued up while the previous pass ran
(up to ``max_batch``). An idle server therefore answers a lone request at once (a batch of
one, no waiting window), while a busy one amortises the model over several texts and keeps
its throughput instead of queueing. One worker also means one inference at a time, so the
model's intra-op threads never fight each other.

A text scored in a batch can differ in the last decimals from the same text scored alone
(the int8 model quantizes activations per batch); ``analyze_batch`` has the same property.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["MicroBatcher"]

RunBatch = Callable[[Sequence[str], Sequence[str | None]], Sequence[Any]]


@dataclass(slots=True)
class _Item:
    text: str
    language: str | None
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


def _resolve(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # the client went away
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class MicroBatcher:
    """``await batcher.analyze(text, language)``; thread-safe, started on first use."""

    def __init__(self, run_batch: RunBatch, *, max_batch: int = 32) -> None:
        self._run_batch = run_batch
        self._max_batch = max_batch
        self._items: deque[_Item] = deque()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    async def analyze(self, text: str, language: str | None = None) -> Any:
        loop = asyncio.get_running_loop()
        item = _Item(text, language, loop.create_future(), loop)
        with self._cond:
            self._items.append(item)
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="tonewatch-batcher", daemon=True)
                self._thread.start()
            self._cond.notify()
        return await item.future

    def close(self) -> None:
        """Finish what is queued and stop the worker (the next request starts a new one)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=30)
        with self._cond:
            self._closed = False
            if self._thread is thread:
                self._thread = None
            if self._items:  # arrived while closing: serve them
                self._thread = threading.Thread(target=self._work, name="tonewatch-batcher", daemon=True)
                self._thread.start()

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._items and not self._closed:
                    self._cond.wait()
                if not self._items:
                    return
                batch = [self._items.popleft() for _ in range(min(len(self._items), self._max_batch))]
            self._run(batch)

    def _run(self, batch: list[_Item]) -> None:
        try:
            results = list(self._run_batch([i.text for i in batch], [i.language for i in batch]))
            outcomes: list[tuple[Any, BaseException | None]] = [(r, None) for r in results]
        except Exception:
            # One bad item must not fail its batch-mates: redo them one by one.
            outcomes = []
            for item in batch:
                try:
                    outcomes.append((self._run_batch([item.text], [item.language])[0], None))
                except Exception as exc:
                    outcomes.append((None, exc))
        for item, (result, error) in zip(batch, outcomes, strict=True):
            with contextlib.suppress(RuntimeError):  # that request's event loop has closed
                item.loop.call_soon_threadsafe(_resolve, item.future, result, error)
