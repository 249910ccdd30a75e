"""Write webhooks' facts: upsert each call's row and add its events, a batch a transaction; and
the call's end from Twilio's status callback.

Core statements, no ORM unit of work: this runs for every webhook, and the ORM's
select-then-update cost more CPU than answering the webhook (see ``scripts/bench_webhook.py``).
The call's row is an ``INSERT ... ON CONFLICT DO UPDATE`` (SQLite and PostgreSQL alike), so
two webhooks of one call racing from two workers cannot collide, a late, reordered webhook
never moves the caller back, and the status callback may come before or after the webhooks
are written (it sets only its own columns; a row it makes has no webhooks, so the first
webhook then sets where the caller was), and as often as Twilio sends it (the first wins).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import operator
from collections import Counter
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, case, insert, literal_column, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.dml import Insert

from ivr.calllog.facts import Facts
from ivr.calllog.status import NO_WEBHOOK, CallEnd
from ivr.store import Store
from ivr.store.models import CallEvent, CallRecord

__all__ = ["caller_hash", "record_batch", "record_call_end"]

CALLS = cast(Table, CallRecord.__table__)
EVENTS = cast(Table, CallEvent.__table__)
EVENT_COLUMNS = ("menu", "digits", "leaflet", "section", "part", "rate", "seconds", "detail", "confidence")
_NO_EVENT_COLUMNS = dict.fromkeys(EVENT_COLUMNS)


@functools.lru_cache(maxsize=4096)  # a call's webhooks all carry its number: one HMAC a call, not one a webhook
def caller_hash(secret: str, number: str) -> str | None:
    """A keyed hash (HMAC-SHA256 with the app's secret key) of the caller's number: the same
    caller gives the same hash, so repeat callers can be counted, but the number cannot be read
    back or found by hashing every possible number without the key. None for no number."""
    number = "".join(ch for ch in number if ch.isdigit() or ch == "+")
    if not number:
        return None
    return hmac.new(secret.encode(), number.encode(), hashlib.sha256).hexdigest()


def _upsert(dialect: str) -> Insert:
    """The call's row: created by its first webhook, updated by every later one."""
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(CALLS)
    new, old = statement.excluded, CALLS.c
    # Constants as literal SQL, not binds: see _Prepared.
    none: ColumnElement[Any] = literal_column("0")
    one: ColumnElement[Any] = literal_column("1")
    leaflet_menu: ColumnElement[Any] = literal_column("'leaflets'")
    # Else a late, reordered webhook: keep where the caller got to. A row the status callback
    # made has no webhooks yet: the first one sets the place whatever the times.
    later = or_(old.webhooks == none, new.ended_at >= old.ended_at)
    moves_place = and_(later, or_(new.leaflet.is_not(None), new.stage == leaflet_menu))  # else keep the last leaflet place

    def either(flag: str) -> ColumnElement[Any]:
        return or_(old[flag], new[flag])

    return statement.on_conflict_do_update(index_elements=[old.call_sid], set_={
        # When the line first answered; a row the status callback made has its end less its length till then.
        "started_at": case((or_(old.webhooks == none, new.started_at < old.started_at), new.started_at),
                           else_=old.started_at),
        "ended_at": case((later, new.ended_at), else_=old.ended_at),
        "stage": case((later, new.stage), else_=old.stage),
        **{name: case((moves_place, new[name]), else_=old[name]) for name in ("leaflet", "section", "part")},
        "webhooks": old.webhooks + one,
        **{flag: either(flag) for flag in ("nurse_requested", "nurse_closed", "message_left", "callback_left",
                                          "past_first_menu")},
        **{name: case((new.transfer_status.is_not(None), new[name]), else_=old[name])
           for name in ("transfer_status", "transfer_at")},
    })


_UPSERTS = {dialect: _upsert(dialect) for dialect in ("sqlite", "postgresql")}
CALL_COLUMNS = ("call_sid", "caller_hash", "started_at", "ended_at", "stage", "leaflet", "section", "part", "webhooks",
                "nurse_requested", "nurse_closed", "transfer_status", "transfer_at", "message_left", "callback_left",
                "past_first_menu")


class _Prepared:
    """A statement compiled once for a dialect and run through the driver's ``executemany``, each
    row's values converted by the statement's own bind processors (as ``session.execute`` converts
    them) but without SQLAlchemy's work per execution and per row, which made the writer a seventh
    of a worker's time at saturation (``scripts/bench_webhook.py --profile``).

    The statement binds the row's columns only (its constants are literal SQL): a row's values are
    taken in one ``itemgetter`` call, and only the columns with a converter (times, flags) are
    looked at one by one."""

    def __init__(self, statement: Any, dialect: Dialect, columns: Sequence[str]) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(columns))
        self.sql = compiled.string
        self.positional = compiled.positional
        names = list(compiled.positiontup) if compiled.positional else list(dict.fromkeys(compiled.binds))
        if unknown := set(names) - set(columns):
            raise ValueError(f"the statement binds values of its own ({sorted(unknown)}): make them literal SQL")
        self.names = names
        self._values = operator.itemgetter(*names)
        # (place, the column's type as written, its converter): columns of one type convert a value alike
        self._converters = []
        for index, name in enumerate(names):
            column_type = compiled.binds[name].type
            if processor := column_type.dialect_impl(dialect).bind_processor(dialect):
                self._converters.append((index, repr(column_type), processor))

    def parameters(self, rows: Sequence[dict[str, object]], done: dict[tuple[str, object], object]) -> list[Any]:
        """The driver's parameters for ``rows``. ``done`` holds values already converted, shared by
        the statements of a batch: a webhook's time, in several columns of the call's row and its
        events, is converted once (each costs microseconds: most of the writer's own work)."""
        out: list[Any] = []
        for row in rows:
            values = list(self._values(row))
            for index, column_type, convert in self._converters:
                value = values[index]
                if value is not None:
                    key = (column_type, value)
                    found = done.get(key, done)
                    if found is done:
                        found = done[key] = convert(value)
                    values[index] = found
            out.append(tuple(values) if self.positional else dict(zip(self.names, values, strict=True)))
        return out


