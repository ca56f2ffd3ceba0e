"""The matcher recognises what a practitioner describes, in their words, and says why."""
import io
import json
from pathlib import Path

import pytest

from bot.cli import main
from knowledge.evaluation import evaluate, evaluate_learning_points, read_labelled
from knowledge.matcher import STOPWORDS, theme_training
from knowledge.theme_model import Trained, fingerprint, shipped_is_current, trained_for
from knowledge.training import Training
from knowledge.words import Words

LABELLED = Path(__file__).parent / "data" / "themes_labelled.jsonl"

# One everyday sentence per theme, none using the textbook name of its theme.
EXAMPLES = {
    "lived_experience": "I've never actually spoken to her without mum in the room",
    "disguised_compliance": "mum says yes to everything at the meeting but nothing ever changes",
    "fathers_and_males": "mum's new boyfriend is always there when I visit but she says he doesn't live there",
    "stuck_cases": "we closed it, it came back three months later, and now we're starting again",
    "escalation": "I disagree with social care's decision to close the case and I'm not sure how to challenge it",
    "thresholds": "the referral was bounced back as not meeting threshold for social care",
    "information_sharing": "school knew about the injury but nobody told the health visitor",
    "cumulative_harm": "dad drinks, mum has depression and the police have been out for domestic incidents",
    "neglect": "the house smells, there's no food in the fridge and the kids have headlice again",
    "history_and_recording": "nobody had looked at the older siblings' history, there was no chronology",
    "plans_and_review": "the plan just says 'mum to engage with services', nothing about by when",
    "supervision_and_oversight": "I haven't had supervision in two months and my caseload is huge",
    "professional_curiosity": "she said the bruise came from the sofa and we just accepted it",
    "disability": "he is autistic and non-verbal so nobody has asked him how things are at home",
    "exploitation": "he keeps going missing and comes home with new trainers and a second phone",
}


@pytest.mark.parametrize("theme,text", EXAMPLES.items())
def test_each_theme_is_recognised_in_everyday_words(kb, theme, text):
    found = kb.matcher.match(text)
    assert theme in [t.id for t in found.themes[:3]], [t.id for t in found.themes]
    hit = next(t for t in found.themes if t.id == theme)
    said = " ".join(Words.of(text).raw)
    assert hit.why and all(why in said for why in hit.why), hit.why


def test_the_boyfriend_example_is_about_fathers_and_males_and_says_why(kb):
    found = kb.matcher.match(EXAMPLES["fathers_and_males"])
    assert found.themes[0].id == "fathers_and_males"
    assert any("boyfriend" in why for why in found.themes[0].why)
    assert found.learning_points, "should bring learning from the briefings"
    for hit in found.learning_points:
        assert kb.learning_points[hit.id].source == hit.source and hit.why


@pytest.mark.parametrize("text", [
    "The team meeting has moved to Thursday afternoon in the large room.",
    "Can you remind me how to reset my password for the laptop?",
    "The partnership publishes its annual report every autumn.",
])
def test_off_topic_text_gets_no_theme(kb, text):
    found = kb.matcher.match(text)
    assert found.themes == () and found.learning_points == ()


@pytest.mark.parametrize("text, theme", [
    ("not sure really", None), ("no idea", None), ("I am not sure", None), ("nothing really", None),
    ("no chronology", "history_and_recording"), ("mum drinks", "cumulative_harm"), ("he is deaf", "disability"),
])
def test_a_short_answer_gets_a_theme_only_from_a_cue(kb, text, theme):
    """Two or three words are too little for the classifiers alone: a shrug is not a theme."""
    themes = [t.id for t in kb.matcher.match(text).themes]
    assert themes[:1] == ([theme] if theme else [])


def test_a_concern_not_acted_on_brings_an_escalation_route(kb):
    found = kb.matcher.match("social care closed it and I'm still worried")
    assert found.escalation and found.escalation[0].id == "decision_disagree"
    assert found.escalation[0].start_stage in kb.stages
    assert kb.matcher.match("the family came to the review meeting").escalation == ()


