"""A naive Bayes classifier over words and word pairs (knowledge/training.py), learnt from the
examples in knowledge/content/examples/ and the learning points (their first theme).

It complements the cue vocabulary: cues are precise and explain themselves, the classifier
recognises the many ways of saying a thing that no cue list covers, and it knows what text about
no theme at all looks like (the `none` examples). Nothing is fetched. It is kept as counts: how many
texts of each label there are, and how many of them have each feature; it ships with the theme model
(knowledge/theme_model.py).
"""
from __future__ import annotations

import numpy as np

from knowledge.training import Training, features
from knowledge.words import Words

NONE = "none"


class Classifier:
    """Bernoulli-style naive Bayes with add-one smoothing, over the features a text has."""

    def __init__(self, vocabulary: list[str], labels: list[str], documents: np.ndarray, counts: np.ndarray,
                 stopwords: frozenset[str]):
        self.vocabulary, self.labels, self.stopwords = vocabulary, labels, stopwords
        self.documents, self.counts = documents, counts  # texts per label; texts per (feature, label)
        self.index = {feature: i for i, feature in enumerate(vocabulary)}
        self._prior = np.log(documents / documents.sum())
        # A feature absent from a label's texts weighs `unseen`; one present in c of them weighs log(c + 1)
        # more, so a posterior is the prior, `unseen` once per feature, and one gathered sum.
        self._unseen = -np.log(documents + 2.0)
        self._extra = np.log1p(counts.astype(np.float64))

    @classmethod
    def learn(cls, training: Training) -> "Classifier":
        labels, vocabulary = training.labels, training.vocabulary
        column = {label: k for k, label in enumerate(labels)}
        row = {feature: i for i, feature in enumerate(vocabulary)}
        documents = np.zeros(len(labels))
        counts = np.zeros((len(vocabulary), len(labels)), dtype=np.uint16)
        for label, found in training.documents:
            k = column[label]
            documents[k] += 1
            ids = [row[f] for f in found if f in row]
            counts[ids, k] += 1
        return cls(vocabulary, labels, documents, counts, training.stopwords)

    def posterior(self, words: Words) -> tuple[dict[str, float], set[str]]:
        """Probability of each label given the text, and the known features found in it."""
        found = {f for f in features(words, self.stopwords) if f in self.index}
        if not found:
            return {}, found
        scores = self._prior + len(found) * self._unseen + self._extra[[self.index[f] for f in found]].sum(axis=0)
        chances = np.exp(scores - scores.max())
        return dict(zip(self.labels, (chances / chances.sum()).tolist())), found

    def evidence(self, label: str, found: set[str], limit: int = 3) -> list[str]:
        """The features found that speak most for `label` against the label each speaks most for otherwise."""
        if not found or label not in self.labels:
            return []
        k = self.labels.index(label)
        ordered = sorted(found)
        weights = self._unseen + self._extra[[self.index[f] for f in ordered]]
        mine = weights[:, k].copy()
        weights[:, k] = -np.inf
        lifts = dict(zip(ordered, (mine - weights.max(axis=1)).tolist()))
        best = sorted(ordered, key=lifts.__getitem__, reverse=True)[:limit]
        return [f.replace("_", " ") for f in best if lifts[f] > 0]
