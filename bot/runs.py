"""A user and their run as each message reads and writes them.

Every message reads the user and their active run and writes back what changed: a handful of small
statements, run for every message. The ORM would cost several times what the statements themselves
do, so here the rows are plain dataclasses and the statements are SQLAlchemy Core, compiled once and
run on the driver's cursor (`Prepared`). Everything else (reviews, history, export, the CLI) uses the
ORM models in bot/store.py.
"""
from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import Text, and_, bindparam, delete, insert, select, type_coerce, update
from sqlalchemy.engine import Connection, Engine

from bot.store import Answer, FreeText, Run, User, utcnow

LAST_SEEN_STEP = dt.timedelta(hours=1)
"""How stale `users.last_seen_at` may get before a message updates it (it is shown by the day)."""


@dataclass
class UserRow:
    id: int
    key: str
    role: str
    area: str | None
    waiting_for: str | None
    last_seen_at: dt.datetime
    saved: tuple = field(default=(), repr=False)  # the columns as last read or written

    def columns(self) -> tuple:
        return self.role, self.area, self.waiting_for, self.last_seen_at

    def seen(self, now: dt.datetime) -> None:
        if now - self.last_seen_at > LAST_SEEN_STEP:
            self.last_seen_at = now


class Stored(MutableMapping):
    """A run's values by step (its answers, or what they matched), read from the database the first
    time one is asked for. Most messages never ask: a value set in this message is kept without
    reading, and a stored answer is decrypted only when it is read."""

    def __init__(self, load: Callable[[], dict] | None = None, open_: Callable = lambda value: value):
        self._load, self._open = load, open_
        self._stored: dict | None = None if load else {}
        self._values: dict = {}  # opened, or set in this message
        self._gone: set = set()

    def _rows(self) -> dict:
        if self._stored is None:
            self._stored = self._load()
        return self._stored

    def __getitem__(self, step: str):
        if step not in self._values:
            if step in self._gone:
                raise KeyError(step)
            self._values[step] = self._open(self._rows()[step])
        return self._values[step]

    def __setitem__(self, step: str, value) -> None:
        self._values[step] = value
        self._gone.discard(step)

    def __delitem__(self, step: str) -> None:
        if step not in self:
            raise KeyError(step)
        self._values.pop(step, None)
        self._gone.add(step)

    def __contains__(self, step: object) -> bool:
        return step in self._values or (step not in self._gone and step in self._rows())

    def __iter__(self) -> Iterator[str]:
        return iter([step for step in {**self._rows(), **self._values} if step not in self._gone])

    def __len__(self) -> int:
        return sum(1 for _ in self)


@dataclass
class RunRow:
    user_id: int
    dialogue_id: str
    script_version: int
    state: str
    path: list[str] = field(default_factory=list)
    status: str = "active"
    started_at: dt.datetime = field(default_factory=utcnow)
    updated_at: dt.datetime = field(default_factory=utcnow)
    finished_at: dt.datetime | None = None
    summary: str | None = None
    told_redacted: bool = False
    id: int | None = None
    answers: Stored = field(default_factory=Stored)
    matches: Stored = field(default_factory=Stored)
    saved: tuple = field(default=(), repr=False)

    def columns(self) -> tuple:
        return (self.state, tuple(self.path), self.status, self.updated_at, self.finished_at, self.summary,
                self.told_redacted)


_users, _runs, _answers = User.__table__, Run.__table__, Answer.__table__
_RUN_COLUMNS = (_runs.c.id, _runs.c.dialogue_id, _runs.c.script_version, _runs.c.state, _runs.c.path,
                _runs.c.status, _runs.c.started_at, _runs.c.updated_at, _runs.c.finished_at,
                _runs.c.told_redacted)
_READ_USER = (select(_users.c.id, _users.c.key, _users.c.role, _users.c.area, _users.c.waiting_for,
                     _users.c.last_seen_at, *_RUN_COLUMNS)
              .outerjoin(_runs, and_(_runs.c.user_id == _users.c.id, _runs.c.status == "active"))
              .where(_users.c.key == bindparam("key")).order_by(_runs.c.id.desc()).limit(1))
