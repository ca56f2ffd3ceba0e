"""Killing `reflectbot chat` mid-dialogue loses nothing: the next start resumes at the same step."""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

REFLECTBOT = [sys.executable, "-m", "bot.cli"]


def start(env):
    return subprocess.Popen(REFLECTBOT + ["chat", "--jsonl", "--user", "pat"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=env, cwd=Path(__file__).parents[1])


def send(process, event, replies_expected):
    process.stdin.write(json.dumps(event) + "\n")
    process.stdin.flush()
    return [json.loads(process.stdout.readline()) for _ in range(replies_expected)]


def test_a_killed_chat_resumes_at_the_same_step_with_every_answer(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}"}
    first = start(env)
    send(first, {"choice": "reflect:fathers_and_males"}, 2)
    send(first, {"text": "dad, mum's partner and an uncle who visits"}, 1)
    before = send(first, {"choice": "none"}, 1)[-1]
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)

    second = start(env)
    resumed = send(second, {"command": "start"}, 3)
    assert resumed[-1]["text"] == before["text"] and resumed[-1]["progress"] == before["progress"]
    stopped = send(second, {"command": "stop"}, 2)[-1]
    assert "dad, mum's partner and an uncle who visits" in stopped["text"]
    second.stdin.close()
    assert second.wait(timeout=10) == 0
