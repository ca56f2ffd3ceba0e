"""Every reflection dialogue walked through the service as a practitioner would, with the store."""
import io
import json
import shutil

import pytest
import yaml

from bot.console import chat_jsonl
from bot.service import Service
from bot.store import Answer, Run, Store
from dialogues.engine import Event, match_rows
from dialogues.script import SCRIPTS_DIR, check_scripts, diagram, load_scripts

DIALOGUES = ["lived_experience", "disguised_compliance", "fathers_and_males", "stuck_cases"]

# What a practitioner might type at a free-text step, per dialogue.
ANSWERS = {
    "lived_experience": "I've never seen him on his own, mum is always in the room and does the talking",
    "disguised_compliance": "mum agrees to everything at the meeting but nothing changes and she cancels visits",
    "fathers_and_males": "mum's new boyfriend is always there when I visit but she says he doesn't live there",
    "stuck_cases": "the case has been open two years, closed and re-referred three times, nothing has changed",
}


def say(service, user, **event):
    return service.handle(Event(user, **event))


def walk(service, user, dialogue, choose=lambda reply: reply.options[0].value, limit=40):
    """Answer every step of `dialogue` and return all replies, the last being the summary."""
    replies = say(service, user, choice=f"reflect:{dialogue}")
    seen = list(replies)
    for _ in range(limit):
        last = replies[-1]
        if last.documents:
            return seen
        if last.expects == "text":
            replies = say(service, user, text=ANSWERS[dialogue])
        elif last.expects == "scale":
            replies = say(service, user, choice="3")
        else:
            replies = say(service, user, choice=choose(last))
        seen += replies
    raise AssertionError(f"{dialogue} did not finish in {limit} answers")


@pytest.mark.parametrize("dialogue", DIALOGUES)
def test_each_dialogue_runs_to_a_summary_naming_learning_and_its_source(service, kb, dialogue):
    replies = walk(service, "console:amy", dialogue)
    summary = replies[-1]
    steps = [r for r in replies if r.progress]
    assert 6 <= len(steps) <= 14
    assert steps[0].progress.startswith("Step 1 of ")
    assert summary.documents[0].filename.endswith(".txt") and summary.documents[0].data.decode() == summary.text
    assert ANSWERS[dialogue] in summary.text
    assert "Learning from local audits" in summary.text
    assert any(source.organisation in summary.text for source in kb.sources.values())
    questions = summary.text.split("Questions to take into supervision")[1].split("\n\n")[0]
    assert 3 <= questions.count("\n- ") <= 4


def test_a_branch_follows_the_answer(service):
    say(service, "console:bo", choice="reflect:lived_experience")
    say(service, "console:bo", text="a day at nursery then home")
    after_no = say(service, "console:bo", choice="no")
    assert "get in the way" in after_no[-1].text.lower() or "what" in after_no[-1].text.lower()
    say(service, "console:cy", choice="reflect:lived_experience")
    say(service, "console:cy", text="a day at nursery then home")
    after_yes = say(service, "console:cy", choice="yes")
    assert after_yes[-1].text != after_no[-1].text


def test_back_skip_where_help_and_stop(service, db_url):
    user = "console:dee"
    first = say(service, user, choice="reflect:disguised_compliance")[-1]
    second = say(service, user, text="she agreed to take him to the dentist")[-1]
    assert second.progress.startswith("Step 2")
    back = say(service, user, command="back")
    assert "she agreed to take him to the dentist" in back[0].text
    assert back[-1].text == first.text
    say(service, user, text="she agreed to take him to the dentist and to nursery")
    skipped = say(service, user, command="skip")
    assert skipped[0].text == "Skipped." and skipped[-1].progress.startswith("Step 3")
    assert "step 3 of" in say(service, user, command="where")[0].text
    assert "/back" in say(service, user, command="help")[0].text
    stopped = say(service, user, command="stop")
    assert stopped[-1].documents
    assert "she agreed to take him to the dentist and to nursery" in stopped[-1].text
    assert say(service, user, command="skip")[0].text == service.say.no_active_run
    with service.store.transaction() as session:  # the second answer replaced the first, matches and all
        stored = [(a.step, a.value, a.matched) for a in session.query(Answer)]
    assert len(stored) == 1 and stored[0][1] == "she agreed to take him to the dentist and to nursery"
    assert stored[0][2] == [list(row) for row in match_rows(service.engine.kb.matcher.match(stored[0][1]))]


