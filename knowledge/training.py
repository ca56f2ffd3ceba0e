"""What the matcher's two classifiers learn from: labelled texts, read as words and word pairs.

The texts are the examples in knowledge/content/examples/ and the learning points (under their first
theme). Reading them all takes most of a second, so both classifiers ship trained
(knowledge/theme_model.py) and a `Training` reads its texts only when something must be learnt anew.
Its fingerprint says exactly what a shipped file was learnt from, without reading anything.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from knowledge import words as _words
from knowledge.words import Words

MIN_DOCUMENTS = 2
"""Features seen in fewer training texts than this are ignored."""
_FEATURE_CODE = (Path(__file__), Path(_words.__file__))
"""The code that turns a text into features: a change to it changes every fingerprint."""


def features(words: Words, stopwords: frozenset[str]) -> set[str]:
    """Content stems, and pairs of neighbouring stems (so "not seen" differs from "seen")."""
    stems = words.stems
    single = {s for s in stems if s not in stopwords and len(s) > 1}
    pairs = {f"{a}_{b}" for a, b in zip(stems, stems[1:]) if not (a in stopwords and b in stopwords)}
    return single | pairs


@dataclass(frozen=True)
class Training:
    """Labelled texts, (text, label), and the words the classifiers ignore."""

    labelled: tuple[tuple[str, str], ...]
    stopwords: frozenset[str]

    @cached_property
    def documents(self) -> tuple[tuple[str, frozenset[str]], ...]:
        """Each text as its label and its features."""
        return tuple((label, frozenset(features(Words.of(text), self.stopwords))) for text, label in self.labelled)

    @cached_property
    def vocabulary(self) -> list[str]:
        """The features seen in at least MIN_DOCUMENTS texts, sorted."""
        seen = Counter(f for _, found in self.documents for f in found)
        return sorted(f for f, n in seen.items() if n >= MIN_DOCUMENTS)

    @property
    def labels(self) -> list[str]:
        return sorted({label for _, label in self.labelled})

    def fingerprint(self, settings: dict) -> str:
        """A digest of the settings, the feature code, the stopwords and every labelled text."""
        digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
        for path in _FEATURE_CODE:
            digest.update(path.read_bytes())
        digest.update("\x01".join(sorted(self.stopwords)).encode())
        for text, label in self.labelled:
            digest.update(f"\x02{label}\x00{text}".encode())
        return digest.hexdigest()
