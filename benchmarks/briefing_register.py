"""How well the matcher ranks themes in the register of published briefings, measured on text it has
never learnt from: the learning points themselves.

    .venv/bin/python benchmarks/briefing_register.py

The learning points are the project's own close paraphrases of five real audit briefings, each
labelled with one or more themes. Here the classifiers are trained without them (on the examples
only), then each learning point's text is matched. A hit is one of its themes ranked first / in the
first three. Every learning point is about some theme, so the off-topic rule is reported apart:
`given no theme` counts the points the matcher would have called off-topic.

Our example sentences and hold-outs are written for the project and read more plainly than real
reviews; this is the nearest measure we have of real review prose that is ours to tune on.
"""
import dataclasses
import logging

from knowledge.base import load_knowledge
from knowledge.matcher import Matcher


def main() -> None:
    logging.disable(logging.WARNING)  # the model is trained here on purpose: no stale-model warning
    kb = load_knowledge()
    without = dataclasses.replace(kb, learning_points={}, _matcher=None)
    matcher = Matcher(without)
    top1 = top3 = empty = 0
    for lp in kb.learning_points.values():
        ranked = [t.id for t in matcher.match(lp.text).themes]
        top1 += bool(ranked) and ranked[0] in lp.themes
        top3 += any(t in lp.themes for t in ranked[:3])
        empty += not ranked
    n = len(kb.learning_points)
    print(f"learning points: {n} (classifiers trained on {len(matcher.training.documents)} examples only)")
    print(f"top-1 theme accuracy: {top1 / n:.1%} ({top1}/{n})")
    print(f"top-3 theme accuracy: {top3 / n:.1%} ({top3}/{n})")
    print(f"given no theme: {empty / n:.1%} ({empty}/{n})")


if __name__ == "__main__":
    main()
