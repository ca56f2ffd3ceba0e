"""The matcher: which themes, learning points and escalation routes a practitioner's words are about.

Three kinds of evidence, all from the content files:
- cue vocabulary per theme (and per escalation situation), graded strong, medium and weak; cues of one
  theme that cover the same words count once, at the strongest;
- a naive Bayes classifier (knowledge/classifier.py) learnt from example sentences per theme and of
  text about no theme, which recognises wordings no cue list covers;
- the theme model (knowledge/theme_model.py), a logistic regression learnt from the same examples,
  which weighs each word by how well it tells the themes apart and so copes better with long
  sentences that mention several things.
A theme's points are its cue points plus each classifier's probability times its weight. Text gets
no theme at all when the theme model finds it plausibly off-topic (the more cue points, the surer it
must be), or when it is a few words with no cue. Learning points
are ranked by the themes they share with the text and the words they have in common with it. Every
result says which of the practitioner's words led to it.
"""
from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Mapping

from knowledge.classifier import NONE
from knowledge.schema import Vocabulary
from knowledge.theme_model import Trained, trained_for
from knowledge.training import Training
from knowledge.words import Cue, Words, compile_cue, stem

WEIGHTS = {"strong": 3.0, "medium": 2.0, "weak": 1.0}
CLASSIFIER_WEIGHT, MODEL_WEIGHT = 2.0, 10.0
"""How many cue points each classifier's certainty (probability 1) is worth: naive Bayes is sure of
itself far more often than it is right, the theme model less so."""
OFF_TOPIC_CHANCE, CUE_DOUBT = 0.13, 0.4
"""Text is about no theme when no word of it is known to the classifiers, or when the theme model's
chance that it is about none, discounted by its best theme's cue points, is at least OFF_TOPIC_CHANCE:
P(none) x exp(-CUE_DOUBT x cue points). Every cue point makes "off-topic" 1.5 times harder to
reach, so a text with no cue needs 13% of none, one with a strong cue 43%, and one with two strong
cues of one theme cannot be off-topic. (A hard line at four cue points turned away review sentences with one
or two apt cues; naive Bayes is too sure of itself to judge this at all.)"""
FEWEST_WORDS = 3
"""Content words (not stopwords) a text with no cue at all needs before the classifiers alone may
give it a theme: two or three words ("not sure really", "no idea") are too little to go on."""
THEME_FLOOR = 1.0
"""Points a theme needs before it is reported (one weak cue, or the theme model at one chance in ten)."""
RELATIVE_FLOOR = 0.15
"""A theme is reported only with at least this share of the best theme's points."""
FOUND_POINTS = 2.0
"""Points from which a theme counts as found in a text (for counting across cases), rather than
only listed as worth considering."""
THEMES_SHOWN = 5
ROUTE_FLOOR, ROUTE_FLOOR_ESCALATING = 3.0, 2.0
"""Cue points an escalation situation needs on its own, and when the escalation theme is found."""
LEARNING_POINTS_SHOWN = 3

# Words that carry no meaning for comparing a text with a learning point.
STOPWORDS = frozenset(stem(w) for w in """
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most
my myself no nor not of off on once only or other our ours out over own same she should so some such
than that the their theirs them themselves then there these they this those through to too under
until up very was we were what when where which while who whom why will with would you your yours
yourself also been being get got going know think really still just like one two there's it's i'm
child children family families parent parents professional professionals practitioner practitioners
case cases work working agency agencies service services need needs ensure make made
""".split())


@dataclass(frozen=True)
class ThemeHit:
    id: str
    score: float
    points: float
    why: tuple[str, ...]


@dataclass(frozen=True)
class LearningPointHit:
    id: str
    source: str
    score: float
    why: str


@dataclass(frozen=True)
class RouteHit:
    id: str
    label: str
    start_stage: str
    score: float
    why: tuple[str, ...]


@dataclass(frozen=True)
class Match:
    themes: tuple[ThemeHit, ...] = ()
    learning_points: tuple[LearningPointHit, ...] = ()
    escalation: tuple[RouteHit, ...] = ()

    def as_json(self) -> dict:
        return {
            "themes": [{"id": t.id, "score": t.score, "why": list(t.why)} for t in self.themes],
            "learning_points": [{"id": lp.id, "source": lp.source, "score": lp.score, "why": lp.why}
                                for lp in self.learning_points],
            "escalation": [{"id": r.id, "label": r.label, "start_stage": r.start_stage,
                            "score": r.score, "why": list(r.why)} for r in self.escalation],
        }


