"""How fast the matcher is: mean and p99 time to match one answer, and `reflectbot match` start-up.

    .venv/bin/python benchmarks/match_speed.py [FILE.jsonl]

Matches every text of the labelled file (default: tests/data/themes_labelled.jsonl) 20 times after a
warm-up, and times three runs of `reflectbot match` from a cold start.
"""
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from knowledge.base import load_knowledge

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "data" / "themes_labelled.jsonl"
    texts = [json.loads(line)["text"] for line in path.read_text().splitlines() if line.strip()]
    started = time.perf_counter()
    matcher = load_knowledge().matcher
    build = time.perf_counter() - started
    for text in texts:
        matcher.match(text)
    times = []
    for _ in range(20):
        for text in texts:
            t = time.perf_counter()
            matcher.match(text)
            times.append(time.perf_counter() - t)
    times.sort()
    print(f"texts: {len(texts)} x 20 from {path.name}")
    print(f"load knowledge + build matcher: {build * 1000:.0f} ms")
    print(f"match: mean {statistics.mean(times) * 1000:.3f} ms, p50 {times[len(times) // 2] * 1000:.3f} ms, "
          f"p99 {times[int(len(times) * 0.99)] * 1000:.3f} ms")
    command = [str(Path(sys.executable).with_name("reflectbot")), "match", "the child was not seen alone"]
    runs = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        runs.append(time.perf_counter() - t)
    print(f"`reflectbot match` start to finish: best {min(runs):.2f} s, worst {max(runs):.2f} s")


if __name__ == "__main__":
    main()
