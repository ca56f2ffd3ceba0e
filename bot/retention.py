"""Keeping only what is needed: deletion after the retention period, erasure on request, export."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.enrolment import STRANGER_WINDOW
from bot.store import Invite, Run, SafetyAlarm, Stranger, User, utcnow


def purge(session: Session, days: int) -> dict[str, int]:
    """Delete reflections (with their answers and matches) and alarm records older than `days`."""
    cutoff = utcnow() - dt.timedelta(days=days)
    counts = {
        "runs": session.execute(delete(Run).where(Run.started_at < cutoff)).rowcount,
        "safety_alarms": session.execute(delete(SafetyAlarm).where(SafetyAlarm.raised_at < cutoff)).rowcount,
        "invites": session.execute(delete(Invite).where(Invite.expires_at < utcnow())).rowcount,
        "strangers": session.execute(delete(Stranger).where(
            Stranger.window_start < utcnow() - STRANGER_WINDOW)).rowcount,
    }
    return counts


def forget(session: Session, user: User) -> None:
    """Delete the user and everything about them (runs, answers, matches and alarms cascade)."""
    session.delete(user)


def export(session: Session, user: User) -> dict:
    """Everything held about a user, as plain data."""
    alarms = session.scalars(select(SafetyAlarm).where(SafetyAlarm.user_id == user.id))
    return {
        "user": {"role": user.role, "area": user.area, "created_at": user.created_at.isoformat(),
                 "last_seen_at": user.last_seen_at.isoformat()},
        "reflections": [{
            "dialogue": run.dialogue_id, "status": run.status, "started_at": run.started_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "answers": [{"step": a.step, "answer": a.value, "answered_at": a.answered_at.isoformat(),
                         "matched": [{"kind": kind, "id": ref, "score": score} for kind, ref, score in a.matched or []]}
                        for a in run.answers],
            "summary": run.summary,
        } for run in user.runs],
        "safety_alarms": [{"kind": a.kind, "where": a.place, "raised_at": a.raised_at.isoformat()}
                          for a in alarms],
    }
