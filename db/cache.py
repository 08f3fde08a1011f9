"""A process-local cache of derived page data, valid for one "data version" of the database.

``data_version`` is one cheap SELECT (maxima, counts and sums over indexed columns or small
tables) that any write the app can make changes, in whichever process it happens; ``cached``
reads it first and serves a stored value only while it is unchanged, so several web workers
never show data older than the request that asked for it.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from db.models import (
    Actor,
    Alert,
    AppSetting,
    AuditLog,
    CategoryProblem,
    CausalFactor,
    CitizenReport,
    Decision,
    Department,
    District,
    Engagement,
    FactorLink,
    Indicator,
    IndicatorStatusUpdate,
    Innovation,
    Observation,
    Problem,
    ProblemDistrict,
    ProblemIndicator,
    ReportCategory,
    ScoreSnapshot,
    User,
)

T = TypeVar("T")
_ALL: weakref.WeakSet[VersionedCache] = weakref.WeakSet()

# Every page's derived data for a few weeks and filters (entries are 5-500 kB, so at most
# tens of MB per worker); the least recently used is dropped first.
MAX_ENTRIES = 64
# Audited actions that change no data a page shows (so no cached value is dropped for them).
NO_DATA_ACTIONS = ("login",)


def _scalar(expression: Any, model: type) -> Any:
    return select(expression).select_from(model).scalar_subquery()


def _version_statement() -> Any:
    """One row of fingerprints. Append-only or large tables (audit log, observations, status
    updates, citizen reports) are read through their primary key or an index only: a maximum
    is one index probe. Every audited write but a sign-in moves the audit log; report
    ingestion and the demo seed stamp ``citizen_reports.ingested_at`` whenever they change
    the daily counts. The small tables a page reads are fingerprinted directly (counts,
    maxima, weight sums), so an unaudited change to them is seen as well."""
    # The newest audit row that is not a sign-in: every write the pages can show is audited,
    # while a sign-in changes nothing they show. The primary key is walked newest-first.
    newest_change = (
        select(AuditLog.id, AuditLog.at)
        .where(AuditLog.action.not_in(NO_DATA_ACTIONS))
        .order_by(AuditLog.id.desc())
        .limit(1)
        .subquery()
    )
    parts: list[Any] = [
        select(newest_change.c.id).scalar_subquery(),
        select(newest_change.c.at).scalar_subquery(),
        _scalar(func.max(Observation.id), Observation),
        _scalar(func.max(IndicatorStatusUpdate.id), IndicatorStatusUpdate),
        _scalar(func.max(CitizenReport.id), CitizenReport),
        _scalar(func.max(CitizenReport.ingested_at), CitizenReport),
        _scalar(func.max(Decision.id), Decision),
        _scalar(func.count(), Alert),
        _scalar(func.max(Alert.id), Alert),
        _scalar(func.max(Alert.updated_at), Alert),
        _scalar(func.count(), ScoreSnapshot),
        _scalar(func.max(ScoreSnapshot.id), ScoreSnapshot),
        _scalar(func.max(ScoreSnapshot.computed_at), ScoreSnapshot),
        _scalar(func.count(), AppSetting),
        _scalar(func.max(AppSetting.updated_at), AppSetting),
        _scalar(func.count(), Problem),
        _scalar(func.max(Problem.id), Problem),
        _scalar(func.max(Problem.updated_at), Problem),
        _scalar(func.sum(Problem.version), Problem),
    ]
    for model in (
        User,
        Department,
        District,
        Indicator,
        ReportCategory,
        CausalFactor,
        Actor,
        Engagement,
        Innovation,
    ):
        parts += [_scalar(func.count(), model), _scalar(func.max(model.id), model)]
    for model in (ProblemIndicator, CategoryProblem):
        parts += [_scalar(func.count(), model), _scalar(func.sum(model.weight), model)]
    for model in (ProblemDistrict, FactorLink):
        parts.append(_scalar(func.count(), model))
    return select(*parts)


_VERSION = _version_statement()


def data_version(session: Session) -> tuple[Any, ...]:
    """The database's current fingerprint: equal tuples mean no write happened in between
    (as far as any page's derived data can tell)."""
    row = session.execute(_VERSION).one()
    return tuple(str(v) if v is not None and not isinstance(v, int) else v for v in row)


class VersionedCache:
    """Values keyed on (name, key), each remembered with the data version it was computed
    from; a thread-safe LRU of ``max_entries``."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[tuple[Any, ...], Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        _ALL.add(self)

    def get(
        self, name: str, key: Hashable, version: tuple[Any, ...], compute: Callable[[], T]
    ) -> T:
        """The stored value when it was computed at ``version``; otherwise ``compute()``,
        stored. Two threads missing at once both compute (the results are equal)."""
        slot = (name, key)
        with self._lock:
            found = self._entries.get(slot)
            if found is not None and found[0] == version:
                self._entries.move_to_end(slot)
                self.hits += 1
                return found[1]
            self.misses += 1
        value = compute()
        with self._lock:
            self._entries[slot] = (version, value)
            self._entries.move_to_end(slot)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def clear_all() -> None:
    """Forget every cached value in this process (``triage bench ui --cold`` measures the
    first request after a write this way)."""
    for cache in list(_ALL):
        cache.clear()


_CACHES: weakref.WeakKeyDictionary[Engine, VersionedCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def cache_for(session: Session) -> VersionedCache:
    """The cache of the engine behind ``session`` (one per database per process)."""
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)
    with _CACHES_LOCK:
        cache = _CACHES.get(engine)
        if cache is None:
            cache = _CACHES[engine] = VersionedCache()
        return cache


def cached(session: Session, name: str, key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()`` (which reads through ``session``), or its stored result while the data
    version is unchanged. The version is read before ``compute`` runs, so a write that lands
    in between can only cause a needless recomputation later, never a stale answer.
    Callers must treat the result as read-only: it is shared with later requests."""
    version = data_version(session)
    return cache_for(session).get(name, key, version, compute)
