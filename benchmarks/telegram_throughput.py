"""Telegram throughput: reflectbot against a bare python-telegram-bot echo bot, in the same run.

    .venv/bin/python benchmarks/telegram_throughput.py [--users 200] [--turns 20] [--rounds 3]

Each simulated user sends `--turns` updates (a whole reflection by text and button presses, then
/where and /history to make up the count) through `Application.process_update`; users run
concurrently, each user's updates in order. The Bot API is answered in-process by a `BaseRequest`
stand-in, so the figures are the bots' own cost. reflectbot matches and commits every answer to a
fresh SQLite file. Reports updates per second and per-update latency p50 / p99 for both bots.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import tempfile
import time
from pathlib import Path

from telegram import Update
from telegram.ext import ApplicationBuilder, CommandHandler, ConversationHandler, MessageHandler, filters
from telegram.request import BaseRequest

from bot.service import Service
from bot.telegram import build_application

TOKEN = "123456:BENCHMARK"
ANSWERS = (  # what practitioners type, varied so no two users' reflections read the same
    "mum agrees to everything at the meeting but nothing changes for the children at home",
    "I have only ever seen the baby asleep in the pram, never awake or being fed",
    "her new partner is always there when I visit but she says he doesn't live there",
    "we have had three plans in two years and the same worries keep coming back",
    "school say he arrives hungry most days and his uniform hasn't been washed for weeks",
    "I raised it with the social worker twice and they closed the case anyway",
    "she cancels every other appointment with a good reason each time",
    "dad has never been invited to a core group and nobody has his number",
    "the older girl is going missing at weekends and has a new phone nobody bought her",
    "I'm not sure my manager has read the last two chronology updates",
    "he doesn't use words, so I watch how he is with his mum and at nursery",
    "I think I accepted her explanation for the bruise without checking it",
)


class InProcessBotAPI(BaseRequest):
    """Answers every Bot API call at once, in-process, as Telegram would (successfully)."""

    message_ids = itertools.count(1)
    last_sent: dict[int, dict] = {}  # chat -> what the bot last sent there, as a client sees it

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    @property
    def read_timeout(self) -> float:
        return 5.0

    async def do_request(self, url, method, request_data=None, **_timeouts):
        api_method = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data else {}
        if api_method == "getMe":
            result = {"id": 123456, "is_bot": True, "first_name": "reflectbot", "username": "reflectbot"}
        elif api_method in ("sendMessage", "sendDocument", "editMessageText"):
            chat = int(params.get("chat_id", 1))
            if api_method != "editMessageText":
                self.last_sent[chat] = {"method": api_method, "markup": params.get("reply_markup")}
            result = {"message_id": next(self.message_ids), "date": int(time.time()),
                      "chat": {"id": chat, "type": "private"}, "text": "ok"}
        else:
            result = True
        return 200, json.dumps({"ok": True, "result": result}).encode()


update_ids = itertools.count(1)


def message(user: int, text: str) -> dict:
    entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}] if text.startswith("/") else []
    return {"update_id": next(update_ids), "message": {
        "message_id": next(update_ids), "date": int(time.time()), "text": text, "entities": entities,
        "chat": {"id": user, "type": "private"}, "from": {"id": user, "is_bot": False, "first_name": "P"}}}


def button(user: int, data: str) -> dict:
    return {"update_id": next(update_ids), "callback_query": {
        "id": str(next(update_ids)), "chat_instance": "1", "data": data,
        "from": {"id": user, "is_bot": False, "first_name": "P"},
        "message": {"message_id": 1, "date": int(time.time()), "text": "question",
                    "chat": {"id": user, "type": "private"}}}}


async def timed(application, data: dict, latencies: list[float]) -> None:
    update = Update.de_json(data, application.bot)
    started = time.perf_counter()
    await application.process_update(update)
    latencies.append(time.perf_counter() - started)


async def reflect_as(application, user: int, turns: int, latencies: list[float]) -> None:
    """A practitioner doing a whole reflection, answering whatever the last message asks for."""
    sent = 0

    async def send(data):
        nonlocal sent
        await timed(application, data, latencies)
        sent += 1

    await send(message(user, "/start"))
    await send(button(user, "menu|reflect:disguised_compliance"))
    while sent < turns:
        last = InProcessBotAPI.last_sent.get(user, {})
        if last.get("method") == "sendDocument":
            break  # the summary has arrived
        markup = last.get("markup")
        if markup:
            rows = (json.loads(markup) if isinstance(markup, str) else markup)["inline_keyboard"]
            buttons = [b["callback_data"] for row in rows for b in row]
            await send(button(user, buttons[3] if len(buttons) == 11 else buttons[-1]))
        else:
            await send(message(user, ANSWERS[(user + sent) % len(ANSWERS)]))
    while sent < turns:
        await send(message(user, "/history" if sent % 2 else "/where"))


async def run_reflectbot(users: int, turns: int) -> tuple[float, list[float], int]:
    folder = tempfile.mkdtemp()
    service = Service.open(f"sqlite:///{Path(folder) / 'bench.db'}")
    with service.store.transaction() as session:  # every simulated user is enrolled staff
        for u in range(users):
            service.store.user(session, f"telegram:{10_000 + u}")
    application = build_application(service, TOKEN, rate_limit=False, request=InProcessBotAPI())
    latencies: list[float] = []
    async with application:
        started = time.perf_counter()
        await asyncio.gather(*(reflect_as(application, 10_000 + u, turns, latencies) for u in range(users)))
        elapsed = time.perf_counter() - started
    from bot.store import Answer

    with service.store.transaction() as session:
        answers = session.query(Answer).count()
        matched = session.query(Answer).filter(Answer.matched.is_not(None)).count()
    service.store.close()
    return elapsed, latencies, (answers, matched)


async def run_echo(users: int, turns: int) -> tuple[float, list[float]]:
    async def begin(update, context):
        await update.message.reply_text("hello")
        return 0

    async def echo(update, context):
        await update.message.reply_text(update.message.text)
        return 0

    application = ApplicationBuilder().token(TOKEN).request(InProcessBotAPI()).get_updates_request(
        InProcessBotAPI()).concurrent_updates(True).build()
    application.add_handler(ConversationHandler(
        entry_points=[CommandHandler("start", begin)],
        states={0: [MessageHandler(filters.TEXT & ~filters.COMMAND, echo)]}, fallbacks=[]))
    latencies: list[float] = []

    async def user_session(user):
        await timed(application, message(user, "/start"), latencies)
        for turn in range(turns - 1):
            await timed(application, message(user, ANSWERS[(user + turn) % len(ANSWERS)]), latencies)

    async with application:
        started = time.perf_counter()
        await asyncio.gather(*(user_session(20_000 + u) for u in range(users)))
        elapsed = time.perf_counter() - started
    return elapsed, latencies


def describe(name: str, updates: int, elapsed: float, latencies: list[float]) -> float:
    latencies = sorted(latencies)
    rate = updates / elapsed
    print(f"{name:12} {updates} updates in {elapsed:.2f} s = {rate:.0f} updates/s; latency p50 "
          f"{statistics.median(latencies) * 1000:.1f} ms, p99 {latencies[int(len(latencies) * 0.99)] * 1000:.1f} ms")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3,
                        help="echo and reflectbot alternate this many times; the medians are compared")
    args = parser.parse_args()
    echo_rates, rates, p99s = [], [], []
    for round_ in range(1, args.rounds + 1):
        print(f"round {round_}")
        elapsed, latencies = asyncio.run(run_echo(args.users, args.turns))
        echo_rates.append(describe("echo bot", len(latencies), elapsed, latencies))
        elapsed, latencies, answers = asyncio.run(run_reflectbot(args.users, args.turns))
        rates.append(describe("reflectbot", len(latencies), elapsed, latencies))
        p99s.append(sorted(latencies)[int(len(latencies) * 0.99)] * 1000)
        print(f"{'':12} answers committed to SQLite: {answers[0]} ({answers[1]} free-text answers, each "
              f"stored with what it matched)")
    echo_rate, rate = statistics.median(echo_rates), statistics.median(rates)
    print(f"median of {args.rounds} rounds: echo bot {echo_rate:.0f} updates/s, reflectbot {rate:.0f} updates/s "
          f"(p99 {statistics.median(p99s):.1f} ms)")
    print(f"reflectbot throughput is {rate / echo_rate:.2f} of the echo bot's")


if __name__ == "__main__":
    main()