def test_unexpected_input_is_reprompted_with_a_hint(service):
    user = "console:eve"
    say(service, user, choice="reflect:disguised_compliance")
    say(service, user, text="plan agreed")
    visits = say(service, user, text="things are better")[-1]
    assert visits.expects == "choice"
    wrong = say(service, user, text="sometimes")
    assert wrong[0].alert and "options" in wrong[0].text and wrong[-1].text == visits.text
    assert say(service, user, text="")[-1].text == visits.text
    # the 0-10 scale refuses 11 and words it cannot read, then takes "7/10"
    reply = say(service, user, text="1")[-1]
    while reply.expects != "scale":
        reply = say(service, user, **({"text": "something"} if reply.expects == "text" else {"choice": "no"}))[-1]
    assert "0 to 10" in say(service, user, text="11")[0].text
    assert "0 to 10" in say(service, user, text="pretty sure")[0].text
    follow_up = say(service, user, text="7/10")[-1]
    assert "7" in follow_up.text and "not lower" in follow_up.text


def test_stale_or_forged_buttons_get_an_explanation(service):
    user = "console:fay"
    menu = say(service, user, command="start")[-1]
    started = service.handle(Event(user, choice="reflect:fathers_and_males"), context=menu.context)
    assert started[-1].progress.startswith("Step 1")
    again = service.handle(Event(user, choice="reflect:stuck_cases"), context=menu.context)
    assert again[0].text == service.say.stale_choice
    assert say(service, user, choice="not-a-real-option")[0].alert


def test_a_restart_resumes_at_the_same_step_with_every_answer(engine, db_url):
    first = Service(Store(db_url), engine)
    user = "console:gus"
    say(first, user, choice="reflect:fathers_and_males")
    say(first, user, text="dad, mum's partner and an uncle who visits")
    where = say(first, user, text="dad seen once, partner never")[-1]
    first.store.close()

    second = Service(Store(db_url), engine)
    resumed = say(second, user, command="start")
    assert resumed[-1].text == where.text and resumed[-1].progress == where.progress
    with second.store.transaction() as session:
        run = session.query(Run).one()
        assert run.status == "active"
        values = [a.value for a in session.query(Answer).order_by(Answer.id)]
    assert "dad, mum's partner and an uncle who visits" in values
    second.store.close()


def test_answers_and_their_matches_are_stored(service):
    user = "console:hal"
    say(service, user, choice="reflect:fathers_and_males")
    say(service, user, text=ANSWERS["fathers_and_males"])
    with service.store.transaction() as session:
        answer = session.query(Answer).one()
        kinds = {(kind, ref) for kind, ref, _ in answer.matched}
    assert ("theme", "fathers_and_males") in kinds
    assert any(kind == "learning_point" for kind, _ in kinds)


def test_history_and_summary_resend(service):
    user = "console:ivy"
    summary = walk(service, user, "stuck_cases")[-1]
    history = say(service, user, command="history")[0].text
    assert "1." in history and "Stuck" in history or "stuck" in history.lower()
    again = say(service, user, command="summary", text="1")[0]
    assert again.text == summary.text and again.documents
    assert "can't find" in say(service, user, command="summary", text="9")[0].text


def test_not_sure_where_to_start_suggests_a_dialogue_and_why(service):
    user = "console:jo"
    assert "few lines" in say(service, user, choice="reflect:opening")[0].text
    reply = say(service, user, text="mum's new boyfriend is always there when I visit but she says "
                                    "he doesn't live there")[0]
    assert reply.options[0].value == "reflect:fathers_and_males"
    assert "boyfriend" in reply.text


