"""Where partitions run: a local process pool (default) or a Dask cluster.

Both run the same picklable task function and hand results back as they finish; at most
``window`` partitions are submitted ahead, so the driver never holds more than that many
partitions' events in memory however large the input. The Dask engine starts a
``LocalCluster`` bound to 127.0.0.1 when no scheduler address is given and otherwise
connects to the given scheduler, unchanged, on a real multi-machine cluster.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Literal, Protocol, TypeVar

from tonewatch._errors import ConfigurationError, require_extra

__all__ = ["DaskEngine", "Engine", "EngineName", "LocalEngine", "open_engine"]

EngineName = Literal["local", "dask"]
_T = TypeVar("_T")
_R = TypeVar("_R")


class Engine(Protocol):
    """Runs ``fn`` over ``items`` in parallel; yields results in completion order."""

    @property
    def workers(self) -> int: ...

    @property
    def description(self) -> str: ...

    def map_unordered(self, fn: Callable[[_T], _R], items: Iterable[_T]) -> Iterator[_R]: ...

    def close(self) -> None: ...


def _default_workers() -> int:
    return max(1, os.cpu_count() or 1)


class LocalEngine:
    """A process pool (spawned processes, so nothing of the driver's state is inherited)."""

    def __init__(self, workers: int | None = None, *, window: int | None = None) -> None:
        self._workers = workers or _default_workers()
        self._window = window or 2 * self._workers
        self._pool = ProcessPoolExecutor(self._workers, mp_context=multiprocessing.get_context("spawn"))

    @property
    def workers(self) -> int:
        return self._workers

    @property
    def description(self) -> str:
        return f"local process pool ({self._workers} worker(s))"

    def map_unordered(self, fn: Callable[[_T], _R], items: Iterable[_T]) -> Iterator[_R]:
        pending: set[Future[_R]] = set()
        source = iter(items)
        exhausted = False
        while True:
            while not exhausted and len(pending) < self._window:
                try:
                    pending.add(self._pool.submit(fn, next(source)))
                except StopIteration:
                    exhausted = True
            if not pending:
                return
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskEngine:
    """A ``distributed`` client: on ``scheduler`` (``tcp://HOST:PORT``) or a local cluster on 127.0.0.1."""

    def __init__(self, workers: int | None = None, *, scheduler: str | None = None, window: int | None = None) -> None:
        distributed: Any = require_extra("distributed", "dask", "the Dask backfill engine")
        self._cluster: Any = None
        if scheduler:
            self._client: Any = distributed.Client(scheduler)
            info = self._client.scheduler_info()
            self._workers = max(1, len(info.get("workers", {})))
            self._where = scheduler
        else:
            self._workers = workers or _default_workers()
            self._cluster = distributed.LocalCluster(
                n_workers=self._workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=40,
            )
            self._client = distributed.Client(self._cluster)
            self._where = "local cluster on 127.0.0.1"
        self._window = window or 2 * self._workers
        self._as_completed = distributed.as_completed

    @property
    def workers(self) -> int:
        return self._workers

    @property
    def description(self) -> str:
        return f"dask ({self._where}, {self._workers} worker(s))"

    def map_unordered(self, fn: Callable[[_T], _R], items: Iterable[_T]) -> Iterator[_R]:
        source = iter(items)
        first = [
            self._client.submit(fn, item, pure=False) for _, item in zip(range(self._window), source, strict=False)
        ]
        if not first:
            return
        queue = self._as_completed(first)
        for future in queue:
            result: _R = future.result()
            future.release()
            nxt = next(source, None)
            if nxt is not None:
                queue.add(self._client.submit(fn, nxt, pure=False))
            yield result

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def open_engine(name: str, workers: int | None = None, *, scheduler: str | None = None) -> LocalEngine | DaskEngine:
    """``local`` (default) or ``dask``; a scheduler address only makes sense with Dask."""
    if workers is not None and workers < 1:
        raise ConfigurationError("workers must be at least 1", field="workers")
    if name == "local":
        if scheduler:
            raise ConfigurationError("--scheduler needs --engine dask", field="scheduler")
        return LocalEngine(workers)
    if name == "dask":
        return DaskEngine(workers, scheduler=scheduler)
    raise ConfigurationError(f"unknown engine {name!r}: use local or dask", field="engine")
