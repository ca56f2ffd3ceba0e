"""A naive Bayes classifier over words and word pairs, learnt when the knowledge base loads from the
examples in knowledge/content/examples/ and the learning points (their first theme).

It complements the cue vocabulary: cues are precise and explain themselves, the classifier
recognises the many ways of saying a thing that no cue list covers, and it knows what text about
no theme at all looks like (the `none` examples). Nothing is fetched; training takes milliseconds.
The theme model (knowledge/theme_model.py) learns from the same `Training`.
"""
from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict

from knowledge.theme_model import Training
from knowledge.words import Words

NONE = "none"
SMOOTHING = 1.0
MIN_DOCUMENTS = 2  # features seen in fewer training texts are ignored


def features(words: Words, stopwords: frozenset[str]) -> set[str]:
    """Content stems, and pairs of neighbouring stems (so "not seen" differs from "seen")."""
    stems = words.stems
    single = {s for s in stems if s not in stopwords and len(s) > 1}
    pairs = {f"{a}_{b}" for a, b in zip(stems, stems[1:]) if not (a in stopwords and b in stopwords)}
    return single | pairs


def training(labelled: list[tuple[str, str]], stopwords: frozenset[str]) -> Training:
    """Each (text, label) as its label and features; the vocabulary is the features seen in at least
    MIN_DOCUMENTS texts."""
    documents = tuple((label, frozenset(features(Words.of(text), stopwords))) for text, label in labelled)
    seen = Counter(f for _, found in documents for f in found)
    return Training(documents, frozenset(f for f, n in seen.items() if n >= MIN_DOCUMENTS))


class Classifier:
    def __init__(self, training: Training, stopwords: frozenset[str]):
        self.stopwords = stopwords
        self.documents: Counter = Counter()
        self.counts: dict[str, Counter] = defaultdict(Counter)
        for label, found in training.documents:
            self.documents[label] += 1
            self.counts[label].update(found)
        self.vocabulary = training.vocabulary
        total = sum(self.documents.values())
        self.labels = sorted(self.documents)
        self.prior = {label: math.log(self.documents[label] / total) for label in self.labels}
        # A feature absent from a label's examples weighs `unseen[label]`; `extra[feature]` holds, for the
        # labels whose examples have it, how much more it weighs there. Posteriors add only those.
        self.unseen = {label: self._weight(label, "") for label in self.labels}
        self.extra = {f: {label: self._weight(label, f) - self.unseen[label]
                          for label in self.labels if self.counts[label][f]} for f in self.vocabulary}
        self._leaders: dict[str, tuple[str, float, float]] = {}  # filled as features are met

    def _weight(self, label: str, feature: str) -> float:
        return math.log((self.counts[label][feature] + SMOOTHING) / (self.documents[label] + 2 * SMOOTHING))

    def posterior(self, words: Words) -> tuple[dict[str, float], set[str]]:
        """Probability of each label given the text, and the known features found in it."""
        found = features(words, self.stopwords) & self.vocabulary
        if not found:
            return {}, found
        scores = {label: self.prior[label] + len(found) * self.unseen[label] for label in self.labels}
        for feature in found:
            for label, extra in self.extra[feature].items():
                scores[label] += extra
        top = max(scores.values())
        total = sum(math.exp(v - top) for v in scores.values())
        return {label: math.exp(v - top) / total for label, v in scores.items()}, found

    def _leading(self, feature: str) -> tuple[str, float, float]:
        """The label a feature weighs most for, that weight, and the next label's."""
        if (leaders := self._leaders.get(feature)) is None:
            extra = self.extra[feature]
            first, second = heapq.nlargest(2, ((self.unseen[l] + extra.get(l, 0.0), l) for l in self.labels))
            leaders = self._leaders[feature] = (first[1], first[0], second[0])
        return leaders

    def evidence(self, label: str, found: set[str], limit: int = 3) -> list[str]:
        """The features found that speak most for `label` against the others."""
        lifts = {}
        for feature in found:
            leader, top, runner_up = self._leading(feature)
            mine = self.unseen[label] + self.extra[feature].get(label, 0.0)
            lifts[feature] = mine - (runner_up if leader == label else top)
        best = sorted(found, key=lifts.__getitem__, reverse=True)[:limit]
        return [f.replace("_", " ") for f in best if lifts[f] > 0]