def test_two_users_runs_never_mix(service):
    say(service, "console:kim", choice="reflect:stuck_cases")
    say(service, "console:lee", choice="reflect:lived_experience")
    kim = say(service, "console:kim", command="where")[0].text
    lee = say(service, "console:lee", command="where")[0].text
    assert "Stuck" in kim or "stuck" in kim.lower()
    assert "lived" in lee.lower()


def test_console_chat_speaks_json_lines(service):
    lines = [{"command": "start"}, {"choice": "reflect:disguised_compliance"},
             {"text": "agreed to take the children to school"}, {"command": "where"}, "not json"]
    stdin = io.StringIO("\n".join(json.dumps(l) if isinstance(l, dict) else l for l in lines) + "\n")
    out = io.StringIO()
    chat_jsonl(service, "mo", stdin, out)
    replies = [json.loads(line) for line in out.getvalue().splitlines()]
    assert replies[1]["expects"] == "choice" and replies[1]["options"][0]["value"].startswith("reflect:")
    step_two = [r for r in replies if r.get("progress") == "Step 2 of 9"]
    assert step_two and step_two[0]["expects"] == "text"
    assert "error" in replies[-1]


@pytest.fixture
def scripts_copy(tmp_path):
    folder = tmp_path / "scripts"
    shutil.copytree(SCRIPTS_DIR, folder)
    return folder


def test_a_broken_script_is_named_by_file_and_step(kb, scripts_copy):
    path = scripts_copy / "stuck_cases.yaml"
    data = yaml.safe_load(path.read_text())
    data["steps"][0]["next"] = "nowhere"
    data["steps"][1]["themes"] = ["astrology"]
    del data["steps"][2]["prompt"]
    data["steps"].append({"id": "orphan", "kind": "text", "prompt": "Nobody gets here"})
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    _, problems = check_scripts(kb, scripts_copy)
    said = [str(p) for p in problems]
    first, second, third = (s["id"] for s in data["steps"][:3])
    assert any(f"stuck_cases.yaml: {first} / next: goes to unknown step 'nowhere'" in s for s in said), said
    assert any(f"{second} / themes[0]: unknown theme 'astrology'" in s for s in said), said
    assert any(f"{third} / prompt: missing" in s for s in said), said


def test_an_unreachable_step_is_reported(kb, scripts_copy):
    path = scripts_copy / "stuck_cases.yaml"
    data = yaml.safe_load(path.read_text())
    data["steps"][-1]["next"] = "end"
    data["steps"].append({"id": "orphan", "kind": "text", "prompt": "Nobody gets here"})
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    _, problems = check_scripts(kb, scripts_copy)
    assert [str(p) for p in problems] == [f"{path.as_posix()}: orphan: unreachable: no step leads here"]


def test_diagram_shows_every_step_and_branch():
    compiled = load_scripts()["lived_experience"]
    picture = diagram(compiled.script)
    assert picture.startswith("---") and "stateDiagram-v2" in picture
    for step in compiled.script.steps:
        assert step.id in picture
    assert "seen_alone in no/not_sure" in picture or "in no" in picture


def test_a_run_whose_script_changed_is_closed_kindly(service):
    user = "console:nat"
    say(service, user, choice="reflect:stuck_cases")
    with service.store.transaction() as session:
        session.query(Run).one().state = "a_step_that_was_removed"
    replies = say(service, user, command="start")
    assert replies[0].text == service.say.script_changed
    assert replies[-1].options[0].value.startswith("reflect:")


def test_skipping_an_answered_step_withdraws_its_answer(service):
    user = "console:fay"
    say(service, user, choice="reflect:disguised_compliance")
    say(service, user, text="she agreed to weekly visits")
    say(service, user, command="back")
    say(service, user, command="skip")
    with service.store.transaction() as session:
        assert session.query(Answer).count() == 0
    summary = say(service, user, command="stop")[-1].text
    assert "she agreed to weekly visits" not in summary
