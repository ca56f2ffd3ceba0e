"""/escalate, /area and the immediate-danger safety net, through the service as a user meets them."""
import json
from pathlib import Path

import pytest

from bot.store import Answer, SafetyAlarm
from dialogues.engine import Event

DANGER_SET = Path(__file__).parent / "data" / "immediate_danger.jsonl"


def say(service, user, **event):
    return service.handle(Event(user, **event))


def test_immediate_risk_comes_first_and_is_one_tap(service, kb):
    question = say(service, "console:ann", command="escalate")[0]
    assert "immediate risk" in question.text.lower() and len(question.options) == 2
    answer = say(service, "console:ann", choice=question.options[0].value)[0]
    assert "999" in answer.text and "social care" in answer.text


@pytest.mark.parametrize("situation", ["decision_disagree", "concern_not_acted_on", "no_feedback",
                                       "own_agency", "plan_not_progressing", "conference_decision"])
def test_each_situation_reaches_its_route_in_three_taps(service, kb, situation):
    user = f"console:{situation}"
    taps = 0
    reply = say(service, user, command="escalate")[0]
    not_now = next(o for o in reply.options if o.value == "escalate:not_now")
    reply = say(service, user, choice=not_now.value)[0]
    taps += 1
    assert any(o.value == f"escalate:{situation}" for o in reply.options)
    route = say(service, user, choice=f"escalate:{situation}")[0]
    taps += 1
    assert taps <= 3
    label = kb.situations[situation].label
    assert label in route.text
    start = kb.stages[kb.situations[situation].start_stage]
    assert f"Stage {start.number}." in route.text
    for stage in kb.escalation.stages:
        if stage.number >= start.number:  # every stage names what, who, when and what to record
            assert stage.who in route.text and stage.timescale in route.text
            assert stage.what_to_record in route.text and stage.if_no_answer in route.text
    assert "Working Together" in route.text


@pytest.mark.parametrize("text,situation", [
    ("social care closed it and I'm still worried", "decision_disagree"),
    ("I referred two weeks ago and have heard nothing back", "no_feedback"),
    ("I disagree with the child protection conference decision to end the plan", "conference_decision"),
])
def test_free_text_goes_straight_to_the_route_and_says_what_it_understood(service, kb, text, situation):
    reply = say(service, "console:bea", command="escalate", text=text)[0]
    assert reply.text.startswith("I understood: " + kb.situations[situation].label)


def test_a_description_after_escalate_is_understood_too(service, kb):
    say(service, "console:cal", command="escalate")
    say(service, "console:cal", choice="escalate:not_now")
    reply = say(service, "console:cal", text="they stepped it down to early help and I don't agree")[0]
    assert reply.text.startswith("I understood:")


@pytest.mark.parametrize("area,procedure", [
    ("dudley", "West Midlands"), ("leicester", "LLR"), ("warrington", "pan-Cheshire"),
    ("bracknell-forest", "Berkshire"), ("redbridge", "London"),
])
def test_an_area_shows_its_procedure_and_date_in_the_route(service, kb, area, procedure):
    user = f"console:area-{area}"
    options = say(service, user, command="area")[0].options
    assert len(options) >= 6
    chosen = say(service, user, choice=f"area:{area}")[0]
    assert procedure.lower() in chosen.text.lower()
    assert kb.areas[area].check_reminder in chosen.text
    route = say(service, user, choice="escalate:decision_disagree")[0]
    assert procedure.lower() in route.text.lower()
    assert kb.areas[area].procedure.source_date.isoformat() in route.text


def test_an_area_can_be_typed_and_an_unknown_one_is_offered_the_list(service):
    assert "Warrington" in say(service, "console:dot", command="area", text="warrington")[0].text
    unknown = say(service, "console:dot", command="area", text="Narnia")[0]
    assert "Narnia" in unknown.text and unknown.options


DANGERS = [
    "he's 3 and I've just found him home alone, mum's nowhere to be seen",
    "the baby is floppy and not feeding, mum won't call anyone",
    "she told me at school today that her stepdad hits her and she has to go home to him tonight",
]
CLOSE_CALLS = [
    "we debated whether the threshold for significant harm was met at the strategy meeting",
    "last year he was found home alone, the police attended and it was dealt with",
    "what would I do if a child told me they were being hurt at home?",
]


@pytest.mark.parametrize("dialogue", ["lived_experience", "disguised_compliance", "fathers_and_males",
                                      "stuck_cases"])
def test_the_safety_net_interrupts_every_dialogue_and_offers_to_carry_on(service, kb, dialogue):
    user = f"console:net-{dialogue}"
    start = say(service, user, choice=f"reflect:{dialogue}")[-1]
    for text in DANGERS:
        replies = say(service, user, text=text)
        assert "999" in replies[0].text, text
        assert replies[-1].text == start.text, "the practitioner stays at the same step"
    for text in CLOSE_CALLS:
        replies = say(service, user, text=text)
        assert "999" not in replies[0].text, text
        break  # the first close call is taken as the answer, which is right
    with service.store.transaction() as session:
        alarms = session.query(SafetyAlarm).all()
        stored = [a.value for a in session.query(Answer)]
    assert len(alarms) == len(DANGERS) and all(a.place.startswith(dialogue) for a in alarms)
    assert not any(text in stored for text in DANGERS), "the text that raised the alarm is not kept"


def test_the_safety_net_also_checks_commands_and_idle_text(service):
    assert "999" in say(service, "console:eli", command="escalate", text=DANGERS[0])[0].text
    assert "999" in say(service, "console:eli", text=DANGERS[1])[0].text
    for text in CLOSE_CALLS:
        assert "999" not in say(service, "console:fin", text=text)[0].text


def test_safety_net_figures_on_the_projects_own_set(kb):
    rows = [json.loads(line) for line in DANGER_SET.read_text().splitlines() if line.strip()]
    dangers = [r for r in rows if r["immediate"]]
    close = [r for r in rows if not r["immediate"]]
    caught = sum(kb.safety.check(r["text"]) is not None for r in dangers) / len(dangers)
    raised = sum(kb.safety.check(r["text"]) is not None for r in close) / len(close)
    assert caught >= 0.95 and raised <= 0.10, (caught, raised)


def test_match_jsonl_flags_immediate_risk(monkeypatch, capsys):
    import io

    from bot.cli import main

    lines = [{"text": DANGERS[1]}, {"text": CLOSE_CALLS[0]}]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(json.dumps(l) for l in lines) + "\n"))
    main(["match", "--jsonl"])
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [o["immediate_risk"] for o in out] == [True, False]


def test_a_household_description_is_not_an_alarm(kb):
    assert kb.safety.check("mum's new boyfriend lives there but has never been seen, checked or spoken to") is None
    assert kb.safety.check("she told me today her stepdad hits her and he lives there, she has to go home at 3")


def test_after_an_alarm_saying_when_it_happened_lets_the_answer_be_kept(service):
    user = "console:gus"
    first = say(service, user, choice="reflect:lived_experience")[-1]
    alarm = say(service, user, text="the 3 year old was home alone")
    assert "999" in alarm[0].text and "haven't kept it" in alarm[1].text and alarm[-1].text == first.text
    taken = say(service, user, text="when I visited last month the 3 year old was home alone")
    assert "999" not in taken[0].text and taken[-1].progress.startswith("Step 2")
    with service.store.transaction() as session:
        assert [a.value for a in session.query(Answer)] == ["when I visited last month the 3 year old was home alone"]
