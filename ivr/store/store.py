"""The store: every read and write of messages and call-backs, each in its own committed transaction.

Any database failure (down, locked, read-only, full) becomes :class:`StoreError`, whose message
never holds SQL parameters (so never a caller's number). Callers of a write may tell the caller
"saved" once the method has returned: the row is committed by then.

SQLite (the default, in the instance folder) runs in WAL mode with a busy timeout, and every
transaction starts with ``BEGIN IMMEDIATE`` so that concurrent writers from several workers
queue for the lock instead of failing on a read-to-write upgrade. Any other SQLAlchemy URL
(PostgreSQL for several servers) is used as it is; the SQL is portable.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import Connection, Engine, Result, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import SingletonThreadPool

from ivr.errors import ConfigError, StoreError
from ivr.store.migrate import upgrade
from ivr.store.models import CallbackRequest, Message, utcnow

__all__ = ["BUSY_TIMEOUT_SECONDS", "Store", "rows_changed"]

log = logging.getLogger(__name__)

# Well inside Twilio's 15 s webhook budget, long enough to ride out another writer's commit.
BUSY_TIMEOUT_SECONDS = 3
Row = TypeVar("Row", Message, CallbackRequest)


def _describe(exc: SQLAlchemyError) -> str:
    """The driver's own words (no SQL, no parameters)."""
    orig = getattr(exc, "orig", None)
    return f"{type(orig or exc).__name__}: {str(orig or exc).splitlines()[0] if str(orig or exc) else ''}"


def _set_wal(cursor: Any) -> None:
    """``PRAGMA journal_mode = WAL``, waiting up to the busy timeout for the file: turning a new
    database to WAL needs it to itself, and SQLite answers "database is locked" at once (no busy
    handler) while another worker's connection is doing the same. sqlite3.OperationalError after that."""
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)  # a back-off between tries, as SQLite's own busy handler does


