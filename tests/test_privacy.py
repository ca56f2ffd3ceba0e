"""Privacy: what is kept is redacted and encrypted, erasure and export work, strangers leave only a
counter, logs carry no text, and random input never breaks the service or leaks an identifier."""
import datetime as dt
import json
import logging
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.enrolment import create_invite
from bot.redaction import redact
from bot.retention import purge
from bot.service import Service, clean
from bot.store import Answer, Run, Store, Stranger, User, utcnow
from dialogues.engine import Event

SECRET_ANSWERS = [
    "Ziggurat-7 the family keep a very particular routine at weekends",
    "Quasimodo-3 mum cancels every visit the week after court",
    "Marmalade-9 the baby is never seen awake at home",
]


def say(service, user, **event):
    return service.handle(Event(user, **event))


def test_the_database_file_holds_no_readable_answer_text(engine, tmp_path):
    path = tmp_path / "bot.db"
    service = Service(Store(f"sqlite:///{path}"), engine)
    say(service, "console:ray", choice="reflect:disguised_compliance")
    say(service, "console:ray", text=SECRET_ANSWERS[0])
    say(service, "console:ray", text=SECRET_ANSWERS[1])
    say(service, "console:ray", choice="as_planned")
    say(service, "console:ray", text=SECRET_ANSWERS[2])
    say(service, "console:ray", command="stop")
    with service.store.transaction() as session:  # readable through the service
        assert {a.value for a in session.query(Answer)} == set(SECRET_ANSWERS) | {"as_planned"}
    service.store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("bot.db"))
    for answer in SECRET_ANSWERS:
        for fragment in (answer, answer.split()[0], "particular routine", "never seen awake"):
            assert fragment.encode() not in raw, fragment


def test_identifiers_are_redacted_before_storage_and_the_user_is_told_once(service):
    user = "console:sue"
    say(service, user, choice="reflect:disguised_compliance")
    first = say(service, user, text="mum's partner Darren Smith lives at 14 Elm Road, B12 9QA, call 07700 900123")
    assert "[name]" in first[0].text and "initials or roles" in first[0].text
    second = say(service, user, text="Darren has been seen once; his NHS number is 943 476 5919")
    assert "initials or roles" not in second[0].text, "told once per run"
    with service.store.transaction() as session:
        values = " ".join(a.value for a in session.query(Answer))
    for identifier in ("Darren", "Smith", "Elm Road", "B12 9QA", "07700", "943 476 5919"):
        assert identifier not in values
    assert "[postcode]" in values and "[NHS number]" in values


def test_forget_deletes_everything_after_confirmation_even_mid_dialogue(service):
    user = "console:tom"
    say(service, user, choice="reflect:stuck_cases")
    say(service, user, choice="over_year")
    question = say(service, user, command="forget")[0]
    assert [o.value for o in question.options] == ["forget:yes", "forget:no"]
    assert say(service, user, choice="forget:no")[0].text == service.say.forget_kept
    say(service, user, command="forget")
    assert say(service, user, choice="forget:yes")[0].text == service.say.forget_done
    with service.store.transaction() as session:
        assert session.query(User).count() == 0 and session.query(Run).count() == 0


def test_export_sends_everything_held_as_a_file(service):
    user = "console:uma"
    say(service, user, choice="reflect:lived_experience")
    say(service, user, text="up at six, nursery, home with mum")
    reply = say(service, user, command="export")[0]
    data = json.loads(reply.documents[0].data)
    assert data["reflections"][0]["answers"][0]["answer"] == "up at six, nursery, home with mum"
    assert data["user"]["role"] == "practitioner"


def test_retention_purge_deletes_old_reflections_only(service):
    say(service, "console:vic", choice="reflect:lived_experience")
    say(service, "console:wyn", choice="reflect:stuck_cases")
    with service.store.transaction() as session:
        old = session.query(Run).join(User).filter(User.key == "console:vic").one()
        old.started_at = utcnow() - dt.timedelta(days=91)
    with service.store.transaction() as session:
        counts = purge(session, 90)
    assert counts["runs"] == 1
    with service.store.transaction() as session:
        assert [r.user.key for r in session.query(Run)] == ["console:wyn"]


def test_a_stranger_leaves_no_row_but_a_counter_and_invites_expire(service):
    replies = say(service, "telegram:99", text="my name is Kelly Jones and I live at 3 Park Lane")
    assert "invited" in replies[0].text
    assert say(service, "telegram:99", text="hello?") == []
    with service.store.transaction() as session:
        assert session.query(User).count() == 0
        assert [s.count for s in session.query(Stranger)] == [2]
        code = create_invite(session, "practitioner", days=0)
    assert "isn't valid" in say(service, "telegram:98", command="start", text=code)[0].text


def test_flooding_gets_one_polite_message_then_quiet(service):
    service.flood = (20, 10.0)
    replies = [say(service, "console:xan", command="where") for _ in range(25)]
    assert any(r and r[0].text == service.say.too_fast for r in replies)
    assert [] in replies


