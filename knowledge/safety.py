"""The immediate-danger safety net: does a message say a child is in danger now?

Checked before anything else is done with any free text, in every dialogue and command. The cues
and the reasons for each live in knowledge/content/safety_cues.yaml (format in docs/content.md).
"""
from __future__ import annotations

from dataclasses import dataclass

from knowledge.matcher import CueSet
from knowledge.words import Words

DANGER_FLOOR = 3.0
FRAME_FLOOR = 3.0


@dataclass(frozen=True)
class Danger:
    """What the safety net found: which kind of danger, and the words that said so."""

    kind: str
    why: tuple[str, ...]


class SafetyNet:
    def __init__(self, cues):
        self.message = cues.message
        self.dangers = CueSet.of({d.id: d.vocabulary for d in cues.dangers})
        self.frames = CueSet.of({"now": cues.now, "settled": cues.settled, "hypothetical": cues.hypothetical})

    def check(self, text: str) -> Danger | None:
        words = Words.of(text)
        found = self.dangers.score(words)
        if not found:
            return None
        kind, (points, why) = max(found.items(), key=lambda item: (item[1][0], item[0]))
        if points < DANGER_FLOOR:
            return None
        frame = {name: points for name, (points, _) in self.frames.score(words).items()}
        if frame.get("hypothetical", 0) >= FRAME_FLOOR:
            return None
        if frame.get("settled", 0) >= FRAME_FLOOR and frame.get("now", 0) < frame["settled"]:
            return None
        return Danger(kind, why)
