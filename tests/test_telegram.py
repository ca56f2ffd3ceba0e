"""reflectbot in Telegram, end to end: the real python-telegram-bot Application, polling a local
stand-in for the Bot API on 127.0.0.1 (tests/fake_bot_api.py), with the real service and database."""
import asyncio
import contextlib

import pytest

from bot.service import Service
from bot.store import Answer, Store, User
from bot.telegram import COMMANDS, build_application, split_message
from tests.fake_bot_api import FakeBotAPI

ANSWER = "mum's new boyfriend is always there when I visit but she says he doesn't live there"


@contextlib.asynccontextmanager
async def bot_running(fake, service):
    application = build_application(service, fake.token, fake.base_url)
    await application.initialize()
    await application.post_init(application)
    await application.start()
    await application.updater.start_polling(poll_interval=0.0, timeout=1)
    try:
        yield application
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()


@pytest.fixture
def fake():
    with FakeBotAPI() as server:
        yield server


def enrol(service, *chats, role="practitioner"):
    """Give each chat a used invite, as an admin and `/start CODE` would."""
    with service.store.transaction() as session:
        for chat in chats:
            service.store.user(session, f"telegram:{chat}").role = role


def texts(fake, chat):
    return [p["text"] for m, p in fake.sent("sendMessage", chat)]


async def reply_to(fake, action, chat, count=1):
    """Do `action` (feed an update) and wait until `count` more messages have gone to `chat`."""
    before = len(fake.sent("sendMessage", chat)) + len(fake.sent("sendDocument", chat))
    action()
    await fake.async_wait_for(lambda calls: len(fake.sent("sendMessage", chat))
                              + len(fake.sent("sendDocument", chat)) >= before + count, timeout=20)
    await asyncio.sleep(0.05)  # let any further replies to the same update arrive
    return fake.sent("sendMessage", chat)[-1][1]


async def press(fake, chat, pick=lambda buttons: buttons[0]):
    markup = fake.last_message(chat, with_keyboard=True)["reply_markup"]
    buttons = [b for row in markup["inline_keyboard"] for b in row]
    chosen = pick(buttons)
    return await reply_to(fake, lambda: fake.feed_callback(chat, chosen["callback_data"]), chat)