@dataclass
class CueSet:
    """Compiled cues for several labels (themes or situations), each filed under its rarest term.

    A cue can only be in a text that has all its terms, so looking cues up by their least common
    term finds the few worth trying; common words ("not", "the", "in") file nothing."""

    by_stem: dict[str, list[tuple[str, Cue]]] = field(default_factory=dict)
    by_prefix: dict[str, list[tuple[str, Cue]]] = field(default_factory=dict)

    @classmethod
    def of(cls, vocabularies: Mapping[str, Vocabulary]) -> "CueSet":
        compiled = [(label, cue) for label, vocabulary in vocabularies.items()
                    for strength, weight in WEIGHTS.items() for text in getattr(vocabulary, strength)
                    if (cue := compile_cue(text, weight)) is not None]
        uses: Counter = Counter(term for _, cue in compiled for term in {t for part in cue.parts for t in part})
        cues = cls(defaultdict(list), defaultdict(list))
        for label, cue in compiled:
            anchor = min((t for part in cue.parts for t in part), key=lambda t: (uses[t], t.prefix, t.text))
            (cues.by_prefix if anchor.prefix else cues.by_stem)[anchor.text].append((label, cue))
        cues.by_stem, cues.by_prefix = dict(cues.by_stem), dict(cues.by_prefix)
        return cues

    def score(self, words: Words) -> dict[str, tuple[float, tuple[str, ...]]]:
        """Points per label and the words that earned them."""
        found: dict[str, list[tuple[float, int, int, Cue]]] = defaultdict(list)
        candidates = [c for anchor in words.stem_set & self.by_stem.keys() for c in self.by_stem[anchor]]
        if self.by_prefix:
            candidates += [c for anchor in words.prefix_set & self.by_prefix.keys() for c in self.by_prefix[anchor]]
        for label, cue in candidates:
            if not cue.could_be_in(words):
                continue
            first = cue.first
            starts = ([i for i, w in enumerate(words.raw) if w.startswith(first.text)] if first.prefix
                      else words.positions.get(first.text, ()))
            for i in starts:
                if span := cue.find(words, i):
                    found[label].append((cue.weight, span[0], span[1], cue))
        scores = {}
        for label, matches in found.items():
            matches.sort(key=lambda m: (-m[0], m[1] - m[2], m[1]))
            taken: set[int] = set()
            seen_cues: set[str] = set()
            points, why = 0.0, []
            for weight, start, end, cue in matches:
                span = set(range(start, end))
                if span & taken or cue.source in seen_cues:
                    continue
                taken |= span
                seen_cues.add(cue.source)
                points += weight
                why.append(" ".join(words.raw[start:end]))
            scores[label] = (points, tuple(why))
        return scores


def _content_stems(words: Words) -> set[str]:
    return {s for s in words.stems if s not in STOPWORDS and len(s) > 2 and not s.isdigit()}


def _scaled(points: float) -> float:
    """Points on a 0-1 scale (half at 4 points)."""
    return round(points / (points + 4.0), 3)


def found(score: float) -> bool:
    """Whether a theme's 0-1 score means it was found in the text, not only listed."""
    return score >= _scaled(FOUND_POINTS)


def theme_training(kb) -> Training:
    """What both classifiers learn from: the examples, and each learning point under its first theme."""
    labelled = [(text, label) for label, texts in kb.examples.items() for text in texts]
    labelled += [(lp.text, lp.themes[0]) for lp in kb.learning_points.values()]
    return Training(tuple(labelled), STOPWORDS)


