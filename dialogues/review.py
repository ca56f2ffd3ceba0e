"""The guided case review as a dialogue script, built from knowledge/content/review.yaml.

Per domain: a grade, the evidence (matched as it arrives), and optionally one SMART action (what,
who, by when, how we will know), the "what" challenged once if it is vague. It runs on the same
engine, store and channels as the reflections.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from dialogues.script import END, Script
from knowledge.schema import ReviewFile

REVIEW = "case_review"
ACTION_PARTS = ("what", "who", "when", "measure")


def review_script(review: ReviewFile) -> Script:
    steps = [
        {"id": "reference", "kind": "text", "prompt": review.reference_prompt, "stage": "what_happened"},
        {"id": "agencies", "kind": "text", "prompt": review.agencies_prompt, "stage": "what_happened"},
    ]
    grades = [{"value": g.value, "label": g.label} for g in review.grades]
    for number, domain in enumerate(review.domains):
        following = f"{review.domains[number + 1].id}_grade" if number + 1 < len(review.domains) else END
        d = domain.id
        steps += [
            {"id": f"{d}_grade", "kind": "choice", "prompt": review.grade_prompt.format(title=domain.title),
             "options": grades, "help": domain.help, "stage": "analysis"},
            {"id": f"{d}_evidence", "kind": "text", "prompt": review.evidence_prompt, "help": domain.help,
             "themes": domain.themes, "stage": "analysis"},
            {"id": f"{d}_action", "kind": "yes_no", "prompt": review.action_prompt, "stage": "next_steps",
             "branches": [{"when": {"answer": ["no", "not_sure"]}, "goto": following}]},
            {"id": f"{d}_what", "kind": "text", "prompt": review.action_what_prompt, "challenge_vague": True,
             "stage": "next_steps"},
            {"id": f"{d}_who", "kind": "text", "prompt": review.action_who_prompt, "stage": "next_steps"},
            {"id": f"{d}_when", "kind": "date", "prompt": review.action_when_prompt, "stage": "next_steps"},
            {"id": f"{d}_measure", "kind": "text", "prompt": review.action_measure_prompt, "stage": "next_steps",
             "next": following},
        ]
    themes = list(dict.fromkeys(t for d in review.domains for t in d.themes))
    return Script.model_validate({"id": REVIEW, "version": 1, "kind": "review", "title": review.title,
                                  "description": review.title, "themes": themes, "intro": review.intro,
                                  "steps": steps})


@dataclass
class Action:
    domain: str
    what: str
    who: str
    when: str
    measure: str


@dataclass
class Finding:
    domain: str
    title: str
    grade: str
    evidence: str
    learning_points: list[str] = field(default_factory=list)  # learning point ids matched


@dataclass
class ReviewReport:
    reference: str
    agencies: str
    findings: list[Finding]
    actions: list[Action]


def review_report(review: ReviewFile, answers: dict[str, str], matcher) -> ReviewReport:
    """What a finished (or stopped) review found, from its answers."""
    grade_label = {g.value: g.label for g in review.grades}
    findings, actions = [], []
    for domain in review.domains:
        d = domain.id
        evidence = answers.get(f"{d}_evidence", "")
        matched = [hit.id for hit in matcher.match(evidence).learning_points] if evidence else []
        grade = answers.get(f"{d}_grade")
        findings.append(Finding(d, domain.title, grade_label.get(grade, "Not graded"), evidence, matched))
        if all(answers.get(f"{d}_{part}") for part in ACTION_PARTS):
            actions.append(Action(d, *(answers[f"{d}_{part}"] for part in ACTION_PARTS)))
    return ReviewReport(answers.get("reference", ""), answers.get("agencies", ""), findings, actions)
