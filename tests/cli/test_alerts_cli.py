"""``switchboard alerts list | test``: the open alerts and the channels; a test notice
reaches a real webhook receiver on loopback, by number or by name; an unknown channel
and a receiver that refuses are said in words with a failing exit code."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

from switchboard.db import Database
from switchboard.db.migrate import ensure_schema
from switchboard.services import alert_channels
from switchboard.services.audit import SYSTEM
from switchboard.services.keys import open_vault
from tests.alert_support import Receiver
from tests.cli.run import run_main as run_cli


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


async def _add_webhook(url: str) -> int:
    await ensure_schema()
    db = Database.from_settings()
    try:
        made = await alert_channels.create_channel(db, open_vault(), SYSTEM, name="ops hook",
                                                   kind="webhook", settings=None, secret=url)
    finally:
        await db.dispose()
    return int(made["id"])


def test_list_and_test_a_channel(receiver: Receiver) -> None:
    empty = run_cli("alerts", "list")
    assert empty.returncode == 0, empty.stderr
    assert "No open alerts." in empty.stdout and "No alert channels" in empty.stdout

    channel = asyncio.run(_add_webhook(f"{receiver.url}/hook/s3cr3t-token"))
    listed = run_cli("alerts", "list")
    assert f"#{channel:<4} on  webhook  ops hook" in listed.stdout
    assert "s3cr3t" not in listed.stdout  # the webhook address is the channel's secret
    as_json = json.loads(run_cli("alerts", "list", "--json").stdout)
    assert as_json["open"] == [] and as_json["channels"][0]["name"] == "ops hook"

    for wanted in (str(channel), "ops hook"):
        sent = run_cli("alerts", "test", wanted)
        assert sent.returncode == 0, sent.stderr
        assert f"sent a test notice on #{channel} ops hook" in sent.stdout
    assert [path for path, _ in receiver.posts] == ["/hook/s3cr3t-token"] * 2
    assert receiver.posts[0][1]["event"] == "test"

    receiver.status = 500
    refused = run_cli("alerts", "test", "ops hook")
    assert refused.returncode == 1 and "not sent on" in refused.stdout
    assert "s3cr3t" not in refused.stdout + refused.stderr
    unknown = run_cli("alerts", "test", "pager")
    assert unknown.returncode == 1 and "no alert channel 'pager'" in unknown.stderr
