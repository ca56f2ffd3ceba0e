"""Scoring the matcher on a labelled JSON Lines file (`reflectbot eval FILE`).

Each line has `text` and `themes`: a list of theme ids, primary first, or `["none"]`.
- top-1 / top-3: on themed rows, a hit when a labelled theme is ranked first / in the first three;
- none: the share of `none` rows given no theme at all;
- precision and recall per theme, of the themes reported (all of them, not only the first) against
  the labels: precision, of the rows a theme was reported for, the share labelled with it; recall,
  of the rows labelled with it, the share it was reported for;
- the most frequent confusions (first label -> first-ranked theme, when that is not a label);
- mean matching time per text.
"""
from __future__ import annotations

import dataclasses
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

NONE = "none"


@dataclass
class Evaluation:
    rows: int = 0
    themed: int = 0
    top1: int = 0
    top3: int = 0
    none_rows: int = 0
    none_right: int = 0
    unthemed: int = 0
    seconds: float = 0.0
    true_pos: Counter = field(default_factory=Counter)
    predicted: Counter = field(default_factory=Counter)
    actual: Counter = field(default_factory=Counter)
    confusions: Counter = field(default_factory=Counter)

    @property
    def top1_accuracy(self) -> float:
        return self.top1 / self.themed if self.themed else 0.0

    @property
    def top3_accuracy(self) -> float:
        return self.top3 / self.themed if self.themed else 0.0

    @property
    def none_accuracy(self) -> float:
        return self.none_right / self.none_rows if self.none_rows else 0.0

    @property
    def mean_ms(self) -> float:
        return 1000 * self.seconds / self.rows if self.rows else 0.0

    def per_theme(self) -> dict[str, tuple[float, float, int]]:
        """theme -> (precision, recall, rows labelled with it)."""
        out = {}
        for theme in sorted(set(self.actual) | set(self.predicted)):
            p = self.true_pos[theme] / self.predicted[theme] if self.predicted[theme] else 0.0
            r = self.true_pos[theme] / self.actual[theme] if self.actual[theme] else 0.0
            out[theme] = (p, r, self.actual[theme])
        return out

    def as_dict(self) -> dict:
        return {
            "rows": self.rows, "themed_rows": self.themed, "none_rows": self.none_rows,
            "top1": round(self.top1_accuracy, 4), "top3": round(self.top3_accuracy, 4),
            "none_given_no_theme": round(self.none_accuracy, 4), "themed_given_no_theme": self.unthemed,
            "mean_ms_per_text": round(self.mean_ms, 3),
            "per_theme": {t: {"precision": round(p, 3), "recall": round(r, 3), "rows": n}
                          for t, (p, r, n) in self.per_theme().items()},
            "confusions": [{"label": a, "ranked_first": b, "count": n}
                           for (a, b), n in self.confusions.most_common(10)],
        }

    def as_text(self) -> str:
        lines = [
            f"rows: {self.rows} ({self.themed} themed, {self.none_rows} none)",
            f"top-1 theme accuracy: {self.top1_accuracy:.1%} ({self.top1}/{self.themed})",
            f"top-3 theme accuracy: {self.top3_accuracy:.1%} ({self.top3}/{self.themed})",
            f"none rows given no theme: {self.none_accuracy:.1%} ({self.none_right}/{self.none_rows})",
            f"themed rows given no theme: {self.unthemed}",
            f"mean time per text: {self.mean_ms:.3f} ms",
            "",
            f"{'theme':28} {'precision':>9} {'recall':>7} {'rows':>5}",
        ]
        if not self.none_rows:
            del lines[3]
        for theme, (p, r, n) in self.per_theme().items():
            lines.append(f"{theme:28} {p:9.2f} {r:7.2f} {n:5d}")
        if self.confusions:
            lines += ["", "most frequent confusions (label -> ranked first):"]
            lines += [f"  {a} -> {b}: {n}" for (a, b), n in self.confusions.most_common(10)]
        return "\n".join(lines)


def read_labelled(path: Path) -> list[dict]:
    rows = []
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                text, themes = row["text"], row["themes"]
            except (json.JSONDecodeError, KeyError, TypeError) as error:
                raise ValueError(f"{path}: line {number}: needs a JSON object with text and themes "
                                 f"({type(error).__name__})") from None
            if not isinstance(themes, list) or not themes or not isinstance(text, str):
                raise ValueError(f"{path}: line {number}: themes must be a non-empty list")
            rows.append({"text": text, "themes": themes})
    return rows


def evaluate(matcher, rows: list[dict]) -> Evaluation:
    result = Evaluation()
    for row in rows:
        started = time.perf_counter()
        found = matcher.match(row["text"])
        result.seconds += time.perf_counter() - started
        ranked = [t.id for t in found.themes]
        labels = row["themes"]
        first = ranked[0] if ranked else NONE
        result.rows += 1
        for theme in ranked:
            result.predicted[theme] += 1
            result.true_pos[theme] += theme in labels
        for theme in labels:
            if theme != NONE:
                result.actual[theme] += 1
        if labels == [NONE]:
            result.none_rows += 1
            result.none_right += not ranked
            if ranked:
                result.confusions[(NONE, first)] += 1
            continue
        result.themed += 1
        result.unthemed += not ranked
        result.top1 += first in labels
        result.top3 += any(t in labels for t in ranked[:3])
        if first not in labels:
            result.confusions[(labels[0], first)] += 1
    return result


def evaluate_learning_points(kb) -> Evaluation:
    """The matcher, learnt without the learning points, ranking the themes of each of them.

    The learning points are our close paraphrases of five real briefings, so this is the nearest
    measure of real review prose that is ours to tune on (the labelled sets read more plainly)."""
    from knowledge.matcher import Matcher, theme_training
    from knowledge.theme_model import Trained

    without = dataclasses.replace(kb, learning_points={}, _matcher=None)
    matcher = Matcher(without, Trained.learn(theme_training(without)))
    return evaluate(matcher, [{"text": lp.text, "themes": list(lp.themes)} for lp in kb.learning_points.values()])


@dataclass
class SafetyEvaluation:
    dangers: int = 0
    caught: int = 0
    close_calls: int = 0
    false_alarms: int = 0
    missed: list = field(default_factory=list)
    raised: list = field(default_factory=list)

    def as_text(self) -> str:
        caught = self.caught / self.dangers if self.dangers else 0.0
        alarms = self.false_alarms / self.close_calls if self.close_calls else 0.0
        lines = [f"dangers caught: {caught:.1%} ({self.caught}/{self.dangers})",
                 f"close calls that raised the alarm: {alarms:.1%} ({self.false_alarms}/{self.close_calls})"]
        if self.missed:
            lines.append("missed (ids): " + ", ".join(self.missed))
        if self.raised:
            lines.append("false alarms (ids): " + ", ".join(self.raised))
        return "\n".join(lines)


def evaluate_safety(safety, path: Path) -> SafetyEvaluation:
    """Score the safety net on lines with `text` and `immediate` (true or false)."""
    result = SafetyEvaluation()
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            name = str(row.get("id", number))
            hit = safety.check(row["text"]) is not None
            if row["immediate"]:
                result.dangers += 1
                result.caught += hit
                if not hit:
                    result.missed.append(name)
            else:
                result.close_calls += 1
                result.false_alarms += hit
                if hit:
                    result.raised.append(name)
    return result