async def walk_reflection(fake, chat, dialogue="fathers_and_males"):
    await reply_to(fake, lambda: fake.feed_message(chat, "/reflect"), chat)
    last = await press(fake, chat, lambda b: next(x for x in b if x["callback_data"].endswith(dialogue)))
    for _ in range(30):
        if fake.sent("sendDocument", chat):
            return last
        if "reply_markup" in last:
            last = await press(fake, chat, lambda b: b[len(b) // 2] if len(b) == 11 else b[0])
        else:
            last = await reply_to(fake, lambda: fake.feed_message(chat, ANSWER), chat)
    raise AssertionError("the reflection did not finish")


def test_a_whole_reflection_by_text_and_buttons(fake, service):
    enrol(service, 501)

    async def scenario():
        async with bot_running(fake, service):
            await fake.async_wait_for(lambda calls: any(m == "setMyCommands" for m, _ in calls), timeout=20)
            await walk_reflection(fake, 501)
        commands = fake.sent("setMyCommands")[0][1]["commands"]
        assert [c["command"] for c in commands] == [name for name, _ in COMMANDS]
        sent = texts(fake, 501)
        assert any("<i>Step 1 of " in t for t in sent)
        assert any("mum&#x27;s new boyfriend" in t for t in sent), "echoed text is HTML-escaped"
        document = fake.sent("sendDocument", 501)[0][1]["document"]
        assert document["filename"].endswith(".txt")
        summary = document["content"].decode()
        assert ANSWER in summary and "Learning from local audits" in summary
        assert any(name in summary for name in ("Dudley", "Leicester", "Redbridge", "Warrington", "Bracknell"))
        for _, params in fake.sent("sendMessage", 501):
            for row in (params.get("reply_markup") or {}).get("inline_keyboard", []):
                assert all(len(b["callback_data"].encode()) < 64 for b in row)
        assert fake.sent("answerCallbackQuery") and fake.sent("editMessageText")

    asyncio.run(scenario())


def test_a_restart_mid_dialogue_resumes_every_user(fake, engine, db_url):
    async def scenario():
        first = Service(Store(db_url), engine)
        enrol(first, 601, 602)
        async with bot_running(fake, first):
            for chat in (601, 602):
                await reply_to(fake, lambda: fake.feed_message(chat, "/reflect"), chat)
                await press(fake, chat, lambda b: next(x for x in b if "stuck" in x["callback_data"]))
            await press(fake, 601)  # 601 answers the first question, 602 does not
        first.store.close()
        second = Service(Store(db_url), engine)
        async with bot_running(fake, second):
            resumed = {chat: await reply_to(fake, lambda: fake.feed_message(chat, "/start"), chat)
                       for chat in (601, 602)}
        second.store.close()
        assert "<i>Step 2 of" in resumed[601]["text"]
        assert "<i>Step 1 of" in resumed[602]["text"]

    asyncio.run(scenario())


def test_several_users_at_once_never_mix(fake, service):
    enrol(service, *range(701, 706))

    async def scenario():
        async with bot_running(fake, service):
            chats = list(range(701, 706))
            await asyncio.gather(*(walk_reflection(fake, chat, dialogue) for chat, dialogue in
                                   zip(chats, ["fathers_and_males", "stuck_cases", "lived_experience",
                                               "disguised_compliance", "fathers_and_males"])))
        for chat in chats:
            assert len(fake.sent("sendDocument", chat)) == 1
        with service.store.transaction() as session:
            users = session.query(User).count()
        assert users == 5

    asyncio.run(scenario())


def test_a_double_tap_answers_the_question_once(fake, service):
    enrol(service, 801)

    async def scenario():
        async with bot_running(fake, service):
            await reply_to(fake, lambda: fake.feed_message(801, "/reflect"), 801)
            await press(fake, 801, lambda b: next(x for x in b if "lived" in x["callback_data"]))
            await reply_to(fake, lambda: fake.feed_message(801, "nursery, then home with mum"), 801)
            markup = fake.last_message(801, with_keyboard=True)["reply_markup"]
            data = markup["inline_keyboard"][0][0]["callback_data"]
            fake.feed_callback(801, data)
            fake.feed_callback(801, data)
            await fake.async_wait_for(lambda calls: any(
                service.say.stale_choice in p.get("text", "") for m, p in calls if m == "sendMessage"), timeout=20)
        with service.store.transaction() as session:
            steps = [a.step for a in session.query(Answer)]
        assert len(steps) == len(set(steps)) == 2

    asyncio.run(scenario())


def test_photos_voice_stickers_and_files_get_text_only_and_nothing_is_stored(fake, service):
    async def scenario():
        async with bot_running(fake, service):
            for feed in (fake.feed_photo, fake.feed_voice, fake.feed_sticker, fake.feed_document):
                reply = await reply_to(fake, lambda feed=feed: feed(901), 901)
                assert reply["text"].startswith("Text only")
        with service.store.transaction() as session:
            assert session.query(User).count() == 0

    asyncio.run(scenario())


def test_an_over_long_answer_is_kept_whole_and_the_summary_split_into_messages(fake, service):
    long_answer = ("<b>not bold</b> " + "She is quiet at nursery and watches the door. " * 80)[:4000]
    enrol(service, 1001)

    async def scenario():
        async with bot_running(fake, service):
            await reply_to(fake, lambda: fake.feed_message(1001, "/reflect"), 1001)
            await press(fake, 1001, lambda b: next(x for x in b if "disguised" in x["callback_data"]))
            for _ in range(3):
                await reply_to(fake, lambda: fake.feed_message(1001, long_answer), 1001)
            await reply_to(fake, lambda: fake.feed_message(1001, "/stop"), 1001, 2)
        sent = texts(fake, 1001)
        assert all(len(t) <= 4096 for t in sent)
        assert any("&lt;b&gt;not bold&lt;/b&gt;" in t for t in sent)
        assert "<b>not bold</b>" not in " ".join(sent)
        with service.store.transaction() as session:
            assert session.query(Answer).first().value == long_answer.strip()

    asyncio.run(scenario())


def test_edited_messages_forged_buttons_and_blocked_users_are_handled_quietly(fake, service):
    enrol(service, 1101, 1102, 1103)

    async def scenario():
        async with bot_running(fake, service):
            await reply_to(fake, lambda: fake.feed_message(1101, "/reflect"), 1101)
            await press(fake, 1101, lambda b: next(x for x in b if "stuck" in x["callback_data"]))
            edited = await reply_to(fake, lambda: fake.feed_edited_message(1101, "changed my mind"), 1101)
            assert "/back" in edited["text"]
            fake.feed_callback(1101, "x" * 70)
            await fake.async_wait_for(lambda calls: any(m == "answerCallbackQuery" and p.get("text")
                                                        for m, p in calls), timeout=20)
            fake.blocked_users.add(1102)
            fake.feed_message(1102, "/start")
            await asyncio.sleep(0.3)
            fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", {"retry_after": 1})
            reply = await reply_to(fake, lambda: fake.feed_message(1103, "/help"), 1103)
            assert "/reflect" in reply["text"]
        with service.store.transaction() as session:
            assert session.query(Answer).count() == 0, "an edit is never taken as an answer"

    asyncio.run(scenario())


def test_split_message_keeps_paragraphs_and_escapes():
    text = "\n\n".join(f"Paragraph {n} <i>{'x' * 900}</i>" for n in range(12))
    chunks = split_message(text)
    assert len(chunks) > 1 and all(len(c) <= 4096 for c in chunks)
    assert all(c.startswith("Paragraph") for c in chunks)
    assert "".join(chunks).count("&lt;i&gt;") == 12
    assert split_message("&" * 5000)[0].count("&amp;") <= 819


def test_only_enrolled_staff_are_answered_and_strangers_leave_only_a_counter(fake, service):
    from bot.enrolment import create_invite
    from bot.store import Stranger

    with service.store.transaction() as session:
        code = create_invite(session, "manager")

    async def scenario():
        async with bot_running(fake, service):
            first = await reply_to(fake, lambda: fake.feed_message(1201, "hello, is this the safeguarding bot?"), 1201)
            assert "invited" in first["text"] and "999" in first["text"]
            fake.feed_message(1201, "my name is Kelly and my son Jayden is at risk")
            await asyncio.sleep(0.3)
            assert len(fake.sent("sendMessage", 1201)) == 1, "one polite message, then quiet"
            wrong = await reply_to(fake, lambda: fake.feed_message(1202, "/start not-a-code"), 1202)
            assert "isn&#x27;t valid" in wrong["text"]
            await reply_to(fake, lambda: fake.feed_message(1203, f"/start {code}"), 1203)
            assert any("manager" in t for t in texts(fake, 1203))
            assert any("encrypted" in t for t in texts(fake, 1203)), "the privacy notice at enrolment"
            again = await reply_to(fake, lambda: fake.feed_message(1204, f"/start {code}"), 1204)
            assert "isn&#x27;t valid" in again["text"], "invite codes are single-use"
        with service.store.transaction() as session:
            keys = [u.key for u in session.query(User)]
            strangers = session.query(Stranger).all()
        assert keys == ["telegram:1203"]
        assert len(strangers) == 3 and all("120" not in s.key_hash for s in strangers)

    asyncio.run(scenario())


def test_a_manager_runs_a_case_review_and_gets_pdf_and_docx(fake, service):
    enrol(service, 1301, role="manager")

    async def scenario():
        async with bot_running(fake, service):
            await reply_to(fake, lambda: fake.feed_message(1301, "/review"), 1301)
            await reply_to(fake, lambda: fake.feed_message(1301, "KM-77"), 1301)
            await reply_to(fake, lambda: fake.feed_message(1301, "school and health visitor"), 1301)
            for _ in service.engine.kb.review.domains:
                await press(fake, 1301, lambda b: b[1])  # Requires improvement
                await reply_to(fake, lambda: fake.feed_message(1301, "the child was not seen alone"), 1301)
                await press(fake, 1301, lambda b: next(x for x in b if x["callback_data"].endswith("|no")))
            await fake.async_wait_for(lambda calls: len(fake.sent("sendDocument", 1301)) == 2, timeout=20)
        names = [p["document"]["filename"] for _, p in fake.sent("sendDocument", 1301)]
        assert names[0].endswith(".pdf") and names[1].endswith(".docx")
        assert fake.sent("sendDocument", 1301)[0][1]["document"]["content"].startswith(b"%PDF")

    asyncio.run(scenario())
