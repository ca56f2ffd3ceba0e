"""Storage: users, reflection runs, answers and what the answers matched (SQLAlchemy 2, Alembic).

The database is SQLite in the user's data folder unless DATABASE_URL names another. The schema is
made and upgraded by the Alembic migrations in bot/migrations, never by `create_all`, so a database
made by an older version is brought up to date when it is opened.

Every column that can hold what a user typed is of type `FreeText`, which encrypts it at rest
(bot/vault.py): the database file holds no readable case text.
"""
from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import (JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, TypeDecorator,
                        UniqueConstraint, create_engine, event, select, text)
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
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))  # indexed by (run_id, step)
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

