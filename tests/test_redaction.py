"""Redaction of identifying details: per-kind examples, things that must be kept, and a score on the
labelled practitioner sentences in tests/data/redaction_labelled.jsonl."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from bot.redaction import Redacted, Span, nhs_checksum_ok, redact, score

DATA = Path(__file__).parent / "data" / "redaction_labelled.jsonl"
KINDS = {
    "NHS number", "postcode", "phone number", "email", "NI number", "date of birth", "address",
    "social media", "name",
}
STRICT_KINDS = ("NHS number", "postcode", "phone number", "email", "NI number", "date of birth")


# --- API --------------------------------------------------------------------------------------------


def test_api_shape():
    text = "mum Kelly rang from 07700 900123"
    result = redact(text)
    assert isinstance(result, Redacted)
    assert result.text == "mum [name] rang from [phone number]"
    assert result.spans == (Span(4, 9, "name"), Span(20, 32, "phone number"))
    assert [text[s.start:s.end] for s in result.spans] == ["Kelly", "07700 900123"]
    assert result.kinds == ("name", "phone number")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.text = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.spans[0].kind = "x"  # type: ignore[misc]


def test_nothing_to_redact_is_unchanged():
    text = "Mum said she's fine and the house was clean"
    result = redact(text)
    assert result == Redacted(text, ())
    assert result.kinds == ()
    assert redact("").text == ""


def test_kinds_sorted_and_distinct():
    result = redact("dad Liam, NHS 943 476 5919, mum Kelly, NHS 6260181590")
    assert result.kinds == ("NHS number", "name")


def test_overlaps_longest_wins():
    # The email contains a name and a handle-like "@"; the address sits next to its postcode.
    result = redact("email kelly.smith@hotmail.co.uk, 9 Elm Road, B33 8TH")
    assert result.text == "email [email], [address], [postcode]"
    assert [s.kind for s in result.spans] == ["email", "address", "postcode"]


def test_redacting_twice_changes_nothing():
    once = redact("baby Rose was asleep; mum Kelly (DOB 04/07/1990) at 9 Elm Road").text
    assert redact(once).text == once


# --- per kind ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        # NHS numbers: any spacing, checksum-valid
        ("NHS no 943 476 5919 for baby", "NHS no [NHS number] for baby"),
        ("nhs number 9434765919", "nhs number [NHS number]"),
        ("NHS: 943-476-5919.", "NHS: [NHS number]."),
        ("number is 626 018 1590", "number is [NHS number]"),
        # postcodes: every shape, any case, space optional
        ("moved to B33 8TH", "moved to [postcode]"),
        ("in M1 1AE", "in [postcode]"),
        ("in CR2 6XH", "in [postcode]"),
        ("in DN55 1PT", "in [postcode]"),
        ("in W1A 1HQ", "in [postcode]"),
        ("in EC1A 1BB", "in [postcode]"),
        ("at GIR 0AA", "at [postcode]"),
        ("postcode b33 8th", "postcode [postcode]"),
        ("postcode le16zg", "postcode [postcode]"),
        ("postcode Ws2 8La", "postcode [postcode]"),
        # phone numbers
        ("mob 07700 900123", "mob [phone number]"),
        ("mob 07700900123", "mob [phone number]"),
        ("ring (0121) 496 0000", "ring [phone number]"),
        ("ring 0121-496-0018 now", "ring [phone number] now"),
        ("on +44 7700 900781", "on [phone number]"),
        ("on 0044 7700 900 333", "on [phone number]"),
        ("tel +44 (0)20 7946 0958", "tel [phone number]"),
        # emails
        ("from kelly.smith82@hotmail.co.uk today", "from [email] today"),
        ("to J.Patel@dudley.gov.uk", "to [email]"),
        ("contact: t.o'neill@nhs.net", "contact: [email]"),
        # NI numbers
        ("NI QQ 12 34 56 C", "NI [NI number]"),
        ("NI AB123456C", "NI [NI number]"),
        ("ni jg 10 37 59 a", "ni [NI number]"),
        ("ni pe-12-34-56-d", "ni [NI number]"),
        # dates of birth
        ("DOB 12/03/2015", "DOB [date of birth]"),
        ("d.o.b. 3.4.19", "d.o.b. [date of birth]"),
        ("D.O.B: 21st June 2017", "D.O.B: [date of birth]"),
        ("date of birth is 1 May 2016", "date of birth is [date of birth]"),
        ("born on 14th February 2021 at home", "born on [date of birth] at home"),
        ("born 02-11-2018", "born [date of birth]"),
        ("her dob is October 12th 2015", "her dob is [date of birth]"),
        ("born in March 2022", "born in [date of birth]"),
        # addresses
        ("lives at 14 Hawthorn Close", "lives at [address]"),
        ("moved to 22 oak road", "moved to [address]"),
        ("at Flat 3, 27 Victoria Street", "at [address]"),
        ("at 102 Church Rd today", "at [address] today"),
        ("at 5a Beech Grove", "at [address]"),
        ("at 12 St John's Road", "at [address]"),
        ("she's in flat 4", "she's in [address]"),
        # social media
        ("her snapchat is kayla_xo09", "her snapchat is [social media]"),
        ("on insta as @bigman_d99", "on insta as [social media]"),
        ("see https://www.facebook.com/darren.wilson.7359.", "see [social media]."),
        ("on tiktok.com/@lilrose.x", "on [social media]"),
        ("at https://x.com/kelz_82", "at [social media]"),
        ("twitter.com/d_wilson_uk", "[social media]"),
        ("snap: tyler.w2", "snap: [social media]"),
        # names after relationship and role words, any case, ordinary words as names
        ("mum Kelly said", "mum [name] said"),
        ("her son jayden was quiet", "her son [name] was quiet"),
        ("a boy called Tyler", "a boy called [name]"),
        ("the stepdad, Darren, wasn't there", "the stepdad, [name], wasn't there"),
        ("her daughter Summer is 6", "her daughter [name] is 6"),
        ("baby Rose was asleep", "baby [name] was asleep"),
        ("a girl called hope", "a girl called [name]"),
        ("Dad (Liam) refused", "Dad ([name]) refused"),
        ("his partner Gemma Lewis has three kids", "his partner [name] has three kids"),
        ("a man known as Smiley", "a man known as [name]"),
        ("her boyfriend is called jordan", "her boyfriend is called [name]"),
        ("her sons Tyreese and Kacey", "her sons [name] and [name]"),
        ("Spoke with Mrs Okafor", "Spoke with Mrs [name]"),
        # names as the subject of a sentence, or listed with an age
        ("Kayleigh said she doesn't want to go home", "[name] said she doesn't want to go home"),
        ("Then Liam went upstairs", "Then [name] went upstairs"),
        ("Will said he's scared", "[name] said he's scared"),
        ("Tyreese said his mum hits him", "[name] said his mum hits him"),
        ("Oliver's attendance is 62%", "[name]'s attendance is 62%"),
        ("Children: Jayden (6), Marnie (2)", "Children: [name] (6), [name] (2)"),
    ],
)
def test_redacts(text, expected):
    assert redact(text).text == expected


def test_nhs_checksum():
    assert nhs_checksum_ok("9434765919")
    assert nhs_checksum_ok("6260181590")  # check digit 11 -> 0
    assert not nhs_checksum_ok("9434765918")
    # 100000001?: the check digit works out as 10, so no final digit makes it valid.
    assert not any(nhs_checksum_ok(f"100000001{d}") for d in range(10))
    assert not nhs_checksum_ok("943476591")


@pytest.mark.parametrize(
    "number, valid",
    [
        ("943 476 5919", True),
        ("943 476 5918", False),
        ("4830166134", True),
        ("4830166137", False),
        ("486-091-3906", True),
        ("486-091-3909", False),
    ],
)
def test_nhs_valid_redacted_invalid_kept(number, valid):
    result = redact(f"the number is {number} on the form")
    if valid:
        assert result.text == "the number is [NHS number] on the form"
    else:
        assert result.text == f"the number is {number} on the form"


def test_lower_case_postcode():
    assert redact("they moved to b33 8th last month").text == "they moved to [postcode] last month"
    assert redact("near dy11hf").text == "near [postcode]"


def test_invalid_ni_prefix_kept():
    # D, F, I, Q, U, V never start a real NI number (QQ is HMRC's example and is redacted).
    assert redact("ref DA 12 34 56 C").text == "ref DA 12 34 56 C"
    assert redact("ref QQ 12 34 56 C").text == "ref [NI number]"


# --- must keep --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Mum said she's fine",
        "School called this morning about the bruising",
        "Nursery reported that he was hungry on Monday",
        "Police attended on Tuesday 12/3",
        "meeting on 3rd March with Early Help, CAMHS and the GP",
        "Children's Social Care closed it; MASH and the DSL disagree",
        "IRO review in April, health visitor and school nurse to attend",
        "the 4-year-old was aged 7 months when we got involved",
        "I'd rate my worry a 7/10, it was a 6 last week",
        "Mum (K) and child A were seen together",
        "disguised compliance, drift, neglect and the child's lived experience",
        "Dad said he'd stop drinking but nothing has changed",
        "mum may move in with her sister",
        "dad will not let the social worker in",
        "Will this go to conference?",
        "Hope this makes sense",
        "The child protection plan ends in May",
        "we escalated on 14/02/2024 and heard nothing back",
        "born at 34 weeks and still in neonatal",
        "seen 3 times at the Close this week",
        "Childline is 0800 1111",
        "it's called disguised compliance",
        "the baby was asleep in the moses basket",
        "we talked about Signs of Safety with the Local Authority",
        "she's in y6 2nd term",
        "her snapchat is private",
    ],
)
def test_keeps_ordinary_text(text):
    result = redact(text)
    assert result.text == text, result.spans


# --- labelled practitioner sentences ----------------------------------------------------------------


def _load() -> list[dict]:
    with DATA.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def test_labelled_file_is_well_formed():
    rows = _load()
    assert len(rows) >= 150
    counts = dict.fromkeys(KINDS, 0)
    for row in rows:
        text = row["text"]
        assert set(row) == {"text", "spans", "keep"}
        for span in row["spans"]:
            assert span["kind"] in KINDS
            assert 0 <= span["start"] < span["end"] <= len(text)
            assert text[span["start"]:span["end"]].strip() == text[span["start"]:span["end"]]
            counts[span["kind"]] += 1
        for word in row["keep"]:
            assert word in text, (word, text)
    assert all(n >= 10 for n in counts.values()), counts
    assert sum(1 for row in rows if not row["spans"]) >= 20


def test_labelled_scores():
    rates, keep, problems = score(_load())
    keep_rate = keep["kept"] / keep["total"]
    report = "\n".join(
        [f"{kind:15s} {rate:.1%}" for kind, rate in sorted(rates.items())]
        + [f"{'keep words':15s} {keep_rate:.1%} ({keep['kept']}/{keep['total']})"]
        + problems
    )
    low = [kind for kind in STRICT_KINDS if rates[kind] < 0.98]
    assert not low, f"below 98% for {low}\n{report}"
    assert rates["name"] >= 0.90, f"names below 90%\n{report}"
    assert rates["address"] >= 0.90 and rates["social media"] >= 0.90, report
    assert keep_rate >= 0.95, f"keep words below 95%\n{report}"
