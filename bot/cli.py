"""The `reflectbot` command. Each subcommand imports what it needs, so `reflectbot match` starts fast."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _knowledge():
    from knowledge.base import ContentError, load_knowledge

    try:
        return load_knowledge()
    except ContentError as error:
        sys.exit(f"reflectbot: {error}\nRun `reflectbot knowledge check` for the full list.")


def _texts_from_stdin():
    """The text of each `{"text": ...}` line on standard input, in order; a line without one is
    answered with an error line in its place, so outputs stay aligned with inputs."""
    for number, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            text = json.loads(line)["text"]
            if not isinstance(text, str):
                raise TypeError
        except (json.JSONDecodeError, KeyError, TypeError):
            print(json.dumps({"error": f"line {number}: expected a JSON object with a text field"}), flush=True)
            continue
        yield text


def cmd_match(args) -> int:
    from bot.render import match_as_text

    kb = _knowledge()
    if args.jsonl:
        for text in _texts_from_stdin():
            answer = kb.matcher.match(text).as_json()
            answer["immediate_risk"] = kb.safety.check(text) is not None
            print(json.dumps(answer), flush=True)
        return 0
    if not args.text:
        sys.exit('reflectbot match: give some text, e.g. reflectbot match "mum says yes to everything"')
    text = " ".join(args.text)
    danger = kb.safety.check(text)
    if danger:
        print(kb.safety.message + "\n")
    print(match_as_text(kb, kb.matcher.match(text)))
    return 0


def cmd_redact(args) -> int:
    from bot.redaction import redact

    if not args.jsonl:
        result = redact(" ".join(args.text))
        print(result.text)
        return 0
    for text in _texts_from_stdin():
        result = redact(text)
        print(json.dumps({"text": result.text, "spans": [{"start": s.start, "end": s.end, "kind": s.kind}
                                                          for s in result.spans]}), flush=True)
    return 0


def cmd_eval(args) -> int:
    from knowledge.evaluation import evaluate, read_labelled

    if args.redaction:
        from bot.redaction import score

        try:
            rows = [json.loads(line) for line in Path(args.file).read_text(encoding="utf-8").splitlines() if line.strip()]
            rates, keep, _ = score(rows)
        except (OSError, ValueError, KeyError) as error:
            sys.exit(f"reflectbot eval: {args.file}: needs lines with text, spans and keep ({type(error).__name__})")
        for kind, rate in rates.items():
            print(f"{kind:15} {rate:6.1%} found")
        print(f"{'kept words':15} {keep['kept'] / max(keep['total'], 1):6.1%} survived ({keep['kept']}/{keep['total']})")
        return 0
    kb = _knowledge()
    if args.safety:
        from knowledge.evaluation import evaluate_safety

        try:
            print(evaluate_safety(kb.safety, Path(args.file)).as_text())
        except (OSError, ValueError, KeyError) as error:
            sys.exit(f"reflectbot eval: {args.file}: needs lines with text and immediate ({error})")
        return 0
    try:
        rows = read_labelled(Path(args.file))
    except (OSError, ValueError) as error:
        sys.exit(f"reflectbot eval: {error}")
    result = evaluate(kb.matcher, rows)
    print(json.dumps(result.as_dict(), indent=2) if args.json else result.as_text())
    return 0


def cmd_knowledge_check(args) -> int:
    from dialogues.script import check_scripts
    from knowledge.base import check_knowledge

    kb, problems = check_knowledge(Path(args.content) if args.content else None)
    if kb is not None:
        problems += check_scripts(kb, Path(args.dialogues) if args.dialogues else None)[1]
        if not args.content:  # another content folder would not ship the model trained on this one
            problems += _stale_model(kb)
    if problems:
        for problem in problems:
            print(problem)
        print(f"{len(problems)} problem(s) found.")
        return 1
    scripts, _ = check_scripts(kb)
    print(f"All content is valid: {len(kb.themes)} themes, {len(kb.sources)} sources, "
          f"{len(kb.learning_points)} learning points, {len(kb.escalation.situations)} escalation "
          f"situations, {len(kb.areas)} areas, {len(scripts)} dialogues.")
    return 0


def _stale_model(kb) -> list:
    from knowledge.base import Problem
    from knowledge.matcher import theme_training
    from knowledge.theme_model import MODEL_FILE, shipped_is_current

    if shipped_is_current(theme_training(kb)):
        return []
    return [Problem(f"knowledge/trained/{MODEL_FILE.name}", "", "fingerprint", "out of date with the examples "
                    "and learning points (or missing); run `reflectbot knowledge train`")]


def cmd_knowledge_train(args) -> int:
    from knowledge.matcher import theme_training
    from knowledge.theme_model import MODEL_FILE, Trained

    kb = _knowledge()
    training = theme_training(kb)
    trained = Trained.learn(training)
    output = Path(args.output) if args.output else MODEL_FILE
    trained.save(output)
    print(f"Trained both classifiers on {len(training.labelled)} texts ({len(training.vocabulary)} features, "
          f"{len(training.labels)} labels) and wrote {output}.")
    return 0


def cmd_chat(args) -> int:
    import getpass

    from bot.console import chat, chat_jsonl

    service = _open_service()
    user = args.user or getpass.getuser()
    try:
        return (chat_jsonl if args.jsonl else chat)(service, user)
    finally:
        service.store.close()


def cmd_diagram(args) -> int:
    from dialogues.script import diagram, load_scripts

    _knowledge()
    scripts = load_scripts()
    if args.dialogue not in scripts:
        sys.exit(f"reflectbot diagram: no dialogue {args.dialogue!r}; there are {', '.join(sorted(scripts))}")
    text = diagram(scripts[args.dialogue].script)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"Wrote the {args.dialogue} state diagram (Mermaid) to {args.output}")
    else:
        print(text)
    return 0


def cmd_run(args) -> int:
    import datetime as dt
    import logging
    import secrets

    from telegram import Update
    from telegram.error import InvalidToken, NetworkError

    from bot.config import Settings
    from bot.telegram import build_application

    settings = Settings()
    if not settings.telegram_bot_token:
        sys.exit("reflectbot run: set TELEGRAM_BOT_TOKEN to the token @BotFather gave your bot (see README).")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx would log request URLs, which carry the token; python-telegram-bot's DEBUG records carry
    # message text. Logs hold ids, kinds and timings only.
    for noisy in ("httpx", "httpcore", "apscheduler", "transitions"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("telegram").setLevel(logging.INFO)
    service = _open_service(dt.timedelta(minutes=settings.idle_minutes), settings.retention_days)
    application = build_application(service, settings.telegram_bot_token,
                                    args.base_url or settings.telegram_base_url)
    try:
        if args.webhook:
            secret = settings.telegram_webhook_secret or secrets.token_urlsafe(32)
            application.run_webhook(listen=args.listen, port=args.port, url_path=args.url_path,
                                    webhook_url=args.webhook, secret_token=secret,
                                    allowed_updates=Update.ALL_TYPES)
        else:
            application.run_polling(allowed_updates=Update.ALL_TYPES)
    except InvalidToken:
        sys.exit("reflectbot run: Telegram rejected the token in TELEGRAM_BOT_TOKEN; check it with @BotFather.")
    except NetworkError as error:
        sys.exit(f"reflectbot run: cannot reach the Bot API server ({type(error).__name__}).")
    finally:
        service.store.close()
    return 0


def _store():
    from sqlalchemy.exc import SQLAlchemyError

    from bot.store import Store

    try:
        return Store()
    except SQLAlchemyError as error:
        sys.exit(f"reflectbot: cannot open the database ({type(error).__name__}).")


def cmd_invite(args) -> int:
    from bot.enrolment import create_invite

    store = _store()
    with store.transaction() as session:
        code = create_invite(session, args.role, args.days)
    print(f"Invite code for a {args.role}, single use, valid {args.days} days: {code}")
    print(f"They send it to the bot as: /start {code}")
    return 0


def cmd_users(args) -> int:
    from bot.enrolment import ROLES, users

    store = _store()
    with store.transaction() as session:
        people = {u.key: u for u in users(session)}
        if args.set_role:
            key, role = args.set_role
            if key not in people or role not in ROLES:
                sys.exit(f"reflectbot users: no user {key!r}, or role not one of {', '.join(ROLES)}")
            people[key].role = role
            print(f"{key} is now a {role}.")
            return 0
        if args.remove:
            if args.remove not in people:
                sys.exit(f"reflectbot users: no user {args.remove!r}")
            session.delete(people[args.remove])
            print(f"{args.remove} and everything about them has been deleted.")
            return 0
        print(f"{'user':28} {'role':13} {'enrolled':11} {'last seen':11} reflections")
        for key, user in people.items():
            print(f"{key:28} {user.role:13} {user.created_at.date()!s:11} {user.last_seen_at.date()!s:11} "
                  f"{len(user.runs)}")
    return 0


def cmd_purge(args) -> int:
    from bot.config import Settings
    from bot.retention import purge

    days = args.days or Settings().retention_days
    store = _store()
    with store.transaction() as session:
        counts = purge(session, days)
    print(f"Deleted what was older than {days} days: " + ", ".join(f"{n} {what}" for what, n in counts.items()))
    return 0


def cmd_keys_rotate(args) -> int:
    import os

    from bot.store import Store, data_dir
    from bot.vault import add_key

    if os.environ.get("REFLECTBOT_KEYS"):
        print("REFLECTBOT_KEYS is set: re-encrypting under its first key (put the new key first).")
        vault = None
    else:
        vault = add_key(data_dir())
    store = Store(vault=vault) if vault else Store()
    count = store.reencrypt()
    print(f"Re-encrypted {count} stored values under the newest key.")
    return 0


def cmd_report_themes(args) -> int:
    import datetime as dt

    from bot.emerging_themes import MINIMUM_CASES, as_text, emerging_themes
    from bot.reports import themes_chart
    from dialogues.engine import load_messages

    try:
        since = dt.date.fromisoformat(args.since)
    except ValueError:
        sys.exit(f"reflectbot report themes: --since takes a date like 2026-01-31, not {args.since!r}")
    kb, say = _knowledge(), load_messages()
    store = _store()
    with store.transaction() as session:
        figures = emerging_themes(session, since, args.min_cases or MINIMUM_CASES)
    print(as_text(figures, kb, say))
    if args.chart and figures.enough:
        title = say.themes_title.format(cases=figures.cases, since=since.isoformat())
        Path(args.chart).write_bytes(themes_chart([(kb.themes[t].name, v) for t, v in figures.shares()], title))
        print(f"\nChart written to {args.chart}")
    return 0


def _open_service(idle_after=None, retention_days: int = 90):
    from sqlalchemy.exc import SQLAlchemyError

    from bot.service import Service
    from knowledge.base import ContentError

    try:
        return Service.open(idle_after=idle_after, retention_days=retention_days)
    except ContentError as error:
        sys.exit(f"reflectbot: {error}")
    except SQLAlchemyError as error:
        sys.exit(f"reflectbot: cannot open the database ({type(error).__name__}). "
                 "Check DATABASE_URL, or unset it to use the local SQLite file.")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reflectbot", description=(
        "Reflective supervision and escalation help for people who keep children safe."))
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    match = commands.add_parser("match", help="find the themes, learning points and routes in some text")
    match.add_argument("text", nargs="*", help="the text to match")
    match.add_argument("--jsonl", action="store_true", help="read {\"text\": ...} lines on stdin")
    match.set_defaults(run=cmd_match)

    redaction = commands.add_parser("redact", help="replace names and identifiers in text with their kind")
    redaction.add_argument("text", nargs="*")
    redaction.add_argument("--jsonl", action="store_true", help='read {"text": ...} lines, write text and spans')
    redaction.set_defaults(run=cmd_redact)

    evaluate = commands.add_parser("eval", help="score the matcher on a labelled JSON Lines file")
    evaluate.add_argument("file")
    evaluate.add_argument("--json", action="store_true", help="print the figures as JSON")
    evaluate.add_argument("--redaction", action="store_true",
                          help="score redaction (lines with text, spans and keep)")
    evaluate.add_argument("--safety", action="store_true",
                          help="score the immediate-danger safety net (lines with text and immediate)")
    evaluate.set_defaults(run=cmd_eval)

    chat = commands.add_parser("chat", help="reflect in a console chat (no token or server needed)")
    chat.add_argument("--user", help="whose conversation this is (default: your login name)")
    chat.add_argument("--jsonl", action="store_true", help="speak JSON Lines on stdin and stdout")
    chat.set_defaults(run=cmd_chat)

    run = commands.add_parser("run", help="run the Telegram bot (token in TELEGRAM_BOT_TOKEN)")
    run.add_argument("--base-url", help="another Bot API server, e.g. http://127.0.0.1:8081/bot")
    run.add_argument("--webhook", metavar="URL", help="take updates by webhook at this HTTPS URL instead of polling")
    run.add_argument("--listen", default="127.0.0.1", help="webhook: address to listen on (default 127.0.0.1)")
    run.add_argument("--port", type=int, default=8443, help="webhook: port to listen on (default 8443)")
    run.add_argument("--url-path", default="telegram", help="webhook: local path (default telegram)")
    run.set_defaults(run=cmd_run)

    invite = commands.add_parser("invite", help="create a single-use invite code to enrol someone")
    invite.add_argument("--role", choices=("practitioner", "manager", "admin"), default="practitioner")
    invite.add_argument("--days", type=int, default=7, help="how long the code is valid (default 7)")
    invite.set_defaults(run=cmd_invite)

    people = commands.add_parser("users", help="list enrolled users, change a role, or remove someone")
    people.add_argument("--set-role", nargs=2, metavar=("USER", "ROLE"))
    people.add_argument("--remove", metavar="USER", help="delete the user and everything about them")
    people.set_defaults(run=cmd_users)

    purge = commands.add_parser("purge", help="delete reflections older than the retention period")
    purge.add_argument("--days", type=int, help="retention period (default RETENTION_DAYS or 90)")
    purge.set_defaults(run=cmd_purge)

    keys = commands.add_parser("keys", help="manage the encryption keys")
    keys_commands = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    rotate = keys_commands.add_parser("rotate", help="add a new key and re-encrypt everything under it")
    rotate.set_defaults(run=cmd_keys_rotate)

    report = commands.add_parser("report", help="reports across case reviews")
    report_commands = report.add_subparsers(dest="report_command", required=True, metavar="REPORT")
    themes = report_commands.add_parser("themes", help="emerging themes across case reviews (counts only)")
    themes.add_argument("--since", required=True, help="first day to count, e.g. 2026-01-01")
    themes.add_argument("--min-cases", type=int, help="fewest reviews a figure may be drawn from (default 3)")
    themes.add_argument("--chart", metavar="FILE.png", help="also write the bar chart here")
    themes.set_defaults(run=cmd_report_themes)

    picture = commands.add_parser("diagram", help="write a dialogue's state machine as a Mermaid diagram")
    picture.add_argument("dialogue")
    picture.add_argument("-o", "--output", help="file to write (default: print it)")
    picture.set_defaults(run=cmd_diagram)

    knowledge = commands.add_parser("knowledge", help="work with the content files")
    knowledge_commands = knowledge.add_subparsers(dest="knowledge_command", required=True, metavar="ACTION")
    check = knowledge_commands.add_parser("check", help="validate every content file and dialogue script")
    check.add_argument("--content", help="another knowledge content folder to check")
    check.add_argument("--dialogues", help="another dialogue scripts folder to check")
    check.set_defaults(run=cmd_knowledge_check)
    train = knowledge_commands.add_parser("train", help="train the classifiers on the examples and ship them")
    train.add_argument("-o", "--output", help="file to write (default: the one the matcher loads)")
    train.set_defaults(run=cmd_knowledge_train)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args) or 0
    except KeyboardInterrupt:
        return 130
    except ValueError as error:
        from bot.vault import KeyProblem  # imported here, so commands that need no keys start fast

        if not isinstance(error, KeyProblem):
            raise
        print(f"reflectbot: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
