"""``switchboard usage`` reads what the server recorded (the CLI in-process: tests/cli/run.py)."""

from __future__ import annotations

import json
import time

import openai

from tests.cli.run import run_main as sb
from tests.server import running_server


def test_usage_report_from_the_cli() -> None:
    with running_server() as server:
        token = server.make_user("counter")
        client = openai.OpenAI(base_url=server.v1, api_key=token, max_retries=0)
        for text in ("one", "two", "three"):
            client.chat.completions.create(model="offline:offline-chat",
                                           messages=[{"role": "user", "content": text}])
        deadline = time.monotonic() + 10  # batched writes: wait for the rows themselves
        while time.monotonic() < deadline:
            if server.query("SELECT count(*) FROM usage_events")[0][0] == 3:
                break
    table = sb("usage", "--by", "provider")
    assert table.returncode == 0, table.stderr
    offline = next(line for line in table.stdout.splitlines() if line.startswith("offline"))
    assert offline.split()[1] == "3"  # requests
    report = json.loads(sb("usage", "--json", "--user", "counter").stdout)
    assert report["totals"]["requests"] == 3
    assert report["by_model"][0]["ref"] == "offline:offline-chat"
    assert report["totals"]["cost"] in ("0", "0E-10", "0.0000000000") or \
        float(report["totals"]["cost"]) == 0.0
    nobody = sb("usage", "--user", "ghost")
    assert nobody.returncode == 1 and "no user named 'ghost'" in nobody.stderr
    bad = sb("usage", "--from", "2026-13-01")
    assert bad.returncode == 2 and "invalid" in bad.stderr