_READ_RUN = select(*_RUN_COLUMNS).where(_runs.c.id == bindparam("run_id"))
_READ_ANSWERS = (select(_answers.c.step, type_coerce(_answers.c.value, Text), _answers.c.matched)
                 .where(_answers.c.run_id == bindparam("run_id")).order_by(_answers.c.id))
_WRITE_USER = update(_users).where(_users.c.id == bindparam("user_id")).values(
    role=bindparam("role"), area=bindparam("area"), waiting_for=bindparam("waiting_for"),
    last_seen_at=bindparam("last_seen_at"))
_RUN_VALUES = dict(state=bindparam("state"), path=bindparam("path"), status=bindparam("status"),
                   updated_at=bindparam("updated_at"), finished_at=bindparam("finished_at"),
                   summary=bindparam("summary"), told_redacted=bindparam("told_redacted"))
_WRITE_RUN = update(_runs).where(_runs.c.id == bindparam("run_id")).values(**_RUN_VALUES)
_NEW_RUN = insert(_runs).values(user_id=bindparam("user_id"), dialogue_id=bindparam("dialogue_id"),
                                script_version=bindparam("script_version"),
                                started_at=bindparam("started_at"), **_RUN_VALUES)
_ANSWER_VALUES = dict(run_id=bindparam("run_id"), step=bindparam("step"), value=bindparam("value"),
                     answered_at=bindparam("answered_at"), matched=bindparam("matched"))
_FINISHED = (select(_runs.c.id, _runs.c.dialogue_id, _runs.c.finished_at, _runs.c.status)
             .where(_runs.c.user_id == bindparam("user_id"), _runs.c.summary.is_not(None),
                    _runs.c.dialogue_id != bindparam("leaving_out")).order_by(_runs.c.id.desc()))
_SUMMARY = select(_runs.c.summary).where(_runs.c.id == bindparam("run_id"))
_DROP_ANSWER = delete(_answers).where(_answers.c.run_id == bindparam("run_id"), _answers.c.step == bindparam("a_step"))


def _keep_answer(dialect: str):
    """INSERT, or on a second answer to the same step UPDATE (SQLite and PostgreSQL say it alike)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    statement = upsert(_answers).values(**_ANSWER_VALUES)
    return statement.on_conflict_do_update(index_elements=["run_id", "step"], set_={
        "value": statement.excluded.value, "answered_at": statement.excluded.answered_at,
        "matched": statement.excluded.matched})


class FinishedRun(NamedTuple):
    id: int
    dialogue_id: str
    finished_at: dt.datetime
    status: str


class Prepared:
    """A Core statement compiled once for this database and run on the driver's own cursor, with the
    columns' types (encryption, UTC times, JSON) applied as SQLAlchemy would apply them.

    Every message runs a few of these; SQLAlchemy's per-execution work costs several times what
    SQLite itself does for statements this small. They run inside the Connection's transaction."""

    def __init__(self, statement, dialect):
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self._order = compiled.positiontup  # None where the driver takes named parameters
        binds = {name: compiled.binds[name] for name in (self._order or compiled.binds)}
        self._fixed = {name: bind.value for name, bind in binds.items() if not bind.required}  # "active", LIMIT 1
        self._binds = {name: bind.type.dialect_impl(dialect).bind_processor(dialect) for name, bind in binds.items()}
        self._results = [column.type.dialect_impl(dialect).result_processor(dialect, None)
                         for column in getattr(statement, "selected_columns", ())]

    def _cursor(self, connection: Connection, params: dict):
        values = {**self._fixed, **params}
        for name, process in self._binds.items():
            if process is not None and name in values:
                values[name] = process(values[name])
        cursor = connection.connection.driver_connection.cursor()
        cursor.execute(self.sql, [values[name] for name in self._order] if self._order is not None else values)
        return cursor

    def run(self, connection: Connection, params: dict) -> None:
        self._cursor(connection, params).close()

    def rows(self, connection: Connection, params: dict) -> list[tuple]:
        cursor = self._cursor(connection, params)
        found = cursor.fetchall()
        cursor.close()
        results = self._results
        return [tuple(value if process is None or value is None else process(value)
                      for value, process in zip(row, results)) for row in found]