@functools.cache
def _prepared(dialect: Dialect) -> tuple[_Prepared, _Prepared]:
    """The call's upsert and the events' insert, for ``dialect`` (an engine's: one a process)."""
    return (_Prepared(_UPSERTS[dialect.name], dialect, CALL_COLUMNS),
            _Prepared(insert(EVENTS), dialect, ("call_sid", "at", "kind", *EVENT_COLUMNS)))


def _row(facts: Facts, secret: str) -> dict[str, object]:
    return {
        "call_sid": facts.call_sid, "caller_hash": caller_hash(secret, facts.caller), "started_at": facts.at,
        "ended_at": facts.at, "stage": facts.stage,
        "leaflet": facts.leaflet if facts.leaflet is not None or facts.stage == "leaflets" else None,
        "section": facts.section, "part": facts.part, "webhooks": 1,
        "nurse_requested": facts.nurse_requested, "nurse_closed": facts.nurse_closed,
        "transfer_status": facts.transfer_status, "transfer_at": facts.at if facts.transfer_status else None,
        "message_left": facts.message_left, "callback_left": facts.callback_left,
        "past_first_menu": facts.past_first_menu,
    }


def _events(facts: Facts, seconds: float | None) -> list[dict[str, object]]:
    """The events of this webhook; every row has every column (one executemany)."""
    found: list[dict[str, object]] = []

    def add(kind: str, **columns: object) -> None:
        row = {**_NO_EVENT_COLUMNS, "call_sid": facts.call_sid, "at": facts.at, "kind": kind}
        row.update(columns)
        found.append(row)

    if facts.key is not None:
        add("key", menu=facts.key.menu, digits=facts.key.digits)
    if facts.said is not None:  # what the words chose, and how sure: never the words themselves
        add("said", menu=facts.said.menu[:24], detail=facts.said.action[:32] or "not-understood",
            confidence=round(facts.said.confidence, 3))
    if (read := facts.read) is not None:
        add("read", leaflet=read.leaflet, section=read.section, part=read.part, rate=read.rate, seconds=seconds)
    if facts.stage == "end" and facts.key is None and facts.said is None and facts.leaflet is not None:
        # Twilio comes to the end of a section by itself only once its last part has played out.
        add("end", leaflet=facts.leaflet, section=facts.section, part=facts.part)
    if facts.nurse_requested:
        add("nurse", leaflet=facts.leaflet, section=facts.section, detail="closed" if facts.nurse_closed else "open")
    if facts.transfer_status is not None:
        add("dial", detail=facts.transfer_status)
    if facts.message_left:
        add("message")
    if facts.callback_left:
        add("callback")
    return found


