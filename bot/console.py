"""The console chat (`reflectbot chat`): the same service as Telegram, in a terminal.

Interactive: replies are printed as plain text, options numbered; type a number to choose, text to
answer, and /back, /skip, /stop, /help, /where, /history, /summary N as commands.
`--jsonl`: one JSON object per input line ({"text": ...}, {"choice": ...} or {"command": ...}), one
JSON object per reply, for scripts and tests.
"""
from __future__ import annotations

import json
import sys
from typing import IO

from dialogues.engine import Event, Reply


def parse_line(user: str, line: str, last_options: tuple = ()) -> Event:
    """What a typed line means: a /command, the number of an option on screen, or text."""
    text = line.strip()
    if text.startswith("/"):
        command, _, argument = text[1:].partition(" ")
        return Event(user, command=command.lower(), text=argument.strip() or None)
    if text.isdigit() and last_options and 1 <= int(text) <= len(last_options):
        return Event(user, choice=last_options[int(text) - 1].value)
    return Event(user, text=text)


def show(reply: Reply, out: IO[str]) -> None:
    if reply.progress:
        out.write(f"[{reply.progress}]\n")
    out.write(reply.text + "\n")
    for number, option in enumerate(reply.options, 1):
        out.write(f"  {number}) {option.label}\n")
    out.write("\n")


def reply_json(reply: Reply) -> dict:
    return {
        "text": reply.text,
        "options": [{"value": o.value, "label": o.label} for o in reply.options],
        "progress": reply.progress,
        "expects": reply.expects,
        "documents": [d.filename for d in reply.documents],
    }


def chat(service, user: str, stdin: IO[str] = sys.stdin, out: IO[str] = sys.stdout) -> int:
    key = f"console:{user}"
    replies = service.handle(Event(key, command="start"))
    options: tuple = ()
    while True:
        for reply in replies:
            show(reply, out)
        if replies:
            options = replies[-1].options
        out.write("> ")
        out.flush()
        line = stdin.readline()
        if not line:
            out.write("\nBye. Your answers are saved; `reflectbot chat` picks up where you left off.\n")
            return 0
        if not line.strip():
            replies = []
            continue
        replies = service.handle(parse_line(key, line, options))


def chat_jsonl(service, user: str, stdin: IO[str] = sys.stdin, out: IO[str] = sys.stdout) -> int:
    key = f"console:{user}"
    for number, line in enumerate(stdin, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            event = _event_of(key, data)
        except (json.JSONDecodeError, ValueError, TypeError, AttributeError):
            out.write(json.dumps({"error": f"line {number}: expected {{\"text\"}}, {{\"choice\"}} "
                                           f"or {{\"command\"}}"}) + "\n")
            continue
        for reply in service.handle(event):
            out.write(json.dumps(reply_json(reply)) + "\n")
        out.flush()
    return 0


def _event_of(key: str, data: dict) -> Event:
    if "command" in data:
        command = str(data["command"]).lstrip("/")
        name, _, argument = command.partition(" ")
        return Event(key, command=name.lower(), text=argument or data.get("text"))
    if "choice" in data:
        return Event(key, choice=str(data["choice"]))
    if isinstance(data.get("text"), str):
        return Event(key, text=data["text"])
    raise ValueError("no text, choice or command")
