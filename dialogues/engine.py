"""The reflection engine: takes an event for a run, moves its state machine, returns replies.

It knows no channel and no database. A run's state is plain data (`RunState`); the service around
the engine (bot/service.py) loads it, hands it here with the event, and stores what comes back in one
transaction. Replies are plain text with options; each channel renders them its own way.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
from collections import defaultdict
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ConfigDict

from dialogues.dates import read_date
from dialogues.review import ReviewReport, review_report
from dialogues.script import END, WHY, YES_NO, CompiledScript, Step
from knowledge.base import ContentError, KnowledgeBase, read_yaml, validate
from knowledge.matcher import Match
from knowledge.schema import Strict
from knowledge.words import Words

MESSAGES_FILE = Path(__file__).parent / "messages.yaml"
NAVIGATION = ("back", "skip", "stop", "help", "where")
SUMMARY_LEARNING_POINTS = 5
SUMMARY_QUESTIONS = 4


class Messages(Strict):
    """Every sentence the engine says that is not in a script (dialogues/messages.yaml).

    Each message is an attribute (`messages.welcome`); `check_messages` makes sure all the
    REQUIRED_MESSAGES are there, so a missing one is reported by `reflectbot knowledge check`.
    """

    model_config = ConfigDict(extra="allow", frozen=True)


REQUIRED_MESSAGES = (
    "welcome", "menu", "not_sure_label", "describe_case", "suggestions", "suggestion_reason",
    "no_suggestion", "starting", "progress", "resume", "help_commands", "help_idle", "where",
    "nothing_to_go_back_to", "previous_answer", "skipped", "no_active_run", "stopped",
    "unknown_command", "unknown_choice", "stale_choice", "need_text", "need_choice", "need_yes_no",
    "need_scale", "yes", "no", "not_sure", "scale_follow_up", "history_empty", "history_title",
    "history_line", "summary_missing", "summary_title", "summary_date", "summary_answers",
    "summary_no_answer", "summary_learning", "summary_no_learning", "summary_questions",
    "summary_escalation", "summary_escalation_intro", "summary_area", "stage_line", "document_name",
    "escalate_question", "escalate_yes", "escalate_no", "escalate_situation", "escalate_understood",
    "escalate_not_understood", "route_title", "route_area_hint", "area_question", "area_set",
    "area_procedure", "area_unknown", "safety_carry_on", "safety_carry_on_idle", "script_changed",
    "idle_offer", "idle_carry_on", "idle_restart", "search_empty", "search_nothing", "search_title",
    "text_only", "edited_ignored", "forged_button", "something_wrong", "need_date", "date_past",
    "review_title", "review_agencies", "review_grades", "review_findings", "review_evidence",
    "review_learning", "review_actions", "review_no_actions", "review_action_line", "review_document_name",
    "review_paused", "managers_only", "reviews_empty", "reviews_title", "reviews_line", "themes_title",
    "themes_too_few",
)


def check_messages(path: Path = MESSAGES_FILE):
    from knowledge.base import Problem

    problems: list[Problem] = []
    label = "dialogues/messages.yaml"
    data = read_yaml(path, label, problems)
    messages = validate(Messages, data, label, problems) if data is not None else None
    if messages is not None:
        extra = messages.__pydantic_extra__ or {}
        problems += [Problem(label, name, "", "missing message") for name in REQUIRED_MESSAGES
                     if not isinstance(extra.get(name), str)]
    return (messages if not problems else None), problems


@functools.cache
def load_messages() -> Messages:
    messages, problems = check_messages()
    if problems:
        raise ContentError(problems)
    return messages


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class Document:
    """A file sent with a reply: its bytes, or how to make them. One that is made (a PDF, a chart) is
    made when first needed (`data`), so a channel can make it off its event loop, after the message's
    transaction has closed."""

    filename: str
    content: bytes | None = field(default=None, repr=False)
    make: Callable[[], bytes] | None = field(default=None, repr=False)

    @property
    def ready(self) -> bool:
        return self.content is not None

    @functools.cached_property
    def data(self) -> bytes:
        return self.content if self.content is not None else self.make()

    @classmethod
    def of_text(cls, filename: str, text: str) -> "Document":
        return cls(filename, text.encode("utf-8"))


@dataclass
class Reply:
    """One message to the user. `expects` says what kind of answer comes next."""

    text: str
    options: tuple[Option, ...] = ()
    expects: str = "none"  # text | choice | yes_no | scale | none
    progress: str | None = None
    documents: tuple[Document, ...] = ()
    alert: bool = False       # a correction (unexpected input), not a new question
    context: str | None = None  # set by the service: which question these options belong to


@dataclass(frozen=True)
class Event:
    """What a user did: typed text, chose an option, or gave a command (without its slash)."""

    user: str
    text: str | None = None
    choice: str | None = None
    command: str | None = None


@dataclass
class RunState:
    """Everything about one reflection that must survive a restart."""

    dialogue: str
    version: int
    state: str
    path: list[str] = field(default_factory=list)
    answers: MutableMapping[str, str] = field(default_factory=dict)
    area: str | None = None  # the user's area, for the escalation route in the summary
    matches: MutableMapping[str, list] = field(default_factory=dict)
    """What each free-text answer matched, as (kind, ref, score) rows by step: kept with the answer,
    so the summary shows what was matched when it was given."""

    @property
    def finished(self) -> bool:
        return self.state == END


def match_rows(found: Match) -> list[tuple[str, str, float]]:
    """A matcher result as the (kind, ref, score) rows kept with an answer."""
    return ([("theme", t.id, t.score) for t in found.themes]
            + [("learning_point", lp.id, lp.score) for lp in found.learning_points]
            + [("route", r.id, r.score) for r in found.escalation])


@dataclass
class Outcome:
    replies: list[Reply]
    answered: tuple[str, str] | None = None   # (state, value) to store
    unanswered: str | None = None             # state whose stored answer is withdrawn (skip)
    matched: list | None = None               # what a free-text answer matched, as (kind, ref, score) rows
    finished: bool = False
    stopped: bool = False
    summary: str | None = None


class _Model:
    """What a `transitions` machine moves: the run's state and answers, for branch conditions."""

    def __init__(self, run: RunState):
        self.state = run.state
        self.answers = run.answers