class Runs:
    """Users and runs as one message reads and writes them, in that message's transaction."""

    def __init__(self, engine: Engine):
        dialect = engine.dialect
        self._read_user, self._read_run, self._read_answers, self._finished, self._summary = (
            Prepared(statement, dialect) for statement in (_READ_USER, _READ_RUN, _READ_ANSWERS, _FINISHED, _SUMMARY))
        self._write_user, self._write_run, self._keep_answer, self._drop_answer = (
            Prepared(statement, dialect) for statement in (_WRITE_USER, _WRITE_RUN, _keep_answer(dialect.name),
                                                             _DROP_ANSWER))

    def finished_runs(self, connection: Connection, user_id: int, leaving_out: str) -> list[FinishedRun]:
        """A user's runs that have a summary, newest first (not the summaries themselves)."""
        return [FinishedRun(*row) for row in self._finished.rows(connection, {"user_id": user_id,
                                                                              "leaving_out": leaving_out})]

    def summary(self, connection: Connection, run_id: int) -> str | None:
        found = self._summary.rows(connection, {"run_id": run_id})
        return found[0][0] if found else None

    def read_user(self, connection: Connection, key: str) -> tuple[UserRow | None, RunRow | None]:
        """The user with this key and their active run (answers and matches read lazily)."""
        found = self._read_user.rows(connection, {"key": key})
        if not found:
            return None, None
        row = found[0]
        user = UserRow(*row[:6])
        user.saved = user.columns()
        return user, (self._run(connection, user.id, row[6:]) if row[6] is not None else None)

    def read_run(self, connection: Connection, user_id: int, run_id: int) -> RunRow:
        return self._run(connection, user_id, self._read_run.rows(connection, {"run_id": run_id})[0])

    def _run(self, connection: Connection, user_id: int, columns) -> RunRow:
        run_id, dialogue, version, state, path, status, started, updated, finished, told = columns

        @functools.cache
        def stored() -> list:
            return self._read_answers.rows(connection, {"run_id": run_id})

        run = RunRow(user_id, dialogue, version, state, list(path or []), status, started, updated, finished,
                     None, bool(told), run_id,
                     Stored(lambda: {step: sealed for step, sealed, _ in stored()}, FreeText.vault.decrypt),
                     Stored(lambda: {step: matched for step, _, matched in stored() if matched is not None}))
        run.saved = run.columns()
        return run

    def write_user(self, connection: Connection, user: UserRow) -> None:
        if user.columns() != user.saved:
            self._write_user.run(connection, {"user_id": user.id, "role": user.role, "area": user.area,
                                             "waiting_for": user.waiting_for, "last_seen_at": user.last_seen_at})
            user.saved = user.columns()

    def write_run(self, connection: Connection, run: RunRow) -> None:
        """Insert a new run, or update one whose columns changed since it was read."""
        if run.id is not None and run.columns() == run.saved:
            return
        values = {"state": run.state, "path": list(run.path), "status": run.status, "updated_at": run.updated_at,
                  "finished_at": run.finished_at, "summary": run.summary, "told_redacted": run.told_redacted}
        if run.id is None:
            run.id = connection.execute(_NEW_RUN, {**values, "user_id": run.user_id, "dialogue_id": run.dialogue_id,
                                                   "script_version": run.script_version,
                                                   "started_at": run.started_at}).inserted_primary_key[0]
        else:
            self._write_run.run(connection, {**values, "run_id": run.id})
        run.saved = run.columns()

    def write_answer(self, connection: Connection, run: RunRow, step: str, value: str,
                     matched: list[tuple[str, str, float]] | None) -> None:
        """Keep one answer and what it matched, replacing any answer stored for the same step."""
        self._keep_answer.run(connection, {"run_id": run.id, "step": step, "value": value,
                                               "answered_at": utcnow(), "matched": matched})

    def drop_answer(self, connection: Connection, run: RunRow, step: str) -> None:
        self._drop_answer.run(connection, {"run_id": run.id, "a_step": step})
