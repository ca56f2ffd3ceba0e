"""The Telegram channel: python-telegram-bot v22 around the same service as the console.

Updates become events; the service's replies are rendered as HTML messages (user text escaped),
with inline keyboards for choices. Each user's updates are handled strictly in order (one asyncio
lock per user, FIFO), different users concurrently. State lives in the database, not in
python-telegram-bot's persistence, so stopping and starting the bot resumes everyone at their step.
Logs carry ids, update kinds and error kinds only, never message text.
"""
from __future__ import annotations

import asyncio
import html
import logging
from collections import defaultdict

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import MessageLimit, ParseMode
from telegram.error import Forbidden, TelegramError
from telegram.ext import (AIORateLimiter, Application, ApplicationBuilder, ContextTypes, TypeHandler, filters)

from bot.retention import purge
from dialogues.engine import Event, Reply

log = logging.getLogger("reflectbot.telegram")

COMMANDS = [
    ("start", "Start, or pick up where you left off"),
    ("reflect", "Reflect on a case before supervision"),
    ("escalate", "What to do when you disagree or a concern isn't acted on"),
    ("area", "Set your area for local procedures"),
    ("search", "Search the audit learning: /search words"),
    ("history", "Your past reflections"),
    ("summary", "Send a reflection's summary again: /summary N"),
    ("back", "Go back a question"),
    ("skip", "Skip this question"),
    ("where", "Where am I?"),
    ("stop", "Finish early with a summary"),
    ("review", "Managers: a guided case review"),
    ("reviews", "Managers: your case reviews"),
    ("themes", "Managers: emerging themes across reviews"),
    ("privacy", "What I keep, and for how long"),
    ("export", "Send me everything you hold about me"),
    ("forget", "Delete everything about me"),
    ("help", "Help"),
]
SEPARATOR = "|"
SCALE_ROW = 6


def user_key(update: Update) -> str:
    return f"telegram:{update.effective_user.id}"


