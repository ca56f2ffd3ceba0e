"""Who reflectbot answers: enrolled staff, by invite; everyone else gets one polite message.

Invite codes are single-use and expire; only a hash of each code is kept. Of a person who is not
enrolled, only a hash of their id and a rate-limit counter are kept.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.store import Invite, Stranger, User, utcnow

ROLES = ("practitioner", "manager", "admin")
STRANGER_WINDOW = dt.timedelta(hours=1)


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def create_invite(session: Session, role: str, days: int = 7) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    code = secrets.token_urlsafe(9)
    session.add(Invite(code_hash=_hash(code), role=role, expires_at=utcnow() + dt.timedelta(days=days)))
    return code


def redeem(session: Session, code: str) -> str | None:
    """The role an invite code gives, using the code up; None if it is unknown, used or expired."""
    invite = session.scalar(select(Invite).where(Invite.code_hash == _hash(code.strip())))
    if invite is None or invite.used_at is not None or invite.expires_at < utcnow():
        return None
    invite.used_at = utcnow()
    return invite.role


def note_stranger(session: Session, key: str) -> bool:
    """Count a message from someone not enrolled; True when it is the first in its window."""
    key_hash = _hash(key)
    stranger = session.scalar(select(Stranger).where(Stranger.key_hash == key_hash))
    now = utcnow()
    if stranger is None:
        session.add(Stranger(key_hash=key_hash, count=1, window_start=now))
        return True
    if now - stranger.window_start > STRANGER_WINDOW:
        stranger.count, stranger.window_start = 1, now
        return True
    stranger.count += 1
    return False


def forget_stranger(session: Session, key: str) -> None:
    session.execute(delete(Stranger).where(Stranger.key_hash == _hash(key)))


def users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))
