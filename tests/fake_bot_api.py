"""A local stand-in for the Telegram Bot API server, for end-to-end tests.

Runs a stdlib ThreadingHTTPServer on 127.0.0.1 (free port) in a background thread
and answers the Bot API methods reflectbot uses, so the real python-telegram-bot
``Application`` can poll it.  Usage::

    with FakeBotAPI() as fake:
        app = ApplicationBuilder().token(fake.token).base_url(fake.base_url).build()
        fake.feed_message(42, "/start")
        await fake.async_wait_for(lambda calls: any(m == "sendMessage" for m, _ in calls))

Every request except getUpdates is recorded in ``calls`` as ``(method, params)``,
including requests answered with a simulated error.  Params are decoded: numbers,
booleans and nested objects (``reply_markup``...) become Python values, and an uploaded
file becomes ``{"filename", "content" (bytes), "mime_type"}``.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

# Parameters whose values are free text: never JSON-decode them ("123" stays a string).
_TEXT_KEYS = {"text", "caption", "data", "callback_query_id", "query", "title", "url",
              "description", "short_description", "emoji", "inline_message_id"}


def _decode(key: str, value: str):
    """PTB form-encodes str values raw and everything else JSON-dumped; undo the latter."""
    if key in _TEXT_KEYS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _parse_body(content_type: str, body: bytes) -> dict:
    """Decode a JSON, x-www-form-urlencoded or multipart/form-data request body."""
    if not body:
        return {}
    if content_type.startswith("application/json"):
        return json.loads(body)
    if not content_type.startswith("multipart/form-data"):
        return {k: _decode(k, v) for k, v in parse_qsl(body.decode(), keep_blank_values=True)}
    boundary = re.search(r'boundary="?([^";]+)"?', content_type).group(1).encode()
    params = {}
    for part in body.split(b"--" + boundary)[1:]:
        if part.startswith(b"--"):  # closing delimiter
            break
        head, _, content = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        content = content.removesuffix(b"\r\n")
        headers = head.decode("utf-8", "replace")
        name = re.search(r'\bname="([^"]*)"', headers).group(1)
        filename = re.search(r'\bfilename="([^"]*)"', headers)
        if filename:
            mime = re.search(r"(?im)^content-type:\s*(\S+)", headers)
            params[name] = {"filename": filename.group(1), "content": content,
                            "mime_type": mime.group(1) if mime else None}
        else:
            params[name] = _decode(name, content.decode())
    return params


def _chat(chat_id: int) -> dict:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": f"User{chat_id}"}
    kind = "supergroup" if str(chat_id).startswith("-100") else "group"
    return {"id": chat_id, "type": kind, "title": f"Chat {chat_id}"}


def _error(code: int, description: str, parameters: dict | None = None) -> dict:
    err = {"ok": False, "error_code": code, "description": description}
    if parameters:
        err["parameters"] = parameters
    return err


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real server
    timeout = 60  # idle keep-alive connections are dropped after this

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_POST(self):  # PTB (httpx) always POSTs, with a Content-Length
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fake: FakeBotAPI = self.server.fake
        url = urlsplit(self.path)
        match = re.fullmatch(r"/bot([^/]+)/(\w+)", url.path)
        if not match:
            status, payload = 404, _error(404, "Not Found")
        elif match.group(1) != fake.token:
            status, payload = 401, _error(401, "Unauthorized")
        else:
            params = {k: _decode(k, v) for k, v in parse_qsl(url.query)}
            params.update(_parse_body(self.headers.get("Content-Type", ""), body))
            status, payload = fake._dispatch(match.group(2), params)
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # client gave up (cancelled long poll)
            self.close_connection = True


class FakeBotAPI:
    def __init__(self, token: str = "123:ABC", username: str = "reflectbot_test_bot"):
        self.token = token
        self.bot_user = {"id": int(token.split(":")[0]), "is_bot": True, "first_name": "ReflectBot",
                         "username": username, "can_join_groups": True,
                         "can_read_all_group_messages": False, "supports_inline_queries": False}
        self.calls: list[tuple[str, dict]] = []   # every request but getUpdates, in order
        self.errors: list[tuple[str, dict, dict]] = []  # (method, params, error payload) sent back
        self.blocked_users: set[int] = set()  # send* to these chats -> 403 blocked
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)  # signalled when updates are fed
        self._updates: list[dict] = []  # fed, not yet confirmed via offset
        self._failures: dict[str, list[dict]] = {}  # method (lowercase) -> queued errors
        self._messages: dict[tuple[int, int], dict] = {}  # (chat_id, message_id) -> bot's message
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)  # shared by user and bot messages
        self._query_ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeBotAPI:
        self._stopping = False
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="FakeBotAPI", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        with self._cond:  # release held long polls
            self._stopping = True
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeBotAPI:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """For Bot(base_url=...) / ApplicationBuilder().base_url(...); PTB appends the token."""
        if self._server is None:
            raise RuntimeError("FakeBotAPI is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}/bot"

    @property
    def base_file_url(self) -> str:  # file downloads are not served (404)
        return self.base_url.replace("/bot", "/file/bot")

    # ---- failure simulation ----------------------------------------------------------------
    def fail_next(self, method: str, error_code: int = 429,
                  description: str = "Too Many Requests: retry after 1",
                  parameters: dict | None = {"retry_after": 1}) -> None:
        """Make the next call to `method` fail (queue several by calling repeatedly)."""
        with self._lock:
            self._failures.setdefault(method.lower(), []).append(
                _error(error_code, description, dict(parameters or {})))

    # ---- request dispatch (called from server threads) -------------------------------------
    def _dispatch(self, method: str, params: dict) -> tuple[int, dict]:
        name = method.lower()
        if name == "getupdates":
            return 200, {"ok": True, "result": self._get_updates(params)}
        with self._lock:
            self.calls.append((method, params))
            queued = self._failures.get(name)
            err = queued.pop(0) if queued else None
            if err is None and name.startswith("send") and \
                    str(params.get("chat_id")) in {str(u) for u in self.blocked_users}:
                err = _error(403, "Forbidden: bot was blocked by the user")
            if err is None:
                try:
                    handler = getattr(self, "_api_" + name, None)
                    return 200, {"ok": True, "result": handler(params) if handler else True}
                except (KeyError, ValueError, TypeError) as exc:
                    err = _error(400, f"Bad Request: {exc!r}")
            self.errors.append((method, params, err))
            return err["error_code"], err

    def _get_updates(self, params: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        with self._cond:
            if offset:  # updates below offset are confirmed: forget them, as Telegram does
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while True:
                ready = [u for u in self._updates if u["update_id"] >= offset][:limit]
                remaining = deadline - time.monotonic()
                if ready or remaining <= 0 or self._stopping:
                    return copy.deepcopy(ready)
                self._cond.wait(remaining)

    def _bot_message(self, params: dict, **content) -> dict:
        chat_id = int(params["chat_id"])
        msg = {"message_id": next(self._message_ids), "date": int(time.time()),
               "chat": _chat(chat_id), "from": self.bot_user}
        msg.update({k: v for k, v in content.items() if v is not None})
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:  # only inline ones echo back
            msg["reply_markup"] = markup
        self._messages[(chat_id, msg["message_id"])] = msg
        return msg

    def _api_getme(self, params):
        return self.bot_user

    def _api_sendmessage(self, params):
        return self._bot_message(params, text=params["text"])

    def _api_senddocument(self, params):
        doc = params["document"]
        upload = doc if isinstance(doc, dict) else {"filename": None, "content": b"", "mime_type": None}
        file_id = doc if isinstance(doc, str) else f"doc{next(self._message_ids)}"
        document = {"file_id": file_id, "file_unique_id": file_id, "file_name": upload["filename"],
                    "mime_type": upload["mime_type"], "file_size": len(upload["content"])}
        return self._bot_message(params, document={k: v for k, v in document.items() if v is not None},
                                 caption=params.get("caption"))

    def _edit(self, params, **changes):
        if "inline_message_id" in params:
            return True
        key = (int(params["chat_id"]), int(params["message_id"]))
        msg = self._messages.get(key) or {"message_id": key[1], "date": int(time.time()),
                                          "chat": _chat(key[0]), "from": self.bot_user}
        msg = {**msg, **changes, "edit_date": int(time.time())}
        msg.pop("reply_markup", None)
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            msg["reply_markup"] = markup
        self._messages[key] = msg
        return msg

    def _api_editmessagetext(self, params):
        return self._edit(params, text=params["text"])

    def _api_editmessagereplymarkup(self, params):
        return self._edit(params)

    # ---- feeding updates -------------------------------------------------------------------
    def feed(self, update: dict) -> dict:
        """Queue a raw update (an update_id is assigned unless present) and wake long polls."""
        with self._cond:
            update.setdefault("update_id", next(self._update_ids))
            self._updates.append(update)
            self._cond.notify_all()
        return update

    def _user(self, user_id: int) -> dict:
        return {"id": user_id, "is_bot": False, "first_name": f"User{user_id}", "language_code": "en"}

    def _user_message(self, user_id, chat_id=None, message_id=None, **content) -> dict:
        return {"message_id": message_id or next(self._message_ids), "date": int(time.time()),
                "chat": _chat(chat_id or user_id), "from": self._user(user_id), **content}

    def feed_message(self, user_id: int, text: str, chat_id: int | None = None,
                     message_id: int | None = None) -> dict:
        msg = self._user_message(user_id, chat_id, message_id, text=text)
        if text.startswith("/"):  # commands need a bot_command entity for CommandHandler
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return self.feed({"message": msg})

    def feed_edited_message(self, user_id: int, text: str, message_id: int | None = None,
                            chat_id: int | None = None) -> dict:
        msg = self._user_message(user_id, chat_id, message_id, text=text, edit_date=int(time.time()))
        return self.feed({"edited_message": msg})

    def feed_callback(self, user_id: int, data: str, message_id: int | None = None,
                      chat_id: int | None = None) -> dict:
        """Press a button on a message the bot sent to the chat (default: its latest
        message carrying an inline keyboard)."""
        chat_id = chat_id or user_id
        with self._lock:
            msg = self.last_message(chat_id, with_keyboard=True) if message_id is None \
                else self._messages.get((chat_id, message_id))
            msg = copy.deepcopy(msg) if msg else {  # unknown message: minimal stand-in
                "message_id": message_id or 0, "date": int(time.time()), "chat": _chat(chat_id),
                "from": self.bot_user, "text": ""}
        query = {"id": str(next(self._query_ids)), "from": self._user(user_id),
                 "chat_instance": f"ci{chat_id}", "data": data, "message": msg}
        return self.feed({"callback_query": query})

    # Non-text messages: minimal but valid media objects (the bot is expected to decline them).
    def feed_photo(self, user_id: int, caption: str | None = None) -> dict:
        photo = [{"file_id": f"photo{w}", "file_unique_id": f"uphoto{w}", "width": w, "height": w}
                 for w in (90, 800)]
        return self._feed_media(user_id, caption, photo=photo)

    def feed_sticker(self, user_id: int) -> dict:
        return self._feed_media(user_id, sticker={
            "file_id": "sticker1", "file_unique_id": "usticker1", "type": "regular", "width": 512,
            "height": 512, "is_animated": False, "is_video": False, "emoji": "\U0001F44D"})

    def feed_voice(self, user_id: int) -> dict:
        return self._feed_media(user_id, voice={"file_id": "voice1", "file_unique_id": "uvoice1",
                                                "duration": 3, "mime_type": "audio/ogg"})

    def feed_document(self, user_id: int, file_name: str = "notes.pdf", caption: str | None = None) -> dict:
        return self._feed_media(user_id, caption, document={
            "file_id": "doc1", "file_unique_id": "udoc1", "file_name": file_name,
            "mime_type": "application/pdf", "file_size": 1024})

    def _feed_media(self, user_id: int, caption: str | None = None, **media) -> dict:
        extra = {"caption": caption} if caption else {}
        return self.feed({"message": self._user_message(user_id, **media, **extra)})

    # ---- inspecting what the bot did -------------------------------------------------------
    def sent(self, method: str | None = None, chat_id: int | None = None) -> list[tuple[str, dict]]:
        with self._lock:
            return [(m, p) for m, p in self.calls
                    if (method is None or m == method)
                    and (chat_id is None or str(p.get("chat_id")) == str(chat_id))]

    def last_message(self, chat_id: int, with_keyboard: bool = False) -> dict | None:
        """The bot's most recent message in a chat as currently stored (edits applied)."""
        with self._lock:
            msgs = [m for (c, _), m in sorted(self._messages.items()) if c == int(chat_id)
                    and (not with_keyboard or "reply_markup" in m)]
            return copy.deepcopy(msgs[-1]) if msgs else None

    def _check(self, predicate, deadline: float, timeout: float):
        with self._lock:
            snapshot = list(self.calls)
        result = predicate(snapshot)
        if result or time.monotonic() < deadline:
            return result
        summary = "; ".join(f"{m}(chat_id={p.get('chat_id')}, text={str(p.get('text', ''))[:50]!r})"
                            for m, p in snapshot[-15:]) or "nothing"
        raise AssertionError(f"condition not met within {timeout}s; last calls: {summary}")

    def wait_for(self, predicate, timeout: float = 5.0):
        """Block until predicate(calls) is truthy and return its value. Don't call this from
        the event loop running the bot: use async_wait_for there."""
        deadline = time.monotonic() + timeout
        while not (result := self._check(predicate, deadline, timeout)):
            time.sleep(0.01)
        return result

    async def async_wait_for(self, predicate, timeout: float = 5.0):
        deadline = time.monotonic() + timeout
        while not (result := self._check(predicate, deadline, timeout)):
            await asyncio.sleep(0.01)
        return result
