"""Plain-text rendering of matcher results for the command line."""
from __future__ import annotations

from knowledge.matcher import Match


def match_as_text(kb, match: Match) -> str:
    if not match.themes and not match.escalation:
        return "No practice theme recognised in that text."
    lines = []
    if match.themes:
        lines.append("Themes")
        for rank, hit in enumerate(match.themes, 1):
            words = ", ".join(f'"{w}"' for w in hit.why[:4]) or "the wording as a whole"
            lines.append(f"  {rank}. {kb.themes[hit.id].name} ({hit.score:.2f}), from {words}")
    if match.learning_points:
        lines += ["", "Learning from local audits"]
        for hit in match.learning_points:
            lp = kb.learning_points[hit.id]
            source = kb.sources[lp.source]
            lines.append(f"  - {lp.text}")
            lines.append(f"    {source.organisation}, {source.date_text} [{lp.id}]")
            lines.append(f"    Ask yourself: {lp.question}")
            lines.append(f"    Why: {hit.why}")
    if match.escalation:
        lines += ["", "Escalation"]
        stages = kb.stages
        for hit in match.escalation:
            stage = stages[hit.start_stage]
            lines.append(f"  - {hit.label} (from {', '.join(repr(w) for w in hit.why[:3])})")
            lines.append(f"    Start at stage {stage.number}: {stage.title}. {stage.timescale}.")
        lines.append("  See `reflectbot chat` and choose escalation for the whole route.")
    return "\n".join(lines)
