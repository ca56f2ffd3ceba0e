"""Manager-led guided case reviews: the review itself, SMART actions and dates, the PDF and DOCX
reports read back, and the emerging-themes report across reviews."""
import datetime as dt
import io

import pytest
from docx import Document as Docx
from pypdf import PdfReader

from bot.emerging_themes import emerging_themes
from bot.store import Run
from dialogues.dates import read_date
from dialogues.engine import Event

DISGUISED = "mum says yes to everything at the meetings but nothing changes for the children"
FATHERS = "mum's new boyfriend lives there but has never been seen, checked or spoken to by anyone"
NEGLECT = "the house is filthy, there is no food in the fridge and the children have headlice"
PLAIN = "the plan was reviewed on time and actions were completed"


def say(service, user, **event):
    return service.handle(Event(user, **event))


def manager(service, user):
    say(service, user, command="start")
    with service.store.transaction() as session:
        service.store.find_user(session, user).role = "manager"


def walk_review(service, user, evidence=lambda domain: PLAIN, grade="requires_improvement", actions=("voice",)):
    """A whole review: every domain graded with evidence; an action for the domains in `actions`."""
    reply = say(service, user, command="review")[-1]
    say(service, user, text="JB-2291")
    reply = say(service, user, text="school, health visitor, children's social care")[-1]
    for domain in service.engine.kb.review.domains:
        assert domain.title in reply.text
        say(service, user, choice=grade)
        say(service, user, text=evidence(domain.id))
        if domain.id in actions:
            say(service, user, choice="yes")
            say(service, user, text=f"Allocated worker to see the child alone at school and record their words ({domain.id})")
            say(service, user, text="allocated social worker")
            say(service, user, text="in 2 weeks")
            reply = say(service, user, text="the child's own words are on file")[-1]
        else:
            reply = say(service, user, choice="no")[-1]
    return reply


def test_a_review_end_to_end_gives_the_grid_findings_learning_and_actions(service, kb):
    manager(service, "console:meg")
    report = walk_review(service, "console:meg", evidence=lambda d: FATHERS if d == "fathers" else PLAIN,
                         actions=("voice", "plan"))
    assert report.text.startswith("Case review: JB-2291")
    for domain in kb.review.domains:
        assert f"- {domain.title}: Requires improvement" in report.text
    assert "Learning:" in report.text and any(s.organisation in report.text for s in kb.sources.values())
    due = (dt.date.today() + dt.timedelta(days=14)).strftime("%-d %B %Y")
    assert report.text.count(f"By: {due}") == 2
    names = [d.filename for d in report.documents]
    assert names[0].endswith(".pdf") and names[1].endswith(".docx")

    pdf = "".join(page.extract_text() for page in PdfReader(io.BytesIO(report.documents[0].data)).pages)
    flat = " ".join(pdf.split())
    for domain in kb.review.domains:
        assert domain.title in flat
    assert flat.count("Requires improvement") >= len(kb.review.domains)
    assert "(voice)" in flat and "(plan)" in flat and due in flat

    docx = Docx(io.BytesIO(report.documents[1].data))
    grid, actions = docx.tables
    assert [row.cells[1].text for row in grid.rows] == ["Requires improvement"] * len(kb.review.domains)
    assert [row.cells[2].text for row in actions.rows[1:]] == [due, due]
    assert "the child's own words are on file" in actions.rows[1].cells[3].text

    listed = say(service, "console:meg", command="reviews")[0]
    assert "JB-2291" in listed.text
    again = say(service, "console:meg", command="reviews", text="1")[0]
    assert again.text == report.text and len(again.documents) == 2


def test_a_vague_action_is_challenged_once_and_past_dates_are_refused(service):
    manager(service, "console:ned")
    say(service, "console:ned", command="review")
    say(service, "console:ned", text="AB/123")
    say(service, "console:ned", text="school")
    say(service, "console:ned", choice="inadequate")
    say(service, "console:ned", text="child not seen alone")
    say(service, "console:ned", choice="yes")
    challenge = say(service, "console:ned", text="continue to monitor")[0]
    assert "what will be different for the child" in challenge.text.lower()
    assert "Who will do it" in say(service, "console:ned", text="monitor")[-1].text, "challenged only once"
    say(service, "console:ned", text="DSL")
    past = say(service, "console:ned", text="31/1/20")
    assert "already gone" in past[0].text
    assert "give a date" in say(service, "console:ned", text="sometime soon")[0].text
    assert "How will we know" in say(service, "console:ned", text="end of Feb")[-1].text


