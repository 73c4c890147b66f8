"""Serving the active model version without a restart.

:class:`ServingModels` stands where an analyzer stands (the API's scoring path, the ingest
pipeline, the stream worker) and forwards every call to the analyzer of the version the
database says is active. It re-reads that pointer at most every
``Settings.model_refresh_seconds`` (one indexed single-row read), so a promotion or a
rollback reaches every process sharing the database within that interval.

One thread refreshes while the others keep serving the version they have. A new version
is loaded, and its files verified, *before* it replaces the old one: if it cannot be loaded
(a folder missing on this machine, files that do not match their sha256) the process keeps
serving the previous version, logs the error and tries again at the next refresh. Only a
process that has never served anything fails (there is nothing safe to fall back on).

Analyzers are shared per model folder and configuration across the process and dropped
once no pointer references them. ``settings.model_dir`` stays an explicit override: with it
set, :func:`serving_analyzer` returns that folder's analyzer and the registry is not read.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tonewatch._errors import TonewatchError

from ._promotion import ServingPointer, read_pointer
from ._registry import Registry
from ._shadow import ShadowItem, ShadowScorer

if TYPE_CHECKING:
    from tonewatch.ingest import Prepared
    from tonewatch.score import Analysis, Analyzer
    from tonewatch.settings import Settings
    from tonewatch.store import Store

__all__ = ["ServingModels", "analyzer_for_version", "serving_analyzer"]

_log = logging.getLogger("tonewatch.learn.serving")

_analyzers: weakref.WeakValueDictionary[tuple[Any, ...], Analyzer] = weakref.WeakValueDictionary()
_analyzers_lock = threading.Lock()

SwitchFn = Callable[[str | None, str], None]


def analyzer_for_version(registry: Registry, name: str, settings: Settings, *, threads: int | None = None) -> Analyzer:
    """The process's analyzer for a registered version (not loaded yet); the built-in one is ``get_analyzer``'s.

    ``threads`` overrides ``settings.threads`` (the shadow scorer runs on one core).
    """
    from tonewatch.score import Analyzer, get_analyzer
    from tonewatch.score._analyzer import analyzer_key

    if threads is not None:
        settings = settings.model_copy(update={"threads": threads})

    version = registry.get(name)
    if version.error is not None:
        from tonewatch._errors import ModelError

        raise ModelError(f"model version {version.name!r} cannot be used: {version.error}")
    if version.builtin:
        return get_analyzer(settings.model_copy(update={"model_dir": None}))
    key = analyzer_key(settings, Path(version.path))
    with _analyzers_lock:
        analyzer = _analyzers.get(key)
        if analyzer is None:
            analyzer = Analyzer.from_settings(settings, version.path)
            _analyzers[key] = analyzer
    return analyzer


@dataclass(frozen=True, slots=True)
class _State:
    pointer: ServingPointer
    active_name: str  # the version actually served (the pointer's, unless switching to it failed)
    active: Analyzer


class ServingModels:
    """An analyzer that is always the active registry version (see the module docstring).

    ``store`` may be a :class:`~tonewatch.store.Store` or a function returning one (the API
    creates its store lazily). ``after_commit`` is what the ingest pipeline calls with each
    committed chunk: it feeds the shadow scorer when a shadow version is set.
    """

    def __init__(
        self,
        settings: Settings,
        store: Store | Callable[[], Store],
        *,
        registry: Registry | None = None,
        refresh_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        on_switch: SwitchFn | None = None,
    ) -> None:
        self.settings = settings
        self.registry = registry or Registry.from_settings(settings)
        self.refresh_seconds = settings.model_refresh_seconds if refresh_seconds is None else refresh_seconds
        self._store_fn: Callable[[], Store] = store if callable(store) else (lambda: store)
        self._clock = clock
        self._on_switch = on_switch
        self._state: _State | None = None
        self._next_check = 0.0
        self._refresh_lock = threading.Lock()
        self._shadow: ShadowScorer | None = None
        self._shadow_lock = threading.Lock()
        self._shadow_analyzer: tuple[str, Analyzer] | None = None

    # -- resolving -------------------------------------------------------------------------
    def _current(self) -> _State:
        state = self._state
        if state is not None and self._clock() < self._next_check:
            return state
        if not self._refresh_lock.acquire(blocking=state is None):
            assert state is not None
            return state  # another thread is refreshing: serve what we have meanwhile
        try:
            state = self._state
            if state is not None and self._clock() < self._next_check:
                return state
            return self._refresh(state)
        finally:
            self._next_check = self._clock() + self.refresh_seconds
            self._refresh_lock.release()

    def _refresh(self, state: _State | None) -> _State:
        try:
            with self._store_fn().session(readonly=True) as session:
                pointer = read_pointer(session)
        except TonewatchError as exc:
            if state is None:
                raise
            _log.warning("cannot read the active model version (%s); still serving %s", exc, state.active_name)
            return state
        name = pointer.active_name
        if state is not None and state.active_name == name:
            new = replace(state, pointer=pointer)
        else:
            try:
                analyzer = analyzer_for_version(self.registry, name, self.settings)
                analyzer.load()
            except TonewatchError as exc:
                if state is None:
                    raise
                _log.error("cannot switch to model version %s (%s); still serving %s", name, exc, state.active_name)
                new = replace(state, pointer=pointer)
            else:
                new = _State(pointer, name, analyzer)
                if self._on_switch is not None:
                    self._on_switch(state.active.model_version if state else None, analyzer.model_version)
                if state is not None:
                    _log.info("now serving model version %s (was %s)", name, state.active_name)
        self._state = new
        return new

    def refresh(self) -> ServingPointer:
        """Re-read the pointer now (tests, and commands that just changed it)."""
        self._next_check = 0.0
        return self._current().pointer

    @property
    def pointer(self) -> ServingPointer:
        return self._current().pointer

    @property
    def active_name(self) -> str:
        """The registry name of the version being served (``builtin`` for the bundled model)."""
        return self._current().active_name

    def active(self) -> Analyzer:
        return self._current().active

    # -- the analyzer interface ------------------------------------------------------------
    @property
    def model_version(self) -> str:
        return self.active().model_version

    @property
    def manifest(self) -> dict[str, Any]:
        return self.active().manifest

    @property
    def loaded(self) -> bool:
        state = self._state
        return state is not None and state.active.loaded

    @property
    def max_text_chars(self) -> int:
        return self.settings.max_text_chars

    @property
    def validated_languages(self) -> frozenset[str]:
        return self.active().validated_languages

    def load(self) -> Analyzer:
        """Resolve and load the active version now (start-up, readiness)."""
        return self.active().load()

    def analyze(self, text: str, *, language: str | None = None) -> Analysis:
        return self.active().analyze(text, language=language)

    def analyze_batch(
        self, texts: Sequence[str], *, batch_size: int = 32, languages: Sequence[str | None] | None = None
    ) -> list[Analysis]:
        """One version scores the whole batch, even if a switch lands meanwhile."""
        return self.active().analyze_batch(texts, batch_size=batch_size, languages=languages)

    # -- shadow ----------------------------------------------------------------------------
    @property
    def shadow(self) -> ShadowScorer:
        """The process's shadow scorer (created on first use)."""
        if self._shadow is None:
            with self._shadow_lock:
                if self._shadow is None:
                    self._shadow = ShadowScorer(
                        self._store_fn,
                        self._shadow_for,
                        max_queue=self.settings.shadow_queue_size,
                    )
        return self._shadow

    def _shadow_for(self, name: str) -> Analyzer:
        """Loaded in the shadow worker's thread, never on the live path; keeps only the latest one.

        One intra-op thread: the shadow takes at most one core from live scoring, however busy it is.
        """
        held = self._shadow_analyzer
        if held is not None and held[0] == name:
            return held[1]
        analyzer = analyzer_for_version(self.registry, name, self.settings, threads=1)
        self._shadow_analyzer = (name, analyzer)
        return analyzer

    def drain(self, timeout: float = 60.0) -> bool:
        """Wait until the shadow queue is written (a short-lived process, before it exits); False on timeout."""
        return True if self._shadow is None else self._shadow.flush(timeout)

    def after_commit(self, prepared: Sequence[Prepared]) -> None:
        """Queue a committed chunk's scored customer messages for the shadow version, if one is set."""
        shadow = self._current().pointer.shadow
        if shadow is None:
            return
        from tonewatch.ingest import MessageEvent

        items = [
            ShadowItem(
                event_id=p.event_id,
                text=p.event.text,
                language=p.event.language,
                version=shadow,
                active_version=p.analysis.model_version,
                active_label=p.analysis.label,
                active_score=p.analysis.score,
            )
            for p in prepared
            if p.analysis is not None and isinstance(p.event, MessageEvent)
        ]
        if items:
            self.shadow.submit(items)

    def __repr__(self) -> str:
        state = self._state
        return f"ServingModels(registry={str(self.registry.root)!r}, active={state.active_name if state else None!r})"


def serving_analyzer(settings: Settings, store: Store | Callable[[], Store]) -> Analyzer | ServingModels:
    """What a long-running process should score with: the registry's active version, or ``model_dir`` if set."""
    if settings.model_dir is not None:
        from tonewatch.score import get_analyzer

        return get_analyzer(settings)
    return ServingModels(settings, store)