def test_match_jsonl_answers_each_line_in_order(monkeypatch, capsys):
    lines = [{"text": EXAMPLES["neglect"]}, {"text": "what time is lunch"}, {"nope": 1},
             {"text": EXAMPLES["escalation"]}]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(json.dumps(l) for l in lines) + "\n"))
    assert main(["match", "--jsonl"]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(out) == 4
    assert out[0]["themes"][0]["id"] == "neglect" and 0 < out[0]["themes"][0]["score"] <= 1
    assert out[0]["learning_points"][0]["source"] and out[0]["learning_points"][0]["why"]
    assert out[1] == {"themes": [], "learning_points": [], "escalation": [], "immediate_risk": False}
    assert out[0]["immediate_risk"] is False
    assert "error" in out[2]
    assert out[3]["escalation"]


def test_match_prints_a_readable_answer(capsys):
    assert main(["match", EXAMPLES["fathers_and_males"]]) == 0
    out = capsys.readouterr().out
    assert "Fathers" in out and "Ask yourself:" in out and "Dudley" in out


def test_eval_figures_on_the_projects_own_labelled_set_stay_above_the_floor(kb):
    result = evaluate(kb.matcher, read_labelled(LABELLED))
    assert result.themed >= 15 * 10 and result.none_rows >= 20
    assert result.top1_accuracy >= FLOOR["top1"], result.as_text()
    assert result.top3_accuracy >= FLOOR["top3"], result.as_text()
    assert result.none_accuracy >= FLOOR["none"], result.as_text()


@pytest.mark.parametrize("name", ["themes_holdout.jsonl", "themes_holdout2.jsonl", "themes_published.jsonl"])
def test_hold_out_figures_do_not_fall(kb, name):
    """Regression guards only: the hold-outs are never tuned on, so a fall here means a change made
    the matcher worse at wording it has not seen."""
    result = evaluate(kb.matcher, read_labelled(LABELLED.parent / name))
    assert result.top1_accuracy >= 0.85 and result.top3_accuracy >= 0.94, result.as_text()
    assert result.none_accuracy >= (0.65 if name == "themes_published.jsonl" else 0.85), result.as_text()


def test_eval_command_prints_the_figures(capsys):
    assert main(["eval", str(LABELLED)]) == 0
    out = capsys.readouterr().out
    assert "top-1 theme accuracy" in out and "precision" in out and "ms" in out


FLOOR = {"top1": 0.90, "top3": 0.96, "none": 0.85}


def test_the_shipped_classifiers_were_trained_on_the_current_examples(kb):
    """Editing the examples or learning points without `reflectbot knowledge train` fails here."""
    assert kb.matcher.fingerprint == fingerprint(theme_training(kb))
    assert shipped_is_current(theme_training(kb))


def _small_training(kb, drop: int = 0) -> Training:
    """A few examples of three labels: quick to train on."""
    labelled = [(text, label) for label in ("neglect", "exploitation", "none")
                for text in kb.examples[label][drop:drop + 25]]
    return Training(tuple(labelled), STOPWORDS)


def test_training_is_repeatable_and_saved_classifiers_read_back_the_same(kb, tmp_path):
    first, again = Trained.learn(_small_training(kb)), Trained.learn(_small_training(kb))
    assert (first.model.weights == again.model.weights).all() and first.fingerprint == again.fingerprint
    first.save(tmp_path / "model.npz")
    read = Trained.read(tmp_path / "model.npz")
    text = Words.of("he keeps going missing and has a new phone")
    chances, found = read.classifier.posterior(text)
    assert found and (chances, found) == first.classifier.posterior(text)
    assert read.model.posterior(found) == first.model.posterior(found)
    assert max(chances, key=chances.get) == max(read.model.posterior(found), key=read.model.posterior(found).get) \
        == "exploitation"


def test_classifiers_learnt_from_other_examples_are_not_used(kb, tmp_path, caplog):
    """A stale shipped file (the examples changed since it was trained) is replaced by classifiers
    learnt now, and the log says so without quoting any text."""
    Trained.learn(_small_training(kb, drop=5)).save(tmp_path / "model.npz")
    current = _small_training(kb)
    assert not shipped_is_current(current, tmp_path / "model.npz")
    assert Trained.read(tmp_path / "model.npz", expected=fingerprint(current)) is None
    with caplog.at_level("WARNING"):
        trained = trained_for(current, tmp_path / "model.npz")
    assert trained.fingerprint == fingerprint(current) and trained.classifier.documents.sum() == 75
    assert "reflectbot knowledge train" in caplog.text and kb.examples["neglect"][0] not in caplog.text
    assert trained_for(current, tmp_path / "missing.npz").fingerprint == fingerprint(current)


def test_every_theme_reported_says_which_words_led_to_it(kb):
    for row in read_labelled(LABELLED):
        said = f' {" ".join(Words.of(row["text"]).raw)} '
        for hit in kb.matcher.match(row["text"]).themes:
            assert hit.why, (hit.id, row["themes"])
            assert all(f" {words} " in said for words in hit.why), (hit.id, hit.why)


def test_the_themes_of_the_learning_points_are_found_without_learning_from_them(kb):
    """The learning points paraphrase real briefings; learnt from the examples alone, the matcher
    must still rank one of each point's themes in its first three for most of them."""
    result = evaluate_learning_points(kb)
    assert result.themed == len(kb.learning_points)
    assert result.top3_accuracy >= 0.80 and result.top1_accuracy >= 0.70, result.as_text()
    assert kb.matcher.fingerprint == fingerprint(theme_training(kb))  # the shipped matcher is untouched
