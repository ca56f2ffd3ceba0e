"""Emerging themes across case reviews, like the audits' own ("100% had disguised compliance").

Counts only, from the ids stored with each answer: never case text. No figure is drawn from fewer
than `minimum` reviews, so no single case can be recognised in it.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store import Answer, Run
from dialogues.review import REVIEW
from knowledge.matcher import found

MINIMUM_CASES = 3


@dataclass
class EmergingThemes:
    since: dt.date
    minimum: int
    cases: int = 0
    themes: Counter = field(default_factory=Counter)      # theme -> reviews in which it was found
    grades: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))  # domain -> grade -> n
    learning_points: Counter = field(default_factory=Counter)  # learning point -> reviews matching it
    reflections: int = 0
    reflection_themes: Counter = field(default_factory=Counter)

    @property
    def enough(self) -> bool:
        return self.cases >= self.minimum

    def share(self, theme: str) -> float:
        return 100.0 * self.themes[theme] / self.cases if self.cases else 0.0

    def shares(self) -> list[tuple[str, float]]:
        return sorted(((t, self.share(t)) for t in self.themes), key=lambda x: (-x[1], x[0]))


def emerging_themes(session: Session, since: dt.date, minimum: int = MINIMUM_CASES) -> EmergingThemes:
    start = dt.datetime.combine(since, dt.time(), tzinfo=dt.timezone.utc)
    figures = EmergingThemes(since, minimum)
    runs = session.scalars(select(Run).where(Run.finished_at.is_not(None), Run.started_at >= start))
    for run in runs:
        matched = [row for rows in session.scalars(select(Answer.matched).where(
            Answer.run_id == run.id, Answer.matched.is_not(None))) for row in rows]
        themes = {ref for kind, ref, score in matched if kind == "theme" and found(score)}
        if run.dialogue_id != REVIEW:
            figures.reflections += 1
            figures.reflection_themes.update(themes)
            continue
        figures.cases += 1
        figures.themes.update(themes)
        figures.learning_points.update({ref for kind, ref, _ in matched if kind == "learning_point"})
        grades = session.execute(select(Answer.step, Answer.value).where(
            Answer.run_id == run.id, Answer.step.like("%_grade"))).all()
        for step, value in grades:
            figures.grades[step.removesuffix("_grade")][value] += 1
    return figures


def as_text(figures: EmergingThemes, kb, say) -> str:
    if not figures.enough:
        return say.themes_too_few.format(since=figures.since.isoformat(), minimum=figures.minimum)
    lines = [say.themes_title.format(cases=figures.cases, since=figures.since.isoformat()), "",
             "Themes found (share of case reviews):"]
    lines += [f"- {kb.themes[t].name}: {share:.0f}% ({figures.themes[t]} of {figures.cases})"
              for t, share in figures.shares()]
    grade_label = {g.value: g.label for g in kb.review.grades}
    lines += ["", "Grades by domain:"]
    for domain in kb.review.domains:
        counts = figures.grades.get(domain.id, Counter())
        lines.append(f"- {domain.title}: " + ", ".join(
            f"{label} {counts[value]}" for value, label in grade_label.items() if counts[value]))
    lines += ["", "Learning points most often matched:"]
    for lp_id, count in figures.learning_points.most_common(5):
        lp = kb.learning_points[lp_id]
        lines.append(f"- {lp.text} ({kb.sources[lp.source].organisation}; {count} of {figures.cases} reviews)")
    if figures.reflections >= figures.minimum:
        lines += ["", f"Practitioners' reflections in the same period: {figures.reflections} (counts only):"]
        lines += [f"- {kb.themes[t].name}: {n}" for t, n in figures.reflection_themes.most_common(5)]
    return "\n".join(lines)
