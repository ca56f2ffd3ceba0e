"""Storage: users, reflection runs, answers and what the answers matched (SQLAlchemy 2, Alembic).

The database is SQLite in the user's data folder unless DATABASE_URL names another. The schema is
made and upgraded by the Alembic migrations in bot/migrations, never by `create_all`, so a database
made by an older version is brought up to date when it is opened.

Every column that can hold what a user typed is of type `FreeText`, which encrypts it at rest
(bot/vault.py): the database file holds no readable case text.
"""
from __future__ import annotations

import datetime as dt
import functools
import os
import threading
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import (JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, TypeDecorator,
                        UniqueConstraint, and_, bindparam, create_engine, delete, event, insert, select, text,
                        type_coerce, update)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker

from bot.vault import Vault, load_vault


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class FreeText(TypeDecorator):
    """Text a user typed (or text made from it, such as a summary): encrypted at rest.

    The vault is the process's one set of keys, put here by `Store` when it opens the database."""

    impl = Text
    cache_ok = True
    vault = None

    def process_bind_param(self, value, dialect):
        return FreeText.vault.encrypt(value) if value is not None else None

    def process_result_value(self, value, dialect):
        return FreeText.vault.decrypt(value) if value is not None else None


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime, whatever the database keeps."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None) if value is not None else None

    def process_result_value(self, value, dialect):
        return value.replace(tzinfo=dt.timezone.utc) if value is not None else None


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)  # channel and channel's id: "console:sam"
    role: Mapped[str] = mapped_column(String(20), default="practitioner")  # practitioner | manager | admin
    area: Mapped[str | None] = mapped_column(String(40))
    waiting_for: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    runs: Mapped[list["Run"]] = relationship(back_populates="user", cascade="all, delete-orphan",
                                             order_by="Run.id")


class Run(Base):
    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    dialogue_id: Mapped[str] = mapped_column(String(40))
    script_version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(60))
    path: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(12), default="active")  # active | finished | stopped
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    summary: Mapped[str | None] = mapped_column(FreeText)
    told_redacted: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship(back_populates="runs")
    answers: Mapped[list["Answer"]] = relationship(back_populates="run", cascade="all, delete-orphan",
                                                   order_by="Answer.id")


class Answer(Base):
    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("run_id", "step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(String(60))
    value: Mapped[str] = mapped_column(FreeText)
    answered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    matched: Mapped[list | None] = mapped_column(JSON(none_as_null=True))
    """What a free-text answer matched: [kind, ref, score] rows (kind: theme, learning_point or route),
    ids and scores only."""

    run: Mapped[Run] = relationship(back_populates="answers")


class SafetyAlarm(Base):
    """That the safety net fired for a user, of which kind and where; never what they wrote."""

    __tablename__ = "safety_alarms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    place: Mapped[str] = mapped_column(String(80))  # dialogue and step, or the command
    raised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Invite(Base):
    """A single-use, expiring enrolment code; only its hash is kept."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Stranger(Base):
    """All that is kept about someone not enrolled: a hash of their id and a rate-limit counter."""

    __tablename__ = "strangers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


# ---- the path of one message: users and runs as plain rows, read and written with Core statements ----
#
# Every message reads the user and their active run and writes what changed. The ORM costs several
# times what the statements themselves do, so this path uses prepared Core statements on plain
# dataclasses; the rest of the code (reviews, history, export, the CLI) uses the ORM models above.

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


def data_dir() -> Path:
    """Where reflectbot keeps its SQLite file and key file: REFLECTBOT_DATA_DIR or the user's data folder."""
    from platformdirs import user_data_dir

    folder = Path(os.environ.get("REFLECTBOT_DATA_DIR") or user_data_dir("reflectbot", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def default_url() -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{data_dir() / 'reflectbot.db'}"


class Store:
    """The database: opened (and migrated) once, then one short transaction per event."""

    def __init__(self, url: str | None = None, vault: Vault | None = None):
        self.url = url or default_url()
        FreeText.vault = vault or FreeText.vault or load_vault(data_dir())
        # hide_parameters: a database error must never repeat what a user typed
        self.engine = create_engine(self.url, hide_parameters=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        migrate(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        dialect = self.engine.dialect
        self._read_user, self._read_run, self._read_answers, self._finished, self._summary = (
            Prepared(statement, dialect) for statement in (_READ_USER, _READ_RUN, _READ_ANSWERS, _FINISHED, _SUMMARY))
        self._write_user, self._write_run, self._keep_answer, self._drop_answer = (
            Prepared(statement, dialect) for statement in (_WRITE_USER, _WRITE_RUN, _keep_answer(dialect.name),
                                                             _DROP_ANSWER))
        self._held = threading.local()
        self._all_held: list[Connection] = []
        self._all_held_lock = threading.Lock()

    @contextmanager
    def message(self) -> Iterator[Connection]:
        """One message's transaction, on a connection this thread keeps open (checking one out of the
        pool for every message costs more than a message's own statements)."""
        connection = getattr(self._held, "connection", None)
        if connection is None or connection.closed or connection.invalidated:
            connection = self._held.connection = self.engine.connect()
            with self._all_held_lock:
                self._all_held.append(connection)
        with connection.begin():
            yield connection

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed together at the end, or not at all."""
        with self._sessions.begin() as session:
            yield session

    def find_user(self, session: Session, key: str) -> User | None:
        return session.scalar(select(User).where(User.key == key))

    def user(self, session: Session, key: str) -> User:
        """The user with this key, created if there is none (enrolment decides who may be)."""
        user = self.find_user(session, key)
        if user is None:
            user = User(key=key)
            session.add(user)
            session.flush()
        return user

    def close(self) -> None:
        with self._all_held_lock:
            for connection in self._all_held:
                connection.close()
            self._all_held.clear()
        self.engine.dispose()

    def finished_runs(self, connection: Connection, user_id: int, leaving_out: str) -> list[FinishedRun]:
        """A user's runs that have a summary, newest first (not the summaries themselves)."""
        return [FinishedRun(*row) for row in self._finished.rows(connection, {"user_id": user_id,
                                                                              "leaving_out": leaving_out})]

    def summary(self, connection: Connection, run_id: int) -> str | None:
        found = self._summary.rows(connection, {"run_id": run_id})
        return found[0][0] if found else None

    # ---- the path of one message -------------------------------------------------------------

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

    def reencrypt(self) -> int:
        """Re-encrypt every free-text value under the newest key; returns how many were rewritten."""
        vault, count = FreeText.vault, 0
        with self.engine.begin() as connection:
            for table in Base.metadata.sorted_tables:
                for column in table.columns:
                    if not isinstance(column.type, FreeText):
                        continue
                    rows = connection.execute(text(f"SELECT id, {column.name} FROM {table.name} "
                                                   f"WHERE {column.name} IS NOT NULL")).all()
                    for row_id, token in rows:
                        connection.execute(text(f"UPDATE {table.name} SET {column.name} = :v WHERE id = :i"),
                                           {"v": vault.rotate(token), "i": row_id})
                        count += 1
        return count


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across process crashes
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def migrate(engine) -> None:
    """Bring the database schema up to the newest migration."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

