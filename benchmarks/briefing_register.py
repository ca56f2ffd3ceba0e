"""How well the matcher ranks themes in the register of published briefings, measured on text it has
never learnt from: the learning points themselves.

    .venv/bin/python benchmarks/briefing_register.py

The learning points are the project's own close paraphrases of five real audit briefings, each
labelled with one or more themes. Here both classifiers are trained without them (on the examples
only, about 3 s), then each learning point's text is matched: a hit is one of its themes ranked first
/ in the first three. Many learning points are general statements of good practice, so some are
given no theme at all; the count is shown.

Our example sentences and hold-outs are written for the project and read more plainly than real
reviews; this is the nearest measure we have of real review prose that is ours to tune on.
"""
from knowledge.base import load_knowledge
from knowledge.evaluation import evaluate_learning_points

if __name__ == "__main__":
    print(evaluate_learning_points(load_knowledge()).as_text())
