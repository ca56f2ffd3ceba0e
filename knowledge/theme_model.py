"""The theme model: a multinomial logistic regression over the same words and word pairs as the
naive Bayes classifier, learnt from the same examples; and how both ship trained.

Naive Bayes treats every word as independent evidence, so a long sentence full of ordinary review
language pulls it hard towards whichever theme uses those words most. The regression weighs each
word by how well it tells the themes apart, given all the others, which is what long sentences with
several concerns in them need. The matcher adds both (knowledge/matcher.py).

Reading the 8,000 training texts takes most of a second and training the regression a second or two,
so both classifiers ship in knowledge/trained/themes.npz with the fingerprint of what they were
learnt from (knowledge/training.py). `reflectbot knowledge train` writes the file; `reflectbot
knowledge check` says when it is out of date; and a matcher whose examples no longer match the file
learns its own classifiers in memory, so matching is never done with stale weights. Training is
deterministic: the same examples give the same weights.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge.classifier import Classifier
from knowledge.training import Training

MODEL_FILE = Path(__file__).parent / "trained" / "themes.npz"
SETTINGS = {"l2": 3e-5, "epochs": 60, "step": 0.05, "length_power": 0.5, "version": 2}
"""How the model is trained; changing any of them changes the fingerprint."""

log = logging.getLogger(__name__)


def fingerprint(training: Training) -> str:
    return training.fingerprint(SETTINGS)


class ThemeModel:
    """Weights per (feature, label); `posterior` gives each label's probability for a text."""

    def __init__(self, vocabulary: list[str], labels: list[str], weights: np.ndarray, bias: np.ndarray):
        self.vocabulary, self.labels = vocabulary, labels
        self.weights, self.bias = weights, bias
        self.index = {feature: i for i, feature in enumerate(vocabulary)}

    def posterior(self, found: set[str]) -> dict[str, float]:
        """Probability of each label given a text's features (empty when none is known)."""
        ids = [self.index[f] for f in found if f in self.index]
        if not ids:
            return {}
        z = self.weights[ids].sum(axis=0) * len(ids) ** -SETTINGS["length_power"] + self.bias
        p = np.exp(z - z.max())
        return dict(zip(self.labels, (p / p.sum()).tolist()))

    def evidence(self, label: str, found: set[str], limit: int = 3) -> list[str]:
        """The features found that weigh most for `label` compared with the other labels on average
        (positive lifts only)."""
        if label not in self.labels:
            return []
        k = self.labels.index(label)
        known = sorted(f for f in found if f in self.index)
        if not known:
            return []
        rows = self.weights[[self.index[f] for f in known]]
        lifts = rows[:, k] - (rows.sum(axis=1) - rows[:, k]) / (len(self.labels) - 1)
        best = [i for i in np.argsort(-lifts, kind="stable")[:limit] if lifts[i] > 0]
        return [known[i].replace("_", " ") for i in best]

    @classmethod
    def train(cls, training: Training) -> "ThemeModel":
        """Full-batch Adam on the cross-entropy with an L2 penalty, from zero weights."""
        vocabulary, labels = training.vocabulary, training.labels
        index, label_index = {f: i for i, f in enumerate(vocabulary)}, {l: i for i, l in enumerate(labels)}
        rows = [(label_index[label], [index[f] for f in found if f in index])
                for label, found in training.documents]
        rows = [(y, ids) for y, ids in rows if ids]
        lengths = np.array([len(ids) for _, ids in rows])
        flat = np.concatenate([np.array(sorted(ids), dtype=np.int64) for _, ids in rows])
        owner = np.repeat(np.arange(len(rows)), lengths)
        starts = np.r_[0, np.cumsum(lengths)[:-1]]
        scale = (lengths ** -SETTINGS["length_power"])[:, None]
        truth = np.eye(len(labels))[[y for y, _ in rows]]
        weights, bias = np.zeros((len(vocabulary), len(labels))), np.zeros(len(labels))
        moments = [(np.zeros_like(weights), np.zeros_like(weights)), (np.zeros_like(bias), np.zeros_like(bias))]
        for epoch in range(1, SETTINGS["epochs"] + 1):
            z = np.add.reduceat(weights[flat], starts) * scale + bias
            p = np.exp(z - z.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            error = (p - truth) / len(rows)
            spread = (error * scale)[owner]
            grad_w = np.stack([np.bincount(flat, weights=spread[:, k], minlength=len(vocabulary))
                               for k in range(len(labels))], axis=1) + SETTINGS["l2"] * weights
            for param, grad, (m, v) in ((weights, grad_w, moments[0]), (bias, error.sum(axis=0), moments[1])):
                m *= 0.9
                m += 0.1 * grad
                v *= 0.999
                v += 0.001 * grad * grad
                param -= SETTINGS["step"] * (m / (1 - 0.9 ** epoch)) / (np.sqrt(v / (1 - 0.999 ** epoch)) + 1e-8)
        # Kept to half precision, as shipped (half the file; the rankings do not change).
        return cls(vocabulary, labels, weights.astype(np.float16).astype(np.float32),
                   bias.astype(np.float16).astype(np.float32))



@dataclass(frozen=True)
class Trained:
    """Both classifiers, learnt from one training, and its fingerprint."""

    classifier: Classifier
    model: ThemeModel
    fingerprint: str

    @classmethod
    def learn(cls, training: Training) -> "Trained":
        return cls(Classifier.learn(training), ThemeModel.train(training), fingerprint(training))

    def save(self, path: Path | None = None) -> None:
        path = path or MODEL_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            np.savez_compressed(handle, fingerprint=np.array(self.fingerprint),
                                vocabulary=np.array(self.model.vocabulary), labels=np.array(self.model.labels),
                                weights=self.model.weights.astype(np.float16), bias=self.model.bias.astype(np.float16),
                                documents=self.classifier.documents, counts=self.classifier.counts,
                                stopwords=np.array(sorted(self.classifier.stopwords)))

    @classmethod
    def read(cls, path: Path | None = None, expected: str | None = None) -> "Trained | None":
        """The classifiers in `path` (the shipped file by default), or None when there is no readable
        file, or when `expected` is given and the file was learnt from something else."""
        try:
            with np.load(path or MODEL_FILE, allow_pickle=False) as data:
                found = str(data["fingerprint"])
                if expected is not None and found != expected:
                    return None
                vocabulary, labels = data["vocabulary"].tolist(), data["labels"].tolist()
                model = ThemeModel(vocabulary, labels, data["weights"].astype(np.float32),
                                   data["bias"].astype(np.float32))
                classifier = Classifier(vocabulary, labels, data["documents"], data["counts"],
                                        frozenset(data["stopwords"].tolist()))
                return cls(classifier, model, found)
        except (OSError, KeyError, ValueError):
            return None


def shipped_is_current(training: Training, path: Path | None = None) -> bool:
    return Trained.read(path, expected=fingerprint(training)) is not None


def trained_for(training: Training, path: Path | None = None) -> Trained:
    """The shipped classifiers when they were learnt from exactly this training; otherwise learnt now."""
    shipped = Trained.read(path, expected=fingerprint(training))
    if shipped is not None:
        return shipped
    log.warning("the shipped classifiers (%s) are missing or out of date with the examples; learning them "
                "now, which takes a few seconds. Run `reflectbot knowledge train` to ship up-to-date ones.",
                (path or MODEL_FILE).name)
    return Trained.learn(training)