def test_logs_carry_no_message_text(service, caplog):
    caplog.set_level(logging.DEBUG)
    say(service, "console:yas", choice="reflect:disguised_compliance")
    say(service, "console:yas", text=SECRET_ANSWERS[0])
    say(service, "telegram:97", text=SECRET_ANSWERS[1])
    assert not any(secret in record.getMessage() for secret in SECRET_ANSWERS for record in caplog.records)


def test_hostile_text_is_cleaned_and_echoed_safely(service):
    nasty = "he\u200bllo \u202eevil\u0007 <script>alert(1)</script> **bold** \u05e9\u05dc\u05d5\u05dd 😀"
    assert "\u200b" not in clean(nasty) and "\u0007" not in clean(nasty) and "\u202e" not in clean(nasty)
    assert "😀" in clean(nasty) and "\u05e9" in clean(nasty)
    say(service, "console:zed", choice="reflect:lived_experience")
    say(service, "console:zed", text=nasty)
    replies = say(service, "console:zed", command="stop")
    assert "<script>" in replies[-1].text  # kept as text; each channel escapes it for its own format


IDENTIFIERS = st.sampled_from([
    "943 476 5919", "B12 9QA", "b129qa", "07700 900123", "+44 7700 900123", "kelly@example.com",
    "QQ 12 34 56 C", "DOB 03/04/2019", "14 Elm Road", "mum Kelly", "her son Jayden",
])
TEXT = st.one_of(
    st.text(max_size=80),
    st.builds(lambda a, b, c: f"{a} {b} {c}", st.text(max_size=20), IDENTIFIERS, st.text(max_size=20)),
    st.sampled_from(["yes", "no", "not sure", "7", "11", "", "  ", "/", "reflect:stuck_cases"]),
)
EVENTS = st.lists(st.one_of(
    st.builds(lambda t: {"text": t}, TEXT),
    st.builds(lambda c: {"choice": c}, st.sampled_from(
        ["reflect:lived_experience", "reflect:stuck_cases", "reflect:opening", "yes", "no", "not_sure", "3",
         "11", "escalate:now", "escalate:not_now", "escalate:no_feedback", "area:dudley", "forget:no",
         "resume:carry_on", "none", "bogus", ""])),
    st.builds(lambda c: {"command": c}, st.sampled_from(
        ["start", "reflect", "back", "skip", "where", "help", "stop", "history", "summary", "escalate",
         "area", "search", "privacy", "export", "frobnicate"])),
), max_size=25)
NHS = re.compile(r"\b943 ?476 ?5919\b")
IDENTIFYING = ("B12 9QA", "b129qa", "07700", "kelly@", "QQ 12", "03/04/2019", "Elm Road", "Kelly", "Jayden")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=EVENTS)
def test_random_event_sequences_never_fail_lose_an_answer_or_store_an_identifier(engine, tmp_path_factory, events):
    service = Service(Store(f"sqlite:///{tmp_path_factory.mktemp('h') / 'h.db'}"), engine)
    service._recent.clear()
    user = "console:prop"
    for event in events:
        replies = service.handle(Event(user, **event))
        assert all(isinstance(r.text, str) and r.text for r in replies)
        with service.store.transaction() as session:
            run = session.query(Run).filter(Run.status == "active").one_or_none()
            if run is not None:  # every answer on the run's path is still there
                stored = {a.step for a in run.answers}
                assert set(stored) <= set(run.path) | {run.state}
            values = " ".join(a.value for a in session.query(Answer))
        assert not NHS.search(values) and not any(i in values for i in IDENTIFYING), values
    service.store.close()


def test_redaction_keeps_agencies_roles_dates_ages_and_scores():
    text = "Early Help, CAMHS, the GP and the health visitor met on Tuesday 12 March; the 4-year-old scored 7/10"
    assert redact(text).text == text


def test_redact_jsonl_gives_text_and_spans_per_line(monkeypatch, capsys):
    import io

    from bot.cli import main

    lines = [{"text": "her son Jayden, DOB 03/04/2019, lives at B12 9QA"}, {"text": "Early Help met on Tuesday"}]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(json.dumps(l) for l in lines) + "\n"))
    assert main(["redact", "--jsonl"]) == 0
    first, second = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert first["text"] == "her son [name], DOB [date of birth], lives at [postcode]"
    assert {s["kind"] for s in first["spans"]} == {"name", "date of birth", "postcode"}
    assert second == {"text": "Early Help met on Tuesday", "spans": []}


def test_a_broken_key_gets_a_one_line_answer_not_a_traceback(monkeypatch, tmp_path, capsys):
    from bot.cli import main

    monkeypatch.setenv("REFLECTBOT_KEYS", "not-a-key")
    monkeypatch.setenv("REFLECTBOT_DATA_DIR", str(tmp_path))
    monkeypatch.setattr("bot.store.FreeText.vault", None)
    assert main(["users"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("reflectbot: REFLECTBOT_KEYS holds a key that is not a Fernet key") and "Traceback" not in err