def _sqlite_engine(url: str, *, synchronous: str = "FULL", immediate: bool = True) -> Engine:
    # An in-memory database (the practice line's) keeps SQLAlchemy's pool for it, named rather than
    # chosen from the URL (that choice is deprecated).
    pool = {"poolclass": SingletonThreadPool} if "mode=memory" in url else {}
    engine = create_engine(
        url, hide_parameters=True, connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False}, **pool,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
        _set_wal(cursor)
        # FULL: a committed message survives power loss too. NORMAL (best-effort rows such as the
        # call log): still consistent after a crash, but the last commits may be lost; no fsync.
        cursor.execute(f"PRAGMA synchronous = {synchronous}")
        cursor.close()

    if immediate:
        @event.listens_for(engine, "begin")
        def _on_begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:  # reads only: a deferred transaction, which in WAL mode never waits for a writer
        @event.listens_for(engine, "begin")
        def _on_begin_read(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN")

    return engine


def _engine(url: str) -> Engine:
    """An engine for ``url``; ConfigError when the URL itself is malformed (a setting, not an outage)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"Expected a database URL like 'sqlite:////var/lib/ivr/ivr.sqlite3' or "
            f"'postgresql+psycopg://user@host/ivr', got {url!r} in IVR_DATABASE_URL.",
            hint="Leave IVR_DATABASE_URL unset for SQLite in the instance folder.",
        ) from None
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    connect_args: dict[str, object] = {}
    if parsed.get_backend_name() == "postgresql":
        # Fail inside Twilio's 15 s webhook budget: a server that does not answer, a row or table
        # another writer keeps locked, or a statement that hangs all become StoreError, not dead air.
        # Options already in the URL (?options=-c ...) come last, so an operator's own win.
        ours = f"-c lock_timeout={BUSY_TIMEOUT_SECONDS * 1000} -c statement_timeout={BUSY_TIMEOUT_SECONDS * 2000}"
        theirs = parsed.query.get("options", "")
        connect_args = {
            "connect_timeout": BUSY_TIMEOUT_SECONDS,
            "options": " ".join([ours, *([theirs] if isinstance(theirs, str) else theirs)]).strip(),
        }
    try:
        return create_engine(url, hide_parameters=True, pool_pre_ping=True, connect_args=connect_args)
    except (ArgumentError, ImportError) as exc:
        raise ConfigError(
            f"Cannot use the database URL in IVR_DATABASE_URL ({exc}).",
            hint="For PostgreSQL install its driver (pip install psycopg) and use postgresql+psycopg://...",
        ) from None


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed (its cursor's rowcount; 0 when unknown)."""
    return int(getattr(result, "rowcount", 0) or 0)


def _dispose(engine: Engine | None) -> None:
    """In a forked child, drop the parent's connections without closing them (they are the parent's)."""
    if engine is not None:
        engine.dispose(close=False)


@contextmanager
def _store_errors(doing: str) -> Iterator[None]:
    """Any database failure inside becomes StoreError ("could not be reached or {doing}"),
    whose message holds no SQL parameters."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise StoreError(f"the database could not be reached or {doing} ({_describe(exc)}).") from exc


class Store:
    """Messages and call-back requests in one database. Safe to share between threads."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._best_effort_sessions = self._sessions
        self._read_engine = self.engine
        if self.engine.dialect.name == "sqlite":
            relaxed = _sqlite_engine(url, synchronous="NORMAL")
            self._best_effort_sessions = sessionmaker(relaxed, expire_on_commit=False)
            relaxed_ref = weakref.ref(relaxed)
            os.register_at_fork(after_in_child=lambda: _dispose(relaxed_ref()))
            self._read_engine = reads = _sqlite_engine(url, immediate=False)
            reads_ref = weakref.ref(reads)
            os.register_at_fork(after_in_child=lambda: _dispose(reads_ref()))
        self._migrated = False
        self._lock = threading.Lock()
        # A worker forked after start-up must not share the parent's connections.
        ref = weakref.ref(self.engine)
        os.register_at_fork(after_in_child=lambda: _dispose(ref()))

    # --- schema ---

    def migrate(self) -> None:
        """Bring the schema to the newest migration (``upgrade head``); StoreError if the database
        cannot be reached. Called at start-up, and again before the first use if that failed."""
        with self._lock:
            if self._migrated:
                return
            try:
                upgrade(self.engine)
            except SQLAlchemyError as exc:
                raise StoreError(
                    f"could not bring the database up to date ({_describe(exc)}).",
                    hint=f"Check that {self.engine.url.render_as_string(hide_password=True)} is reachable and writable.",
                ) from exc
            self._migrated = True

    @contextmanager
    def _session(self) -> Iterator[Session]:
        """One transaction, committed on leaving; any database failure becomes StoreError."""
        self.migrate()
        with _store_errors("written"), self._sessions.begin() as session:
            yield session

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[Session]:
        """One committed transaction for the other tables (call log, staff users); any database
        failure becomes StoreError (its message holds no SQL parameters).

        ``durable=False`` is for best-effort rows written on every webhook (the call log): the
        commit does not wait for the disk (SQLite ``synchronous=NORMAL``, PostgreSQL
        ``synchronous_commit=off``), so the database stays consistent after a crash but the last
        moments may be lost. Messages and call-backs are never written this way.
        """
        if durable:
            with self._session() as session:
                yield session
            return
        self.migrate()
        with _store_errors("written"), self._best_effort_sessions.begin() as session:
            if self.engine.dialect.name == "postgresql":
                session.execute(text("SET LOCAL synchronous_commit TO OFF"))
            yield session

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for reads that must not queue behind writers (a caller is waiting on
        them): on SQLite a plain deferred transaction, not the BEGIN IMMEDIATE of writes. Any
        database failure becomes StoreError."""
        self.migrate()
        with _store_errors("read"), self._read_engine.connect() as connection:
            yield connection

    @property
    def sqlite_file(self) -> bool:
        """Whether this is a SQLite database in a file, which :meth:`sqlite_reader` can open."""
        url = self._read_engine.url
        return (url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
                and "mode=memory" not in url.render_as_string())

    def sqlite_reader(self, *, busy_timeout_ms: int) -> sqlite3.Connection:
        """A plain sqlite3 connection of its own to this store's SQLite file, outside the engines'
        pools, for one thread's reads on a caller's critical path (:mod:`ivr.calllog.returning`),
        which owns it: one thread, never across a fork.

        Autocommit, so each SELECT is its own deferred read, which in WAL mode never waits for a
        writer; read only. Another connection holding the file is waited for at most
        ``busy_timeout_ms``: not the engines' 3 s, nor their connect-time switch to WAL, which
        retries for as long (the file is in WAL once they have opened it). Nothing here migrates
        or checks the schema (seconds, maybe): a statement on a table not there yet fails, as
        sqlite3 errors do. StoreError when the file cannot be opened; ValueError unless
        :attr:`sqlite_file`."""
        if not self.sqlite_file:
            raise ValueError(f"not a SQLite file: {self._read_engine.url.render_as_string(hide_password=True)}")
        # The file name (or file: URI) as SQLAlchemy would give it to the driver.
        args, params = self._read_engine.dialect.create_connect_args(self._read_engine.url)
        connection = None
        try:
            connection = sqlite3.connect(args[0], timeout=busy_timeout_ms / 1000, isolation_level=None,
                                         uri=bool(params.get("uri")))
            connection.execute("PRAGMA query_only = ON")
        except sqlite3.Error as exc:
            if connection is not None:
                connection.close()
            raise StoreError(f"the database could not be opened for reading ({type(exc).__name__}: {exc}).") from exc
        return connection

    def ping(self) -> None:
        """StoreError unless the database answers (for health checks)."""
        with self._session() as session:
            session.execute(text("SELECT 1"))

    # --- call-back requests ---

    def save_callback(
        self, *, call_sid: str, number: str, number_source: str,
        leaflet: str | None, section: int | None, reason: str, due_at: dt.datetime | None = None,
    ) -> tuple[CallbackRequest, bool]:
        """Commit a call-back request for this call; returns (row, created).

        Idempotent on ``call_sid``: a retried webhook returns the existing row (created False);
        a caller who gives a different number later in the same call updates the open request.
        """

        def find(session: Session) -> CallbackRequest | None:
            return session.scalars(select(CallbackRequest).where(CallbackRequest.call_sid == call_sid)).one_or_none()

        def create() -> CallbackRequest:
            return CallbackRequest(
                call_sid=call_sid, number=number, number_source=number_source,
                leaflet=leaflet, section=section, reason=reason, due_at=due_at,
            )

        def update(row: CallbackRequest) -> None:
            if row.done_at is None and row.number != number:
                row.number, row.number_source = number, number_source

        return self._upsert(find, create, update)

    def callbacks(self, *, open_only: bool = False) -> list[CallbackRequest]:
        """Call-back requests, newest first; StoreError if the database fails."""
        query = select(CallbackRequest).order_by(CallbackRequest.created_at.desc(), CallbackRequest.id.desc())
        if open_only:
            query = query.where(CallbackRequest.done_at.is_(None))
        with self._session() as session:
            return list(session.scalars(query))

    def mark_callback_done(self, request_id: int, *, by: str, at: dt.datetime | None = None) -> CallbackRequest | None:
        """Record who dealt with a call-back, and when; None if there is no such request."""
        return self._mark_done(CallbackRequest, request_id, by, at)

    # --- messages ---

    def save_message(
        self, *, recording_sid: str, call_sid: str, caller_masked: str, leaflet: str | None,
        section: int | None, reason: str, recording_url: str | None, duration_seconds: int | None,
        recording_status: str | None = None, caller_number: str | None = None, due_at: dt.datetime | None = None,
    ) -> tuple[Message, bool]:
        """Commit a message (from the <Record> action or the recording status callback); returns
        (row, created). Idempotent on ``recording_sid``: a repeat fills in what is missing."""

        def find(session: Session) -> Message | None:
            return session.scalars(select(Message).where(Message.recording_sid == recording_sid)).one_or_none()

        def create() -> Message:
            return Message(
                recording_sid=recording_sid, call_sid=call_sid, caller_masked=caller_masked, leaflet=leaflet,
                section=section, reason=reason, recording_url=recording_url,
                duration_seconds=duration_seconds, recording_status=recording_status,
                caller_number=caller_number, due_at=due_at,
            )

        def update(row: Message) -> None:
            row.recording_url = recording_url or row.recording_url
            row.duration_seconds = duration_seconds if duration_seconds is not None else row.duration_seconds
            row.recording_status = recording_status or row.recording_status
            if row.leaflet is None and leaflet is not None:  # the status callback knows no position
                row.leaflet, row.section = leaflet, section
            if row.reason == "unknown" and reason != "unknown":
                row.reason = reason
            row.caller_number = row.caller_number or caller_number
            row.due_at = row.due_at or due_at

        return self._upsert(find, create, update)

    def messages(self, *, open_only: bool = False) -> list[Message]:
        """Messages, newest first; StoreError if the database fails."""
        query = select(Message).order_by(Message.created_at.desc(), Message.id.desc())
        if open_only:
            query = query.where(Message.done_at.is_(None))
        with self._session() as session:
            return list(session.scalars(query))

    def mark_message_done(self, message_id: int, *, by: str, at: dt.datetime | None = None) -> Message | None:
        """Record who dealt with a message, and when; None if there is no such message."""
        return self._mark_done(Message, message_id, by, at)

    # --- shared ---

    def _upsert(
        self, find: Callable[[Session], Row | None], create: Callable[[], Row], update: Callable[[Row], None],
    ) -> tuple[Row, bool]:
        for _attempt in range(2):
            try:
                with self._session() as session:
                    row = find(session)
                    if row is not None:
                        update(row)
                        return row, False
                    row = create()
                    session.add(row)
                    session.flush()
                    return row, True
            except StoreError as exc:
                # Another worker inserted the same key between our look-up and insert: read theirs.
                if not isinstance(exc.__cause__, IntegrityError):
                    raise
        raise StoreError("the same request kept colliding with another writer.")

    def _mark_done(self, model: type[Row], row_id: int, by: str, at: dt.datetime | None) -> Row | None:
        with self._session() as session:
            row = session.get(model, row_id)
            if row is not None and row.done_at is None:
                row.done_at, row.done_by = at or utcnow(), by
            return row