def _rounds(rows: list[dict[str, object]]) -> list[list[dict[str, object]]]:
    """``rows`` split so that no call appears twice in one round, keeping each call's order: one
    multi-row ``ON CONFLICT`` statement (which some drivers make of an executemany) may not
    touch the same row twice."""
    rounds: list[list[dict[str, object]]] = []
    seen: Counter[object] = Counter()
    for row in rows:
        index = seen[row["call_sid"]]
        seen[row["call_sid"]] += 1
        if index == len(rounds):
            rounds.append([])
        rounds[index].append(row)
    return rounds


def record_batch(store: Store, batch: Sequence[tuple[Facts, float | None]], *, secret: str) -> None:
    """Record several webhooks' facts (each with the length of the part read, if any), in order,
    in one transaction. Raises StoreError when the database fails (the whole batch is lost)."""
    upsert, add_events = _prepared(store.engine.dialect)
    events = [event for facts, seconds in batch for event in _events(facts, seconds)]
    converted: dict[tuple[str, object], object] = {}
    with store.transaction(durable=False) as session:  # best effort: no fsync wait
        connection = session.connection()
        for rows in _rounds([_row(facts, secret) for facts, _seconds in batch]):
            connection.exec_driver_sql(upsert.sql, upsert.parameters(rows, converted))
        if events:
            connection.exec_driver_sql(add_events.sql, add_events.parameters(events, converted))


def _end_upsert(dialect: str) -> Insert:
    """The call's end: fills in its own columns once (the first status callback wins); a row it
    makes is filled in by the webhooks that follow."""
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(CALLS)
    new, old = statement.excluded, CALLS.c
    first = old.call_status.is_(None)
    return statement.on_conflict_do_update(index_elements=[old.call_sid], set_={
        name: case((first, new[name]), else_=old[name]) for name in ("call_status", "duration_seconds", "hung_up_at")
    })


_END_UPSERTS = {dialect: _end_upsert(dialect) for dialect in ("sqlite", "postgresql")}


def record_call_end(store: Store, end: CallEnd, *, secret: str) -> None:
    """Record Twilio's final status of a call (idempotent on CallSid: a repeat changes nothing).
    Written at once, not batched: it comes once a call. Raises StoreError when the database fails."""
    started = end.started_at
    with store.transaction(durable=False) as session:
        session.execute(_END_UPSERTS[store.engine.dialect.name], [{
            "call_sid": end.call_sid, "caller_hash": caller_hash(secret, end.caller), "started_at": started,
            "ended_at": started, "stage": NO_WEBHOOK, "webhooks": 0, "nurse_requested": False,
            "nurse_closed": False, "message_left": False, "callback_left": False, "past_first_menu": False,
            "call_status": end.status, "duration_seconds": end.duration_seconds, "hung_up_at": end.ended_at,
        }])