class Matcher:
    """Matches free text against one knowledge base. Build once; `match` is cheap."""

    def __init__(self, kb, trained: Trained | None = None):
        """`trained`: classifiers to use instead of the shipped ones (learnt from `theme_training(kb)`)."""
        self.kb = kb
        self.theme_cues = CueSet.of({t.id: t.vocabulary for t in kb.themes.values()})
        trained = trained or trained_for(theme_training(kb))
        self.classifier, self.model, self.fingerprint = trained.classifier, trained.model, trained.fingerprint
        self.route_cues = CueSet.of({s.id: s.vocabulary for s in kb.escalation.situations})
        self._lp_stems = {lp.id: _content_stems(Words.of(f"{lp.text} {lp.question}"))
                          for lp in kb.learning_points.values()}
        counts: dict[str, int] = defaultdict(int)
        for stems in self._lp_stems.values():
            for s in stems:
                counts[s] += 1
        total = max(len(self._lp_stems), 1)
        self._idf = {s: math.log(1 + total / n) for s, n in counts.items()}
        self._lp_norm = {lp: math.sqrt(sum(self._idf[s] for s in stems)) or 1.0
                         for lp, stems in self._lp_stems.items()}
        self._lps_by_stem: dict[str, list[str]] = defaultdict(list)
        for lp_id, stems in self._lp_stems.items():
            for s in stems:
                self._lps_by_stem[s].append(lp_id)
        self._lps_by_theme: dict[str, list] = defaultdict(list)  # (point id, 1 for its first theme, else 0.7)
        for lp in kb.learning_points.values():
            for k, theme in enumerate(dict.fromkeys(lp.themes)):
                self._lps_by_theme[theme].append((lp.id, 1.0 if k == 0 else 0.7))

    def match(self, text: str) -> Match:
        words = Words.of(text)
        themes = self._themes(words)
        escalating = any(t.id == "escalation" for t in themes)
        return Match(themes, self._learning_points(words, themes), self._routes(words, escalating))

    def _themes(self, words: Words) -> tuple[ThemeHit, ...]:
        cues = self.theme_cues.score(words)
        chances, found = self.classifier.posterior(words)
        model = self.model.posterior(found)
        best_cue = max((points for points, _ in cues.values()), default=0.0)
        if not model or model.get(NONE, 0.0) * math.exp(-CUE_DOUBT * best_cue) >= OFF_TOPIC_CHANCE:
            return ()
        if not cues and len(_content_stems(words)) < FEWEST_WORDS:
            return ()
        points = {t: cues.get(t, (0.0, ()))[0] + CLASSIFIER_WEIGHT * chances.get(t, 0.0)
                  + MODEL_WEIGHT * model.get(t, 0.0) for t in self.kb.themes}
        best = max(points.values())
        ranked = sorted((t for t in points if points[t] >= THEME_FLOOR and points[t] >= RELATIVE_FLOOR * best),
                        key=lambda t: (-points[t], t))[:THEMES_SHOWN]
        hits = []
        for theme in ranked:
            why = (cues.get(theme, (0.0, ()))[1] or self._said(words, self.classifier.evidence(theme, found))
                   or self._said(words, self.model.evidence(theme, found)))
            hits.append(ThemeHit(theme, _scaled(points[theme]), round(points[theme], 3), tuple(why)))
        return tuple(hits)

    @staticmethod
    def _said(words: Words, features: list[str]) -> tuple[str, ...]:
        """Classifier features (stems, or pairs of stems) as the words the practitioner wrote."""
        said = []
        for feature in features:
            stems = feature.split()
            for i in words.positions.get(stems[0], ()):
                if list(words.stems[i:i + len(stems)]) == stems:
                    said.append(" ".join(words.raw[i:i + len(stems)]))
                    break
        return tuple(said)

    def _routes(self, words: Words, escalating: bool) -> tuple[RouteHit, ...]:
        situations = self.kb.situations
        floor = ROUTE_FLOOR_ESCALATING if escalating else ROUTE_FLOOR
        hits = [RouteHit(sid, situations[sid].label, situations[sid].start_stage, _scaled(points), why)
                for sid, (points, why) in self.route_cues.score(words).items() if points >= floor]
        return tuple(sorted(hits, key=lambda h: (-h.score, h.id)))

    def _learning_points(self, words: Words, themes: tuple[ThemeHit, ...]) -> tuple[LearningPointHit, ...]:
        if not themes:
            return ()
        top = themes[0].points
        weight = {t.id: t.points / top for t in themes}
        why_of = {t.id: t.why for t in themes}
        text_stems = _content_stems(words)
        text_norm = math.sqrt(sum(self._idf.get(s, 0.0) for s in text_stems)) or 1.0
        in_common: dict[str, float] = defaultdict(float)  # idf of the words each point shares with the text
        for s in text_stems:
            for lp_id in self._lps_by_stem.get(s, ()):
                in_common[lp_id] += self._idf[s]
        theme_part: dict[str, float] = {}
        credited: dict[str, str] = {}  # each learning point is credited to the best-ranked theme it has
        for theme, share in weight.items():
            for lp_id, factor in self._lps_by_theme.get(theme, ()):
                part = share * factor
                if lp_id not in credited:
                    credited[lp_id], theme_part[lp_id] = theme, part
                elif part > theme_part[lp_id]:
                    theme_part[lp_id] = part
        scale = 1.0 / text_norm
        best = [(-(part + in_common.get(lp_id, 0.0) * scale / self._lp_norm[lp_id]), lp_id)
                for lp_id, part in theme_part.items()]
        hits = []
        for negative, lp_id in heapq.nsmallest(LEARNING_POINTS_SHOWN, best):
            lp, theme, score = self.kb.learning_points[lp_id], credited[lp_id], -negative
            shared = text_stems & self._lp_stems[lp.id]
            reason = f"{self.kb.themes[theme].name}: {', '.join(why_of[theme][:3])}"
            if shared:
                common = sorted({w for w, s in zip(words.raw, words.stems) if s in shared})
                reason += f"; shared words: {', '.join(common[:4])}"
            hits.append(LearningPointHit(lp.id, lp.source, round(score, 3), reason))
            if len(hits) == LEARNING_POINTS_SHOWN:
                break
        return tuple(hits)
