"""Words and cues: how text is split into comparable words, and how a cue phrase is read.

Matching ignores case and word endings (Snowball's English stemmer), treats "doesn't" as "does not"
and drops a possessive 's, so "Mum's boyfriend wasn't seen" and "mums boyfriend was not seen" read
the same. The cue syntax is documented for content editors in docs/content.md.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from functools import cached_property

import snowballstemmer

GAP = 6
"""How many words may stand between the parts of a ` ... ` cue."""

_stemmer = snowballstemmer.stemmer("english")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u02bc": "'"})
_NOT = re.compile(r"(?:(?<=\w)n't\b|\bcannot\b)")
_POSSESSIVE = re.compile(r"(?<=\w)'s\b")
_WORD = re.compile(r"[a-z0-9]+")


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _stemmer.stemWord(word)


def normalise(text: str) -> str:
    """Lower case, straight apostrophes, n't spelled out and possessives dropped."""
    text = text.translate(_APOSTROPHES).lower()
    text = _NOT.sub(lambda m: " not" if m.group(0).startswith("n") else "can not", text)
    return _POSSESSIVE.sub("", text)


_last_read: tuple[str, "Words"] | None = None
"""The last text read, kept only until the next: one message is read by several checks in turn."""


@dataclass(frozen=True)
class Words:
    """A text split into words, with their stems, ready for matching."""

    raw: tuple[str, ...]
    stems: tuple[str, ...]

    @classmethod
    def of(cls, text: str) -> "Words":
        global _last_read
        last = _last_read
        if last is not None and last[0] == text:  # the safety net and the matcher read the same answer
            return last[1]
        raw = tuple(_WORD.findall(normalise(text)))
        words = cls(raw, tuple(stem(w) for w in raw))
        _last_read = (text, words)
        return words

    def __len__(self) -> int:
        return len(self.raw)

    @cached_property
    def stem_set(self) -> frozenset[str]:
        return frozenset(self.stems)

    @cached_property
    def positions(self) -> dict[str, list[int]]:
        """Where each stem stands in the text."""
        at: dict[str, list[int]] = {}
        for i, s in enumerate(self.stems):
            at.setdefault(s, []).append(i)
        return at

    @cached_property
    def prefix_set(self) -> frozenset[str]:
        """Every beginning of every word, for `word*` cue terms."""
        return frozenset(w[:k] for w in set(self.raw) for k in range(1, len(w) + 1))


@dataclass(frozen=True)
class Term:
    """One word of a cue: a stem to equal, or a prefix (from `word*`) the word must start with."""

    text: str
    prefix: bool

    def fits(self, words: Words, i: int) -> bool:
        return words.raw[i].startswith(self.text) if self.prefix else words.stems[i] == self.text


@dataclass(frozen=True)
class Cue:
    """A compiled cue: parts of consecutive terms, the parts in order within GAP words."""

    source: str
    parts: tuple[tuple[Term, ...], ...]
    weight: float

    @property
    def first(self) -> Term:
        return self.parts[0][0]

    @cached_property
    def _stems(self) -> frozenset[str]:
        return frozenset(t.text for part in self.parts for t in part if not t.prefix)

    @cached_property
    def _prefixes(self) -> frozenset[str]:
        return frozenset(t.text for part in self.parts for t in part if t.prefix)

    def could_be_in(self, words: Words) -> bool:
        """Whether every term of the cue is somewhere in the text (a cheap test before `find`)."""
        return self._stems <= words.stem_set and (not self._prefixes or self._prefixes <= words.prefix_set)

    def find(self, words: Words, start: int) -> tuple[int, int] | None:
        """The span (first word, one past the last) of this cue beginning at `start`, if it is there."""
        end = _part_at(self.parts[0], words, start)
        if end is None:
            return None
        for part in self.parts[1:]:
            for j in range(end, min(end + GAP + 1, len(words))):
                found = _part_at(part, words, j)
                if found is not None:
                    end = found
                    break
            else:
                return None
        return start, end


def _part_at(part: tuple[Term, ...], words: Words, i: int) -> int | None:
    if i + len(part) > len(words):
        return None
    for k, term in enumerate(part):
        if not term.fits(words, i + k):
            return None
    return i + len(part)


def compile_cue(cue: str, weight: float) -> Cue | None:
    """Read a cue written in the content syntax; None when it holds no word."""
    parts = []
    for chunk in re.split(r"\s*(?:\.\.\.|\u2026)\s*", cue):
        terms = []
        for token in normalise(chunk).split():
            found = _WORD.findall(token)
            for k, word in enumerate(found):
                prefix = token.endswith("*") and k == len(found) - 1
                terms.append(Term(word, True) if prefix else Term(stem(word), False))
        if terms:
            parts.append(tuple(terms))
    return Cue(cue, tuple(parts), weight) if parts else None