@pytest.mark.parametrize("typed,expected", [
    ("31/1/27", dt.date(2027, 1, 31)), ("end of Feb", dt.date(2027, 2, 28)), ("in 2 weeks", dt.date(2026, 12, 6)),
    ("by 15 March", dt.date(2027, 3, 15)), ("next Friday", dt.date(2026, 11, 27)),
    ("end of the month", dt.date(2026, 11, 30)), ("1st December 2026", dt.date(2026, 12, 1)),
    ("soon", None), ("whenever", None),
])
def test_dates_are_understood_as_people_type_them(typed, expected):
    assert read_date(typed, dt.date(2026, 11, 22)) == expected


def test_reviews_are_for_managers_pause_and_resume_and_never_mix(service):
    assert "for managers" in say(service, "console:pip", command="review")[0].text
    assert "for managers" in say(service, "console:pip", choice="reflect:case_review")[0].text
    manager(service, "console:ann")
    manager(service, "console:bob")
    say(service, "console:ann", command="review")
    say(service, "console:ann", text="KM-1")
    say(service, "console:bob", command="review")
    say(service, "console:bob", text="TR-2")
    assert "paused" in say(service, "console:ann", command="stop")[0].text
    say(service, "console:ann", choice="reflect:stuck_cases")  # a reflection in between
    resumed = say(service, "console:ann", command="review")
    assert "agencies" in resumed[-1].text.lower()
    say(service, "console:ann", text="school")
    with service.store.transaction() as session:
        for run in session.query(Run).filter(Run.dialogue_id == "case_review"):
            reference = next(a.value for a in run.answers if a.step == "reference")
            assert reference == ("KM-1" if run.user.key == "console:ann" else "TR-2")


def test_the_emerging_themes_report_gives_exact_shares_and_a_chart(service, kb):
    manager(service, "console:kay")
    plans = {  # review number -> the evidence written for the fathers and history domains
        1: (FATHERS, NEGLECT), 2: (FATHERS, PLAIN), 3: (FATHERS, PLAIN), 4: (PLAIN, PLAIN), 5: (PLAIN, PLAIN)}
    for number, (fathers, history) in plans.items():
        walk_review(service, "console:kay", actions=(),
                    evidence=lambda d, f=fathers, h=history: DISGUISED if d == "curiosity" else
                    f if d == "fathers" else h if d == "history" else PLAIN,
                    grade="good" if number <= 2 else "inadequate")
    with service.store.transaction() as session:
        figures = emerging_themes(session, dt.date.today() - dt.timedelta(days=1))
    assert figures.cases == 5
    assert figures.share("disguised_compliance") == 100.0
    assert figures.share("fathers_and_males") == 60.0
    assert figures.share("neglect") == 20.0
    assert figures.grades["voice"] == {"good": 2, "inadequate": 3}

    reply = say(service, "console:kay", command="themes", text=(dt.date.today() - dt.timedelta(days=1)).isoformat())[0]
    assert f"{kb.themes['disguised_compliance'].name}: 100% (5 of 5)" in reply.text
    assert f"{kb.themes['fathers_and_males'].name}: 60% (3 of 5)" in reply.text
    assert f"{kb.themes['neglect'].name}: 20% (1 of 5)" in reply.text
    assert "Good 2, Inadequate 3" in reply.text
    chart = reply.documents[0]
    assert chart.filename.endswith(".png") and chart.data.startswith(b"\x89PNG")
    for forbidden in ("JB-2291", "headlice", "boyfriend"):
        assert forbidden not in reply.text, "counts only, never case text"


def test_no_figure_from_fewer_than_the_minimum_of_cases(service):
    manager(service, "console:lou")
    walk_review(service, "console:lou", actions=())
    reply = say(service, "console:lou", command="themes")[0]
    assert "Not enough case reviews" in reply.text and not reply.documents


def test_themes_command_line_report(service, capsys, monkeypatch, db_url):
    from bot.cli import main

    manager(service, "console:mo")
    for _ in range(3):
        walk_review(service, "console:mo", actions=(), evidence=lambda d: DISGUISED if d == "curiosity" else PLAIN)
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["report", "themes", "--since", (dt.date.today() - dt.timedelta(days=1)).isoformat()]) == 0
    assert "100% (3 of 3)" in capsys.readouterr().out
