"""The service around the engine: the path of one message, the same for every channel.

    event -> per-user lock -> load the user and their run -> engine -> store answer, matches and new
    state in one transaction -> replies

Nothing is returned to a channel before the transaction has committed, so a crash loses no answer
that the user saw acknowledged, and a restart resumes every run at the step it had reached.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import re
import threading
import time
import unicodedata
from collections import defaultdict, deque
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.emerging_themes import MINIMUM_CASES, emerging_themes
from bot.emerging_themes import as_text as themes_text
from bot.enrolment import forget_stranger, note_stranger, redeem
from bot.reports import review_docx, review_pdf, themes_chart
from bot.redaction import redact
from bot.retention import export, forget
from bot.runs import RunRow, Runs, UserRow
from bot.store import Run, SafetyAlarm, Store, User, utcnow
from dialogues.engine import Document, Engine, Event, Option, Outcome, Reply, RunState, load_messages
from dialogues.review import REVIEW, review_report
from dialogues.script import load_scripts
from knowledge.base import load_knowledge

OPENING = "case_description"
ESCALATING = "escalation"
RESUMING = "resume_decision"
AUTO_ENROLLED = ("console:",)
"""Channels whose users are enrolled on first contact: the console belongs to whoever runs it."""
MANAGERS = ("manager", "admin")
FLOOD_EVENTS, FLOOD_SECONDS = 20, 10.0
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # Unicode's control characters (Cc) but tab and newline


def clean(text: str) -> str:
    """Text as it will be read: NFC, no control characters (but newlines), no invisible marks."""
    return unicodedata.normalize("NFC", _CONTROL.sub("", _INVISIBLE.sub("", text)))


def _listed(kinds: tuple[str, ...]) -> str:
    named = [f"[{k}]" for k in kinds]
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]


class Service:
    def __init__(self, store: Store, engine: Engine, idle_after: dt.timedelta | None = None,
                 retention_days: int = 90):
        self.store = store
        self.runs = Runs(store.engine)
        self.engine = engine
        self.idle_after = idle_after
        self.retention_days = retention_days
        self.minimum_cases = MINIMUM_CASES
        self.flood = (FLOOD_EVENTS, FLOOD_SECONDS)
        self._recent: dict[str, deque] = defaultdict(deque)
        self._flood_notice: dict[str, bool] = {}
        self.say = engine.say
        self._locks: dict[str, threading.Lock] = defaultdict(threading.Lock)
        self._locks_guard = threading.Lock()
        self._turn = threading.local()  # what this thread's event has started, if anything

    @classmethod
    def open(cls, url: str | None = None, idle_after: dt.timedelta | None = None,
             retention_days: int = 90) -> "Service":
        kb = load_knowledge()
        kb.matcher, kb.safety  # built now, not while the first user waits  # noqa: B018
        return cls(Store(url), Engine(kb, load_scripts(), load_messages()), idle_after, retention_days)

    def handle(self, event: Event, context: str | None = None) -> list[Reply]:
        """Handle one event; `context` is the token a button carried, to spot stale presses."""
        with self._locks_guard:
            lock = self._locks[event.user]
        with lock:
            if self._flooding(event.user):
                return []
            if self._flood_notice.pop(event.user, False):
                return [Reply(self.say.too_fast)]
            event = replace(event, text=clean(event.text)) if event.text is not None else event
            with self.store.message() as connection:
                self._turn.connection, self._turn.session = connection, None
                try:
                    user, run = self.runs.read_user(connection, event.user)
                    replies = []
                    if user is None:
                        admitted, replies, event = self._admit(event)
                        if admitted is None:
                            return replies
                        self._session().flush()
                        user, run = self.runs.read_user(connection, event.user)
                    replies, token = self._enrolled(user, run, event, context, replies)
                finally:
                    if self._turn.session is not None:
                        self._turn.session.flush()
                        self._turn.session.close()
        for reply in replies:
            reply.context = token if reply.options else None
        return replies

    def _session(self) -> Session:
        """An ORM session in this event's transaction, for the paths less travelled (enrolment,
        reviews, history, export); answers and runs are read and written with Core statements."""
        if self._turn.session is None:
            self._turn.session = Session(bind=self._turn.connection)
        return self._turn.session

    def _enrolled(self, user: UserRow, run: RunRow | None, event: Event, context: str | None,
                  replies: list[Reply]) -> tuple[list[Reply], str]:
        user.seen(utcnow())
        self._turn.runs = [run] if run is not None else []
        if run is not None and not self.engine.can_resume(self._state_of(run, user)):
            run.status, run.finished_at, run = "stopped", utcnow(), None
            replies.append(Reply(self.say.script_changed))
        self._turn.started, self._turn.forgotten = None, False
        danger = self.engine.danger(event.text)
        removed: tuple[str, ...] = ()
        if danger is None and event.text:  # redact before anything is kept, matched or echoed
            redacted = redact(event.text)
            event, removed = replace(event, text=redacted.text), redacted.kinds
        if danger is not None:  # immediate danger comes first, whatever else is going on
            replies += self._alarm(user, run, event, danger)
        elif event.choice is not None and context is not None and context != self._token(run):
            replies += [Reply(self.say.stale_choice, alert=True), *self._where_now(user, run)]
        elif run is not None and self._idle(run, event, user):  # a long pause: ask before going on
            user.waiting_for = RESUMING
            replies.append(self.engine.idle_offer(self._state_of(run, user)))
        else:
            replies += self._route(user, run, event)
        if self._turn.forgotten:
            return replies, self._token(None)
        if self._turn.started is not None or (run is not None and run.status != "active"):
            run = self._turn.started
        if removed and not (run is not None and run.told_redacted):
            replies.insert(0, Reply(self.say.redacted_notice.format(kinds=_listed(removed))))
            if run is not None:
                run.told_redacted = True
        connection = self._turn.connection
        self.runs.write_user(connection, user)
        for changed in self._turn.runs:  # runs left or paused first, then the one started
            self.runs.write_run(connection, changed)
        return replies, self._token(run)

    def _admit(self, event: Event) -> tuple[User | None, list[Reply], Event]:
        """Someone with no user record: the console's user, an invite being used, or a stranger.

        Returns the user (None for a stranger), replies so far, and the event still to handle."""
        session = self._session()
        if event.user.startswith(AUTO_ENROLLED):
            return self.store.user(session, event.user), [], event
        if event.command == "start" and event.text:
            role = redeem(session, event.text)
            if role is None:
                note_stranger(session, event.user)
                return None, [Reply(self.say.invite_not_valid)], event
            forget_stranger(session, event.user)
            user = self.store.user(session, event.user)
            user.role = role
            replies = [Reply(self.say.enrolled.format(role=role)), self._privacy()]
            return user, replies, Event(event.user, command="start")  # the code goes no further
        first = note_stranger(session, event.user)
        return None, [Reply(self.say.not_enrolled)] if first else [], event

    def _alarm(self, user: UserRow, run: RunRow | None, event: Event, danger) -> list[Reply]:
        place = f"{run.dialogue_id}:{run.state}" if run is not None else (event.command or "chat")
        self._session().add(SafetyAlarm(user_id=user.id, kind=danger.kind, place=place[:80]))
        if run is None:
            return [self.engine.alarm(), Reply(self.say.safety_carry_on_idle)]
        return [self.engine.alarm(), Reply(self.say.safety_carry_on), self.engine.prompt(self._state_of(run, user))]

    def _flooding(self, key: str) -> bool:
        """Per-user rate limit: `flood` events in so many seconds; past it, one polite word, then quiet."""
        events, seconds = self.flood
        now = time.monotonic()
        recent = self._recent[key]
        while recent and now - recent[0] > seconds:
            recent.popleft()
        recent.append(now)
        if len(recent) <= events:
            return False
        if len(recent) == events + 1:
            self._flood_notice[key] = True
            return False
        return True

    def _privacy(self) -> Reply:
        return Reply(self.say.privacy_notice.format(days=self.retention_days))

    # ---- routing -----------------------------------------------------------------------------

    def _route(self, user: UserRow, run: RunRow | None, event: Event) -> list[Reply]:
        if event.command:
            return self._command(user, run, event.command, (event.text or "").strip())
        if event.choice is not None and event.choice.startswith("reflect:"):
            return self._choose_reflection(user, run, event.choice.removeprefix("reflect:"))
        if event.choice is not None and event.choice.startswith("resume:"):
            return self._resume(user, run, event.choice.removeprefix("resume:"))
        if event.choice is not None and event.choice.startswith("escalate:"):
            return self._escalation_choice(user, event.choice.removeprefix("escalate:"))
        if event.choice is not None and event.choice.startswith("area:"):
            return self._set_area(user, event.choice.removeprefix("area:"))
        if event.choice is not None and event.choice.startswith("forget:"):
            return self._forget(user, event.choice.removeprefix("forget:"))
        if run is not None:
            return self._take(user, run, event)
        if event.choice is not None:
            return [Reply(self.say.unknown_choice), self.engine.menu()]
        text = (event.text or "").strip()
        if not text:
            return [self.engine.menu()]
        waiting, user.waiting_for = user.waiting_for, None
        if waiting == ESCALATING:
            return [self.engine.escalate_text(text, user.area)]
        return [self.engine.suggest(text)]

    def _command(self, user: UserRow, run: RunRow | None, command: str, argument: str):
        if command == "start":
            return [Reply(self.say.welcome), *self._where_now(user, run)]
        if command == "reflect":
            return self._where_now(user, run)
        if command == "escalate":
            if argument:
                return [self.engine.escalate_text(argument, user.area)]
            user.waiting_for = ESCALATING
            return [self.engine.escalate_question()]
        if command == "area":
            return self._set_area(user, argument) if argument else [self.engine.areas()]
        if command == "history":
            return [self._history(user)]
        if command in ("review", "reviews", "themes") and user.role not in MANAGERS:
            return [Reply(self.say.managers_only)]
        if command == "review":
            return self._review(user, run)
        if command == "reviews":
            return [self._reviews(user, argument)]
        if command == "themes":
            return self._themes(argument)
        if command == "search":
            return [self.engine.search(argument)]
        if command == "privacy":
            return [self._privacy()]
        if command == "forget":
            return [Reply(self.say.forget_question, (Option("forget:yes", self.say.forget_yes),
                                                     Option("forget:no", self.say.forget_no)), "choice")]
        if command == "export":
            data = json.dumps(export(self._session(), self._session().get(User, user.id)), indent=2, ensure_ascii=False)
            name = self.say.export_name.format(date=utcnow().date().isoformat())
            return [Reply(self.say.export_ready, documents=(Document.of_text(name, data),))]
        if command == "summary":
            return [self._summary(user, argument)]
        if command == "stop" and run is not None and run.dialogue_id == REVIEW:
            run.status = "paused"
            return [Reply(self.say.review_paused)]
        if run is not None:
            return self._take(user, run, Event(user.key, command=command))
        if command == "help":
            return [Reply(self.say.help_idle)]
        if command in ("back", "skip", "stop", "where"):
            return [Reply(self.say.no_active_run), Reply(self.say.help_idle)]
        return [Reply(self.say.unknown_command.format(command=command, help=self.say.help_idle))]

    def _forget(self, user: UserRow, choice: str) -> list[Reply]:
        if choice != "yes":
            return [Reply(self.say.forget_kept)]
        forget(self._session(), self._session().get(User, user.id))
        self._turn.forgotten = True
        return [Reply(self.say.forget_done)]

    def _idle(self, run: RunRow, event: Event, user: UserRow) -> bool:
        if self.idle_after is None or event.command or (event.choice or "").startswith("resume:"):
            return False
        return user.waiting_for == RESUMING or utcnow() - run.updated_at > self.idle_after

    def _resume(self, user: UserRow, run: RunRow | None, choice: str) -> list[Reply]:
        user.waiting_for = None
        if run is None:
            return [self.engine.menu()]
        if choice == "restart":
            return self._choose_reflection(user, run, run.dialogue_id)
        run.updated_at = utcnow()
        return [self.engine.prompt(self._state_of(run, user))]

    def _escalation_choice(self, user: UserRow, choice: str) -> list[Reply]:
        user.waiting_for = None
        if choice == "now":
            return [self.engine.immediate_risk()]
        if choice == "not_now":
            user.waiting_for = ESCALATING  # the practitioner may also just describe it
            return [self.engine.situations()]
        if choice in self.engine.kb.situations:
            return [self.engine.route(choice, user.area)]
        return [Reply(self.say.unknown_choice), self.engine.escalate_question()]

    def _set_area(self, user: UserRow, said: str) -> list[Reply]:
        area = self.engine.find_area(said)
        if area is None:
            return [self.engine.areas(self.say.area_unknown.format(area=said[:40]))]
        user.area = area
        return [self.engine.area_chosen(area)]

    def _where_now(self, user: UserRow, run: RunRow | None) -> list[Reply]:
        if run is None:
            return [self.engine.menu()]
        title = self.engine.scripts[run.dialogue_id].script.title
        return [Reply(self.say.resume.format(title=title)), self.engine.prompt(self._state_of(run, user))]

    def _choose_reflection(self, user: UserRow, run: RunRow | None, dialogue: str):
        if dialogue == "opening":
            user.waiting_for = OPENING
            return [Reply(self.say.describe_case, expects="text")]
        if dialogue not in self.engine.scripts:
            return [Reply(self.say.unknown_choice), self.engine.menu()]
        if dialogue == REVIEW and user.role not in MANAGERS:
            return [Reply(self.say.managers_only)]
        if run is not None:  # a review in progress waits to be resumed; a reflection is left, stopped
            if run.dialogue_id == REVIEW:
                run.status = "paused"
            else:
                run.status, run.finished_at = "stopped", utcnow()
        user.waiting_for = None
        state, replies = self.engine.start(dialogue)
        self._turn.started = RunRow(user.id, state.dialogue, state.version, state.state)
        self._turn.runs.append(self._turn.started)
        return replies

    def _take(self, user: UserRow, run: RunRow, event: Event) -> list[Reply]:
        state = self._state_of(run, user)
        outcome = self.engine.take(state, event)
        self._save(run, state, outcome)
        if outcome.finished and run.dialogue_id == REVIEW:
            outcome.replies[-1] = self._review_reply(state.answers, run.finished_at)
        return outcome.replies

    # ---- case reviews (managers) -------------------------------------------------------------

    def _review(self, user: UserRow, run: RunRow | None) -> list[Reply]:
        if run is not None and run.dialogue_id == REVIEW:
            return self._where_now(user, run)
        paused_id = self._session().scalar(select(Run.id).where(Run.user_id == user.id, Run.status == "paused")
                                   .order_by(Run.id.desc()).limit(1))
        if paused_id is None:
            return self._choose_reflection(user, run, REVIEW)
        paused = self.runs.read_run(self._turn.connection, user.id, paused_id)
        self._turn.runs.append(paused)
        if run is not None:
            run.status, run.finished_at = "stopped", utcnow()
        paused.status = "active"
        self._turn.started = paused
        return self._where_now(user, paused)

    def _review_reply(self, answers: dict[str, str], finished: dt.datetime | None) -> Reply:
        kb = self.engine.kb
        report = review_report(kb.review, answers, kb.matcher)
        text = self.engine.review_text(report)
        name = self.say.review_document_name.format(date=(finished or utcnow()).date().isoformat())
        return Reply(text, documents=(Document(f"{name}.pdf", make=functools.partial(review_pdf, report, kb, self.say)),
                                      Document(f"{name}.docx", make=functools.partial(review_docx, report, kb, self.say))))

    def _reviews(self, user: UserRow, argument: str) -> Reply:
        runs = list(self._session().scalars(select(Run).where(Run.user_id == user.id, Run.dialogue_id == REVIEW,
                                                      Run.finished_at.is_not(None)).order_by(Run.id.desc())))
        if not runs:
            return Reply(self.say.reviews_empty)
        if argument.isdigit() and 1 <= int(argument) <= len(runs):
            run = runs[int(argument) - 1]
            return self._review_reply({a.step: a.value for a in run.answers}, run.finished_at)
        lines = [self.say.reviews_title]
        for number, run in enumerate(runs, 1):
            reference = next((a.value for a in run.answers if a.step == "reference"), "")
            lines.append(self.say.reviews_line.format(number=number, date=run.finished_at.date().isoformat(),
                                                      reference=reference, status=run.status))
        return Reply("\n".join(lines))

    def _themes(self, argument: str) -> list[Reply]:
        try:
            since = dt.date.fromisoformat(argument) if argument else utcnow().date() - dt.timedelta(days=365)
        except ValueError:
            since = utcnow().date() - dt.timedelta(days=365)
        figures = emerging_themes(self._session(), since, self.minimum_cases)
        text = themes_text(figures, self.engine.kb, self.say)
        if not figures.enough:
            return [Reply(text)]
        kb = self.engine.kb
        chart = functools.partial(themes_chart, [(kb.themes[t].name, share) for t, share in figures.shares()],
                                  self.say.themes_title.format(cases=figures.cases, since=since.isoformat()))
        return [Reply(text, documents=(Document(f"emerging-themes-{since.isoformat()}.png", make=chart),))]

    # ---- persistence -------------------------------------------------------------------------

    def _state_of(self, run: RunRow, user: UserRow) -> RunState:
        return RunState(run.dialogue_id, run.script_version, run.state, list(run.path), run.answers,
                        area=user.area, matches=run.matches)

    def _save(self, run: RunRow, state: RunState, outcome: Outcome) -> None:
        """Keep what one event did to a run: its step, the answer given or withdrawn, and the end."""
        now = utcnow()
        run.state, run.path, run.updated_at = state.state, list(state.path), now
        connection = self._turn.connection
        if outcome.unanswered:
            self.runs.drop_answer(connection, run, outcome.unanswered)
        if outcome.answered:
            step, value = outcome.answered
            self.runs.write_answer(connection, run, step, value, outcome.matched)
        if outcome.finished:
            run.status = "stopped" if outcome.stopped else "finished"
            run.finished_at, run.summary = now, outcome.summary

    @staticmethod
    def _token(run: RunRow | None) -> str:
        """Identifies the question now on screen; a button from another question carries another."""
        return f"{run.id}.{len(run.path)}" if run is not None else "menu"


    # ---- history -----------------------------------------------------------------------------

    def _finished_runs(self, user: UserRow) -> list:
        """The user's reflections that have a summary, newest first (not the summaries themselves)."""
        return self.runs.finished_runs(self._turn.connection, user.id, leaving_out=REVIEW)

    def _history(self, user: UserRow) -> Reply:
        runs = self._finished_runs(user)
        if not runs:
            return Reply(self.say.history_empty)
        lines = [self.say.history_title]
        for number, run in enumerate(runs, 1):
            script = self.engine.scripts.get(run.dialogue_id)
            lines.append(self.say.history_line.format(
                number=number, date=run.finished_at.date().isoformat(),
                title=script.script.title if script else run.dialogue_id, status=run.status))
        return Reply("\n".join(lines))

    def _summary(self, user: UserRow, argument: str) -> Reply:
        runs = self._finished_runs(user)
        number = int(argument) if argument.isdigit() else 1
        if not 1 <= number <= len(runs):
            return Reply(self.say.summary_missing.format(number=argument or number))
        run = runs[number - 1]
        return self.engine.summary_reply(self.runs.summary(self._turn.connection, run.id))