def split_message(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Escaped HTML chunks of at most `limit` characters, split at paragraph, then line, then word."""
    chunks: list[str] = []
    current = ""
    for piece in _pieces(text, limit):
        joined = f"{current}\n\n{piece}" if current else piece
        if len(html.escape(joined)) <= limit:
            current = joined
        else:
            chunks.append(html.escape(current))
            current = piece
    if current or not chunks:
        chunks.append(html.escape(current))
    return chunks


def _pieces(text: str, limit: int) -> list[str]:
    """Paragraphs, each cut further (at lines, then words, then characters) until it fits."""
    out = []
    for paragraph in text.split("\n\n"):
        stack = [paragraph]
        while stack:
            piece = stack.pop(0)
            if len(html.escape(piece)) <= limit:
                out.append(piece)
                continue
            for separator in ("\n", " "):
                if separator in piece.strip():
                    parts = piece.split(separator)
                    half = max(1, len(parts) // 2)
                    stack[:0] = [separator.join(parts[:half]), separator.join(parts[half:])]
                    break
            else:
                cut = limit // 6  # the worst case: every character escaped to six
                stack[:0] = [piece[:cut], piece[cut:]] if len(piece) > cut else []
                if len(piece) <= cut:
                    out.append(piece)
    return out


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.options:
        return None
    buttons = [InlineKeyboardButton(o.label, callback_data=f"{reply.context or ''}{SEPARATOR}{o.value}")
               for o in reply.options]
    if reply.expects == "scale":
        rows = [buttons[i:i + SCALE_ROW] for i in range(0, len(buttons), SCALE_ROW)]
    elif reply.expects == "yes_no":
        rows = [buttons]
    else:
        rows = [[button] for button in buttons]
    return InlineKeyboardMarkup(rows)


class TelegramChannel:
    """Handlers that turn updates into service events and service replies into messages."""

    def __init__(self, service):
        self.service = service
        self.say = service.say
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    def install(self, application: Application) -> None:
        application.add_handler(TypeHandler(Update, self.on_update))
        application.add_error_handler(self.on_error)

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_user is None or update.effective_chat is None:
            return
        if update.effective_chat.type != "private":
            return  # reflectbot only talks one to one: case talk never goes into a group
        async with self._locks[user_key(update)]:  # one user's updates strictly in order
            if update.callback_query is not None:
                await self._button(update, context)
            elif update.edited_message is not None:
                await self._send(context, update, [Reply(self.say.edited_ignored)])
            elif update.message is not None:
                await self._message(update, context)

    async def _message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        if not message.text:
            await self._send(context, update, [Reply(self.say.text_only)])
            return
        text = message.text
        if text.startswith("/") and filters.COMMAND.check_update(update):
            command, _, argument = text[1:].partition(" ")
            event = Event(user_key(update), command=command.split("@")[0].lower(), text=argument.strip() or None)
        else:
            event = Event(user_key(update), text=text)
        await self._handle(update, context, event)

    async def _button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        data = query.data or ""
        token, separator, value = data.partition(SEPARATOR)
        if not separator or not value or len(data) > 64:
            await query.answer(self.say.forged_button[:190])
            await self._handle(update, context, Event(user_key(update), command="where"), quiet=True)
            return
        await query.answer()
        label = next((b.text for row in (query.message.reply_markup.inline_keyboard
                                         if query.message and query.message.reply_markup else [])
                      for b in row if b.callback_data == data), None)
        if label and query.message is not None and query.message.text:
            try:  # show what was chosen, and take the keyboard away so it can't be pressed twice
                await query.edit_message_text(f"{html.escape(query.message.text)}\n\n<b>\u2192 {html.escape(label)}</b>",
                                              parse_mode=ParseMode.HTML)
            except TelegramError as error:
                log.info("could not edit a message: %s", type(error).__name__)
        await self._handle(update, context, Event(user_key(update), choice=value), token=token)

    async def _handle(self, update, context, event: Event, token: str | None = None, quiet=False) -> None:
        # The service runs here, on the event loop: an event is about a millisecond of matching and
        # local SQLite work (WAL, no fsync at commit). A worker thread would add a hop and queueing but
        # no parallelism (the work holds the GIL), and SQLite takes one writer at a time anyway.
        replies = self.service.handle(event, token)
        if quiet:
            replies = replies[-1:]
        await self._send(context, update, replies)

    async def _send(self, context, update: Update, replies: list[Reply]) -> None:
        chat_id = update.effective_chat.id
        leading = ""  # replies with nothing to press go out with the next one: one message a turn
        try:
            for number, reply in enumerate(replies):
                text = f"{reply.progress}\n\n{reply.text}" if reply.progress else reply.text
                text = f"{leading}\n\n{text}" if leading else text
                if not reply.options and not reply.documents and number < len(replies) - 1:
                    leading = text
                    continue
                leading = ""
                chunks = split_message(text)
                if reply.progress:  # progress in italics: escape first, then mark up
                    progress = html.escape(reply.progress)
                    at = next((i for i, chunk in enumerate(chunks) if progress in chunk), None)
                    if at is not None:
                        chunks[at] = chunks[at].replace(progress, f"<i>{progress}</i>", 1)
                for piece, chunk in enumerate(chunks):
                    last = piece == len(chunks) - 1
                    await context.bot.send_message(chat_id, chunk, parse_mode=ParseMode.HTML,
                                                   reply_markup=keyboard(reply) if last else None)
                for document in reply.documents:  # one to be made (a PDF: half a second) is made in a thread
                    data = document.data if document.ready else await asyncio.to_thread(lambda: document.data)
                    await context.bot.send_document(chat_id, InputFile(data, filename=document.filename))
        except Forbidden:
            log.info("user %s has blocked the bot; nothing sent", update.effective_user.id)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        log.error("error handling an update: %s", type(error).__name__)  # never the message text
        if isinstance(update, Update) and update.effective_chat is not None and not isinstance(error, Forbidden):
            try:
                await context.bot.send_message(update.effective_chat.id, html.escape(self.say.something_wrong))
            except TelegramError:
                pass


async def register_commands(application: Application) -> None:
    await application.bot.set_my_commands([BotCommand(name, about) for name, about in COMMANDS])


def schedule_purge(application: Application, service) -> None:
    """Delete what is older than the retention period once a day (and once at start)."""
    async def purge_job(context: ContextTypes.DEFAULT_TYPE) -> None:
        def work():
            with service.store.transaction() as session:
                return purge(session, service.retention_days)
        counts = await asyncio.get_running_loop().run_in_executor(None, work)
        log.info("retention purge: %s", counts)

    application.job_queue.run_repeating(purge_job, interval=24 * 60 * 60, first=10, name="retention-purge")


def build_application(service, token: str, base_url: str | None = None, rate_limit: bool = True,
                      request=None) -> Application:
    """The bot, ready to run; `request` replaces the HTTP client (the benchmark answers in-process)."""
    builder = ApplicationBuilder().token(token).concurrent_updates(True).post_init(register_commands)
    if base_url:
        builder = builder.base_url(base_url)
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    if rate_limit:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=3))
    application = builder.build()
    TelegramChannel(service).install(application)
    schedule_purge(application, service)
    return application
