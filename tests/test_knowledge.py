"""The knowledge base: every content file loads, nothing in the briefings is left out, and a broken
file is reported by file, entry and field."""
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from knowledge.base import CONTENT_DIR, check_knowledge
from knowledge.schema import THEME_IDS

# Items per section, counted by hand in each briefing (shared/seeds): one learning point per bullet,
# numbered recommendation, or finding stated in prose.
BRIEFING_COUNTS = {
    "dudley-2017": {"emerging-themes": 8, "key-messages": 7, "managers": 6, "learning-points": 8,
                    "practitioners": 9, "reminder": 4},
    "leicester-2017": {"methodology": 2, "good-practice": 6, "key-findings": 12, "learning-points": 3,
                       "recommendations": 7},
    "warrington-2020": {"what-worked-well": 2, "concerns": 5, "recommendations": 6},
    "bracknell-forest-2016": {"families-say": 6, "thresholds": 5, "lead-professional": 4,
                              "revolving-door": 3, "de-escalation": 4, "relapse": 1, "conclusions": 9,
                              "recommendations": 8, "what-now": 6},
    "redbridge-2016-17": {"early-years-findings": 8, "early-years-learning": 4, "disability-overview": 2,
                          "disability-findings": 5, "disability-learning": 9, "cse-findings": 12,
                          "cse-learning": 5, "multiple-needs-findings": 9, "multiple-needs-learning": 7},
}
# Sections whose learning is stated in prose: their bullets (if any) list something else.
PROSE_SECTIONS = {("leicester-2017", "methodology")}
SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def test_every_required_theme_has_a_name_description_and_vocabulary(kb):
    assert set(THEME_IDS) <= set(kb.themes)
    for theme in kb.themes.values():
        assert theme.name and theme.description
        assert len(theme.vocabulary.strong) >= 5, theme.id


def test_one_source_per_briefing_with_its_procedures(kb):
    assert set(kb.sources) == set(BRIEFING_COUNTS)
    for source in kb.sources.values():
        assert source.organisation and source.focus and source.date.year in range(2016, 2021)
        assert source.procedures, f"{source.id} names no local procedure"


def test_learning_points_cover_every_section_of_every_briefing(kb):
    counted = Counter((lp.source, lp.section) for lp in kb.learning_points.values())
    expected = {(source, section): n for source, sections in BRIEFING_COUNTS.items()
                for section, n in sections.items()}
    assert dict(counted) == expected
    assert 120 <= len(kb.learning_points) <= 200


def test_learning_points_have_themes_question_and_kind(kb):
    kinds = Counter(lp.kind for lp in kb.learning_points.values())
    assert {"finding", "key_message", "learning_point", "recommendation", "family_voice"} <= set(kinds)
    for lp in kb.learning_points.values():
        assert lp.question.endswith("?"), lp.id
        assert lp.id.startswith(f"{lp.source}.{lp.section}.")


@pytest.mark.skipif(not SEEDS.exists(), reason="the source briefings are not beside this checkout")
def test_bulleted_sections_match_the_briefing_text(kb):
    """Where a section heading stands on its own line in a briefing, count its bullets there too."""
    files = {line.split("|")[2].strip(): line.split("|")[1].strip()
             for line in (SEEDS / "README.md").read_text().splitlines() if line.startswith("| 00")}
    checked = 0
    for source, sections in BRIEFING_COUNTS.items():
        lines = (SEEDS / files[source]).read_text(encoding="utf-8").splitlines()
        headings = {s["key"]: s["heading"] for s in yaml.safe_load(
            (CONTENT_DIR / "learning_points" / f"{source}.yaml").read_text())["sections"]}
        for key, heading in headings.items():
            if (source, key) in PROSE_SECTIONS:
                continue
            at = [i for i, line in enumerate(lines) if line.strip("#* ").strip() == heading]
            if len(at) != 1:
                continue
            bullets = 0
            for line in lines[at[0] + 1:]:
                if line.startswith("#") or (line.strip() and not re.match(r"\s*([-*\u2713\u2022]|\d+\.)\s", line)
                                            and bullets):
                    break
                bullets += bool(re.match(r"\s*([-*\u2022]|\d+\.)\s", line))
            if bullets:
                assert bullets == sections[key], f"{source} {heading}"
                checked += 1
    assert checked >= 5


def test_escalation_routes_cover_every_stage_with_what_who_when_and_record(kb):
    stages = sorted(kb.escalation.stages, key=lambda s: s.number)
    assert [s.id for s in stages] == ["practitioner", "manager", "senior", "partnership"]
    for stage in stages:
        assert stage.who and stage.what_to_do and stage.what_to_record and stage.timescale and stage.if_no_answer
    assert "999" in kb.escalation.immediate_risk.message
    assert "Working Together" in kb.escalation.partnerships_note
    assert {a for a in kb.areas} >= {"dudley", "leicester", "warrington", "bracknell-forest", "redbridge",
                                      "generic"}


@pytest.fixture
def broken_content(tmp_path):
    folder = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, folder)
    return folder


def _edit(path: Path, change):
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_a_broken_learning_point_is_named_by_file_entry_and_field(broken_content, capsys):
    path = broken_content / "learning_points" / "dudley-2017.yaml"

    def spoil(data):
        data["learning_points"][0]["themes"] = ["neglct"]
        del data["learning_points"][1]["question"]
        data["learning_points"][3]["id"] = data["learning_points"][2]["id"]

    _edit(path, spoil)
    kb, problems = check_knowledge(broken_content)
    said = [str(p) for p in problems]
    assert kb is None
    assert any("learning_points/dudley-2017.yaml: dudley-2017.emerging-themes.1 / themes[0]: unknown theme 'neglct'"
               in s for s in said), said
    assert any("dudley-2017.emerging-themes.2 / question: missing" in s for s in said), said
    assert any("dudley-2017.emerging-themes.3 / id: duplicate id" in s for s in said), said

    assert main(["knowledge", "check", "--content", str(broken_content)]) == 1
    assert "unknown theme 'neglct'" in capsys.readouterr().out


def test_dangling_references_and_bad_yaml_are_reported(broken_content):
    _edit(broken_content / "escalation.yaml",
          lambda d: d["situations"][0].update(start_stage="ombudsman"))
    (broken_content / "areas" / "dudley.yaml").write_text("id: dudley\nname: [unclosed\n")
    _, problems = check_knowledge(broken_content)
    said = [str(p) for p in problems]
    assert any("escalation.yaml: decision_disagree / start_stage: unknown stage 'ombudsman'" in s for s in said)
    assert any("areas/dudley.yaml" in s and "not valid YAML" in s for s in said)


def test_knowledge_check_passes_on_the_shipped_content(capsys):
    assert main(["knowledge", "check"]) == 0
    assert "All content is valid" in capsys.readouterr().out


def test_knowledge_check_says_when_the_theme_model_is_out_of_date(kb, tmp_path, monkeypatch, capsys):
    from knowledge import theme_model
    from knowledge.matcher import STOPWORDS
    from knowledge.training import Training

    stale = theme_model.Trained.learn(Training(tuple([(t, "neglect") for t in kb.examples["neglect"][:20]]
                                                     + [(t, "none") for t in kb.examples["none"][:20]]), STOPWORDS))
    stale.save(tmp_path / "themes.npz")
    monkeypatch.setattr(theme_model, "MODEL_FILE", tmp_path / "themes.npz")
    assert main(["knowledge", "check"]) == 1
    out = capsys.readouterr().out
    assert "knowledge/trained/themes.npz: fingerprint: out of date" in out
    assert "reflectbot knowledge train" in out
