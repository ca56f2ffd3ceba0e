"""The shape of every content file, as pydantic models.

The models check one file at a time (fields present, values of the right kind). Checks that need
several files at once (unknown theme, dangling reference, duplicate id) live in `knowledge.content`.
"""
from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

THEME_IDS = (
    "lived_experience", "disguised_compliance", "fathers_and_males", "stuck_cases", "escalation",
    "thresholds", "information_sharing", "cumulative_harm", "neglect", "history_and_recording",
    "plans_and_review", "supervision_and_oversight", "professional_curiosity", "disability",
    "exploitation",
)
"""The themes every knowledge base must define (it may define more)."""

Kind = Literal["finding", "key_message", "learning_point", "recommendation", "family_voice"]
Audience = Literal["practitioner", "manager", "partnership"]
Text = str


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Vocabulary(Strict):
    """Cue phrases by strength; the cue syntax is in docs/content.md."""

    strong: list[str] = Field(default_factory=list)
    medium: list[str] = Field(default_factory=list)
    weak: list[str] = Field(default_factory=list)

    @field_validator("strong", "medium", "weak")
    @classmethod
    def _no_blank_cues(cls, cues: list[str]) -> list[str]:
        for cue in cues:
            if not isinstance(cue, str) or not cue.strip(" .*'"):
                raise ValueError(f"blank cue {cue!r}")
        return cues


class Theme(Strict):
    id: str
    name: Text
    description: Text
    vocabulary: Vocabulary


class ThemesFile(Strict):
    themes: list[Theme]


class Link(Strict):
    name: Text
    url: str | None = None


class Procedure(Strict):
    name: Text
    url: str | None = None
    source_date: dt.date | None = None


class Source(Strict):
    id: str
    title: Text
    organisation: Text
    area: str
    date: dt.date
    date_text: Text
    focus: Text
    procedures: list[Link] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)


class SourcesFile(Strict):
    sources: list[Source]


class Section(Strict):
    key: str
    heading: Text


class LearningPoint(Strict):
    id: str
    section: str
    kind: Kind
    audience: list[Audience] = Field(min_length=1)
    themes: list[str] = Field(min_length=1)
    text: Text = Field(min_length=10)
    question: Text = Field(min_length=10)


class LearningPointsFile(Strict):
    """A briefing's learning points; each entry is checked on its own as a `LearningPoint`, so one
    broken entry does not hide the problems of the others."""

    source: str
    sections: list[Section] = Field(min_length=1)
    learning_points: list[dict] = Field(min_length=1)


class Stage(Strict):
    id: str
    number: int
    title: Text
    who: Text
    what_to_do: Text
    what_to_record: Text
    timescale: Text
    if_no_answer: Text
    generic: bool


class Situation(Strict):
    id: str
    label: Text
    description: Text
    vocabulary: Vocabulary
    start_stage: str
    advice: Text
    generic: bool = True


class ImmediateRisk(Strict):
    title: Text
    message: Text


class EscalationFile(Strict):
    generic_notice: Text
    partnerships_note: Text
    immediate_risk: ImmediateRisk
    stages: list[Stage] = Field(min_length=1)
    situations: list[Situation] = Field(min_length=1)


class Area(Strict):
    id: str
    name: Text
    source: str | None = None
    procedure: Procedure
    notes: Text = ""
    check_reminder: Text


class DangerCue(Strict):
    """One kind of immediate danger, with the words that state it."""

    id: str
    purpose: Text
    vocabulary: Vocabulary


class SafetyCuesFile(Strict):
    """Cues for the immediate-danger safety net (knowledge/content/safety_cues.yaml)."""

    message: Text
    dangers: list[DangerCue] = Field(min_length=1)
    now: Vocabulary
    settled: Vocabulary
    hypothetical: Vocabulary


class ExamplesFile(Strict):
    """Sentences written for the project, each about one theme (or `none`), that the matcher's
    classifier learns from (knowledge/content/examples/<label>.yaml)."""

    theme: str
    examples: list[str] = Field(min_length=10)


class Grade(Strict):
    value: str = Field(pattern=r"^[a-z0-9_]{1,24}$")
    label: Text


class ReviewDomain(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,20}$")
    title: Text
    help: Text
    themes: list[str] = Field(min_length=1)


class ReviewFile(Strict):
    """The guided case review (knowledge/content/review.yaml): its grade scale, domains and words."""

    title: Text
    intro: Text
    reference_prompt: Text
    agencies_prompt: Text
    grade_prompt: Text
    evidence_prompt: Text
    action_prompt: Text
    action_what_prompt: Text
    action_who_prompt: Text
    action_when_prompt: Text
    action_measure_prompt: Text
    vague_challenge: Text
    grades: list[Grade] = Field(min_length=2)
    vague_words: list[str] = Field(default_factory=list)
    domains: list[ReviewDomain] = Field(min_length=1)