_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten".split())}
_YES = {"yes", "y", "yeah", "yep", "yup", "ya", "yes they have", "definitely", "i have", "they have"}
_NO = {"no", "n", "nope", "nah", "not really", "never", "no they haven't"}
_NOT_SURE = {"not sure", "unsure", "dunno", "don't know", "dont know", "maybe", "i don't know",
             "not_sure", "possibly", "no idea", "?"}


class Engine:
    def __init__(self, kb: KnowledgeBase, scripts: dict[str, CompiledScript], messages: Messages):
        self.kb = kb
        self.scripts = scripts
        self.say = messages

    # ---- starting, prompting, navigating -------------------------------------------------------

    def start(self, dialogue: str) -> tuple[RunState, list[Reply]]:
        compiled = self.scripts[dialogue]
        run = RunState(dialogue, compiled.script.version, compiled.first)
        intro = Reply(f"{self.say.starting.format(title=compiled.script.title)}\n\n{compiled.script.intro}")
        return run, [intro, *self._settle(run, compiled)]

    def can_resume(self, run: RunState) -> bool:
        """Whether the run's step still exists in the dialogue as it is now (scripts change)."""
        compiled = self.scripts.get(run.dialogue)
        return compiled is not None and run.state.removesuffix(WHY) in compiled.steps and all(
            s.removesuffix(WHY) in compiled.steps for s in run.path)

    def prompt(self, run: RunState) -> Reply:
        """The current step's question, as it should be shown."""
        compiled = self.scripts[run.dialogue]
        step = compiled.step_of(run.state)
        progress = self.progress(run)
        if run.state.endswith(WHY):
            number = run.answers.get(step.id, "?")
            text = (step.follow_up or self.say.scale_follow_up).format(number=number)
            return Reply(text, expects="text", progress=progress)
        if step.kind == "choice":
            return Reply(step.prompt, tuple(Option(o.value, o.label) for o in step.options), "choice", progress)
        if step.kind == "yes_no":
            return Reply(step.prompt, tuple(Option(v, getattr(self.say, v)) for v in YES_NO), "yes_no", progress)
        if step.kind == "scale":
            return Reply(step.prompt, tuple(Option(str(n), str(n)) for n in range(11)), "scale", progress)
        return Reply(step.prompt, expects="date" if step.kind == "date" else "text", progress=progress)

    def position(self, run: RunState) -> tuple[int, int]:
        """(step number, steps in all): steps answered so far, and those left on the path as it stands."""
        compiled = self.scripts[run.dialogue]
        done = sum(1 for s in run.path if not s.endswith(WHY) and compiled.step_of(s).kind != "info")
        if run.state.endswith(WHY):  # the follow-up belongs to the scale step already counted
            number = done
            total = done + compiled.remaining(compiled.default_next(compiled.step_of(run.state)))
        else:
            number = done + 1
            total = done + compiled.remaining(run.state)
        return number, max(total, number)

    def progress(self, run: RunState) -> str:
        """"Step 3 of 8"."""
        number, total = self.position(run)
        return self.say.progress.format(number=number, total=total)

    def take(self, run: RunState, event: Event) -> Outcome:
        """Apply one event to a run that is under way."""
        compiled = self.scripts[run.dialogue]
        if event.command:
            return self._command(run, compiled, event.command)
        step = compiled.step_of(run.state)
        if run.state.endswith(WHY) or step.kind == "text":
            return self._free_text(run, compiled, event)
        if step.kind == "date":
            return self._date(run, compiled, event)
        value = self._read_option(step, event)
        if value is None:
            hint = {"choice": self.say.need_choice, "yes_no": self.say.need_yes_no,
                    "scale": self.say.need_scale}[step.kind]
            return Outcome([Reply(hint, alert=True), self.prompt(run)])
        return self._advance(run, compiled, "next", (run.state, value))

    def _free_text(self, run: RunState, compiled: CompiledScript, event: Event) -> Outcome:
        text = (event.text or "").strip()
        if not text:
            return Outcome([Reply(self.say.need_text, alert=True), self.prompt(run)])
        step = compiled.step_of(run.state)
        if step.challenge_vague and run.state not in run.answers and self._vague(text):
            run.answers[run.state] = text  # kept, and challenged once: the next answer is taken
            return Outcome([Reply(self.kb.review.vague_challenge, alert=True)], answered=(run.state, text))
        run.matches[run.state] = matched = match_rows(self.kb.matcher.match(text))
        outcome = self._advance(run, compiled, "next", (run.state, text))
        outcome.matched = matched
        return outcome

    def _date(self, run: RunState, compiled: CompiledScript, event: Event) -> Outcome:
        today = dt.date.today()
        when = read_date(event.text or event.choice or "", today)
        if when is None:
            return Outcome([Reply(self.say.need_date, alert=True), self.prompt(run)])
        if when < today:
            return Outcome([Reply(self.say.date_past.format(date=when.isoformat()), alert=True), self.prompt(run)])
        return self._advance(run, compiled, "next", (run.state, when.isoformat()))

    def _vague(self, text: str) -> bool:
        """An action that names no concrete change: a vague verb, or too few words to say one."""
        said = f" {' '.join(Words.of(text).raw)} "
        return len(said.split()) < 5 or any(f" {w} " in said for w in self.kb.review.vague_words)

    def _read_option(self, step: Step, event: Event) -> str | None:
        given = (event.choice if event.choice is not None else event.text or "").strip()
        said = re.sub(r"[.!]+$", "", given.casefold()).strip()
        if step.kind == "scale":
            found = re.fullmatch(r"(?:about |around |maybe |a )?(\d{1,2})(?:\s*(?:/|out of)\s*10)?", said)
            number = int(found.group(1)) if found else _NUMBER_WORDS.get(said)
            return str(number) if number is not None and 0 <= number <= 10 else None
        if step.kind == "yes_no":
            if said in YES_NO:
                return said
            return "yes" if said in _YES else "no" if said in _NO else "not_sure" if said in _NOT_SURE else None
        values = [o.value for o in step.options]
        if said in values:
            return said
        if said.isdigit() and 1 <= int(said) <= len(values):
            return values[int(said) - 1]
        for option in step.options:
            if said and option.label.casefold().startswith(said):
                return option.value
        return None

    def _command(self, run: RunState, compiled: CompiledScript, command: str) -> Outcome:
        if command == "back":
            if not run.path:
                return Outcome([Reply(self.say.nothing_to_go_back_to), self.prompt(run)])
            previous = run.path.pop()
            self._move(run, compiled, f"to_{previous}")
            replies = []
            if previous in run.answers:
                replies.append(Reply(self.say.previous_answer.format(answer=self.answer_label(run, previous))))
            return Outcome(replies + [self.prompt(run)])
        if command == "skip":
            state = run.state
            outcome = self._advance(run, compiled, "skip", None)
            run.answers.pop(state, None)
            outcome.unanswered = state
            outcome.replies.insert(0, Reply(self.say.skipped))
            return outcome
        if command == "stop":
            summary = self.summary(run)
            run.state = END
            return Outcome([Reply(self.say.stopped), self.summary_reply(summary)], finished=True,
                           stopped=True, summary=summary)
        if command == "help":
            step = compiled.step_of(run.state)
            text = "\n\n".join(t for t in (step.help if not run.state.endswith(WHY) else "",
                                           self.say.help_commands) if t)
            return Outcome([Reply(text), self.prompt(run)])
        if command == "where":
            title = compiled.script.title
            number, total = self.position(run)
            return Outcome([Reply(self.say.where.format(number=number, total=total, title=title)),
                            self.prompt(run)])
        return Outcome([Reply(self.say.unknown_command.format(command=command, help=self.say.help_commands)),
                        self.prompt(run)])

    def _advance(self, run: RunState, compiled: CompiledScript, trigger: str,
                 answer: tuple[str, str] | None) -> Outcome:
        if answer:
            run.answers[answer[0]] = answer[1]
        run.path.append(run.state)
        self._move(run, compiled, trigger)
        replies = self._settle(run, compiled)
        if run.finished:
            summary = self.summary(run)
            return Outcome(replies + [self.summary_reply(summary)], answered=answer, finished=True,
                           summary=summary)
        return Outcome(replies, answered=answer)

    def _settle(self, run: RunState, compiled: CompiledScript) -> list[Reply]:
        """Show information steps and move past them, then prompt for the next answer."""
        replies = []
        while not run.finished and compiled.step_of(run.state).kind == "info":
            replies.append(Reply(compiled.step_of(run.state).prompt))
            self._move(run, compiled, "next")
        if not run.finished:
            replies.append(self.prompt(run))
        return replies

    @staticmethod
    def _move(run: RunState, compiled: CompiledScript, trigger: str) -> None:
        """Fire one of the machine's events for this run (the machine holds no model between events)."""
        model = _Model(run)
        compiled.machine.events[trigger].trigger(model)
        run.state = model.state

    # ---- the summary ---------------------------------------------------------------------------

    def answer_label(self, run: RunState, state: str) -> str:
        compiled = self.scripts[run.dialogue]
        value = run.answers.get(state)
        if value is None:
            return self.say.summary_no_answer
        step = compiled.step_of(state)
        if state.endswith(WHY) or step.kind == "text":
            return value
        if step.kind == "choice":
            return next((o.label for o in step.options if o.value == value), value)
        if step.kind == "yes_no":
            return getattr(self.say, value, value)
        if step.kind == "date":
            return dt.date.fromisoformat(value).strftime("%-d %B %Y")
        return f"{value} out of 10"

    def summary(self, run: RunState, today: dt.date | None = None) -> str:
        compiled = self.scripts[run.dialogue]
        if compiled.script.kind == "review":
            return self.review_text(review_report(self.kb.review, run.answers, self.kb.matcher))
        say, kb = self.say, self.kb
        today = today or dt.date.today()
        lines = [say.summary_title.format(title=compiled.script.title),
                 say.summary_date.format(date=today.isoformat()), "", say.summary_answers]
        asked = [s for s in run.path if compiled.step_of(s).kind != "info"]
        for number, state in enumerate(asked, 1):
            step = compiled.step_of(state)
            question = (step.follow_up or say.scale_follow_up).format(number=run.answers.get(step.id, "?")) \
                if state.endswith(WHY) else step.prompt
            lines.append(f"{number}. {question}\n   {self.answer_label(run, state)}")

        lp_scores: dict[str, float] = defaultdict(float)
        routes: dict[str, float] = defaultdict(float)
        for state in asked:
            if (state.endswith(WHY) or compiled.step_of(state).kind == "text") and state in run.answers:
                rows = run.matches.get(state)
                for kind, ref, score in rows if rows is not None else match_rows(kb.matcher.match(run.answers[state])):
                    if kind == "learning_point":
                        lp_scores[ref] += score
                    elif kind == "route":
                        routes[ref] += score
        top = sorted(lp_scores, key=lambda i: (-lp_scores[i], i))[:SUMMARY_LEARNING_POINTS]
        lines += ["", say.summary_learning]
        if not top:
            lines.append(say.summary_no_learning)
        for lp_id in top:
            lp = kb.learning_points[lp_id]
            source = kb.sources[lp.source]
            lines.append(f"- {lp.text} ({source.organisation}, {source.date_text}; {lp.id})")

        questions = []
        for lp_id in top:
            question = kb.learning_points[lp_id].question
            if question not in questions and len(questions) < SUMMARY_QUESTIONS - 1:
                questions.append(question)
        for question in compiled.script.supervision_questions:
            if len(questions) >= SUMMARY_QUESTIONS:
                break
            if question not in questions:
                questions.append(question)
        lines += ["", say.summary_questions] + [f"- {q}" for q in questions]

        if routes:
            situation = kb.situations[max(routes, key=lambda r: (routes[r], r))]
            lines += ["", say.summary_escalation, say.summary_escalation_intro.format(situation=situation.label),
                      situation.advice, *self.route_lines(situation.start_stage, run.area)]
        return "\n".join(lines)

    def route_lines(self, start_stage: str, area: str | None) -> list[str]:
        """The escalation stages from `start_stage` on, with the area's procedure and caveats."""
        kb, say = self.kb, self.say
        stages = sorted(kb.escalation.stages, key=lambda s: s.number)
        first = next(s.number for s in stages if s.id == start_stage)
        lines = [say.stage_line.format(**stage.model_dump()) for stage in stages if stage.number >= first]
        chosen = kb.areas.get(area or "generic") or kb.areas.get("generic")
        if chosen is not None:
            date = chosen.procedure.source_date.isoformat() if chosen.procedure.source_date else "unknown"
            lines.append(say.summary_area.format(procedure=chosen.procedure.name, date=date,
                                                 reminder=chosen.check_reminder))
        lines.append(kb.escalation.generic_notice)
        return lines

    def summary_reply(self, summary: str) -> Reply:
        """A summary as a message, with the same text as a document to keep."""
        name = self.say.document_name.format(date=dt.date.today().isoformat())
        return Reply(summary, documents=(Document.of_text(name, summary),))

    # ---- choosing where to start ---------------------------------------------------------------

    def menu(self) -> Reply:
        options = tuple(Option(f"reflect:{c.id}", c.script.title) for c in self.scripts.values()
                        if c.script.kind == "reflection")
        return Reply(self.say.menu, options + (Option("reflect:opening", self.say.not_sure_label),), "choice")

    def suggest(self, text: str) -> Reply:
        """Which reflections fit a short description of a case, and why."""
        found = self.kb.matcher.match(text)
        points = {t.id: (t.points, t.why) for t in found.themes}
        ranked = []
        for compiled in self.scripts.values():
            if compiled.script.kind != "reflection":
                continue
            themes = compiled.script.themes
            score = sum(points.get(t, (0,))[0] * (1.0 if i == 0 else 0.3) for i, t in enumerate(themes))
            if themes[0] in points or score >= 3:
                words = [w for t in themes if t in points for w in points[t][1]]
                ranked.append((score, compiled, words))
        ranked.sort(key=lambda r: (-r[0], r[1].id))
        if not ranked:
            menu = self.menu()
            return Reply(self.say.no_suggestion, menu.options, "choice")
        lines = [self.say.suggestions]
        for _, compiled, words in ranked[:2]:
            quoted = ", ".join(f'"{w}"' for w in dict.fromkeys(words[:3]))
            lines.append("- " + self.say.suggestion_reason.format(title=compiled.script.title, words=quoted))
        options = tuple(Option(f"reflect:{c.id}", c.script.title) for _, c, _ in ranked[:2])
        return Reply("\n".join(lines), options, "choice")

    # ---- escalation and areas ------------------------------------------------------------------

    def escalate_question(self) -> Reply:
        return Reply(self.say.escalate_question, (Option("escalate:now", self.say.escalate_yes),
                                                  Option("escalate:not_now", self.say.escalate_no)), "choice")

    def immediate_risk(self) -> Reply:
        risk = self.kb.escalation.immediate_risk
        return Reply(f"{risk.title}\n\n{risk.message}", alert=True)

    def situations(self, text: str | None = None) -> Reply:
        options = tuple(Option(f"escalate:{s.id}", s.label) for s in self.kb.escalation.situations)
        return Reply(text or self.say.escalate_situation, options, "choice")

    def route(self, situation_id: str, area: str | None, understood: bool = False) -> Reply:
        """The whole route for a situation: stage by stage, with the area's procedure."""
        situation = self.kb.situations[situation_id]
        lines = []
        if understood:
            lines += [self.say.escalate_understood.format(situation=situation.label), ""]
        lines += [self.say.route_title.format(situation=situation.label), situation.advice, ""]
        lines += self.route_lines(situation.start_stage, area)
        if not area:
            lines.append(self.say.route_area_hint)
        lines.append(self.kb.escalation.partnerships_note)
        return Reply("\n\n".join(line for line in lines if line is not None).replace("\n\n\n", "\n\n"))

    def escalate_text(self, text: str, area: str | None) -> Reply:
        """`/escalate TEXT`: straight to the route the text describes, saying what was understood."""
        routes = self.kb.matcher.match(text).escalation
        if not routes:
            return self.situations(self.say.escalate_not_understood)
        return self.route(routes[0].id, area, understood=True)

    def areas(self, text: str | None = None) -> Reply:
        options = tuple(Option(f"area:{a.id}", a.name) for a in self.kb.areas.values())
        return Reply(text or self.say.area_question, options, "choice")

    def find_area(self, said: str) -> str | None:
        said = said.strip().casefold()
        for area in self.kb.areas.values():
            if said in (area.id, area.name.casefold()) or (len(said) >= 3 and area.name.casefold().startswith(said)):
                return area.id
        return None

    def area_chosen(self, area_id: str) -> Reply:
        area = self.kb.areas[area_id]
        date = area.procedure.source_date.isoformat() if area.procedure.source_date else "unknown"
        lines = [self.say.area_set.format(name=area.name),
                 self.say.area_procedure.format(procedure=area.procedure.name, date=date)]
        if area.procedure.url:
            lines.append(area.procedure.url)
        lines += [area.notes, area.check_reminder]
        return Reply("\n\n".join(line for line in lines if line))

    # ---- the safety net ------------------------------------------------------------------------

    def danger(self, text: str | None):
        """The immediate danger a message states, if any; checked before anything else."""
        return self.kb.safety.check(text) if text else None

    def alarm(self) -> Reply:
        return Reply(self.kb.safety.message, alert=True)

    # ---- looking things up ---------------------------------------------------------------------

    def search(self, text: str) -> Reply:
        """`/search TEXT`: the audit learning for some words, with sources and why it matched."""
        if not text.strip():
            return Reply(self.say.search_empty)
        found = self.kb.matcher.match(text)
        if not found.learning_points:
            return Reply(self.say.search_nothing)
        lines = [self.say.search_title]
        for hit in found.learning_points:
            lp = self.kb.learning_points[hit.id]
            source = self.kb.sources[lp.source]
            lines.append(f"- {lp.text}\n  {source.organisation}, {source.date_text} ({lp.id})\n  {lp.question}")
        return Reply("\n\n".join(lines))

    def idle_offer(self, run: RunState) -> Reply:
        number, total = self.position(run)
        title = self.scripts[run.dialogue].script.title
        return Reply(self.say.idle_offer.format(title=title, number=number, total=total),
                     (Option("resume:carry_on", self.say.idle_carry_on),
                      Option("resume:restart", self.say.idle_restart)), "choice")

    # ---- case reviews --------------------------------------------------------------------------

    def review_text(self, report: ReviewReport) -> str:
        """A case review's report as text: the grid of grades, findings with learning, actions."""
        say, kb = self.say, self.kb
        lines = [say.review_title.format(reference=report.reference),
                 say.review_agencies.format(agencies=report.agencies), "", say.review_grades]
        lines += [f"- {f.title}: {f.grade}" for f in report.findings]
        lines += ["", say.review_findings]
        for finding in report.findings:
            if not finding.evidence:
                continue
            lines.append(f"{finding.title} ({finding.grade})")
            lines.append(say.review_evidence.format(evidence=finding.evidence))
            for lp_id in finding.learning_points:
                lp = kb.learning_points[lp_id]
                lines.append(say.review_learning.format(text=lp.text, source=kb.sources[lp.source].organisation,
                                                        date=kb.sources[lp.source].date_text, id=lp.id))
            lines.append("")
        lines.append(say.review_actions)
        if not report.actions:
            lines.append(say.review_no_actions)
        for number, action in enumerate(report.actions, 1):
            when = dt.date.fromisoformat(action.when).strftime("%-d %B %Y")
            lines.append(say.review_action_line.format(number=number, what=action.what, who=action.who,
                                                       when=when, measure=action.measure))
        return "\n".join(lines)
