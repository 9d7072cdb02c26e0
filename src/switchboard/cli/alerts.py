"""``switchboard alerts list | test CHANNEL``: the open alerts and the channels that carry
them, and a test notice on one channel (``services.alerts``; issue 17 §4). Channels and
rules are managed in Settings → Alerts (or ``/api/alerts``); this is for the operator at
a terminal: what is wrong now, and does the pager still ring."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("alerts", help="open alerts, and test an alert channel")
    s = p.add_subparsers(dest="alerts_command", metavar="COMMAND", required=True)
    ls = s.add_parser("list", help="the open alerts and the channels")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(handler=_list)
    test = s.add_parser("test", help="send a test notice on a channel now",
                        description="CHANNEL is the channel's number or its name "
                        "(as 'switchboard alerts list' shows them).")
    test.add_argument("channel", metavar="CHANNEL")
    test.set_defaults(handler=_test)


async def _list(args: argparse.Namespace) -> int:
    from switchboard.cli.users import _db
    from switchboard.services import alert_channels, alerts

    db = await _db()
    try:
        open_alerts = await alerts.open_alerts(db)
        channels = await alert_channels.list_channels(db)
    finally:
        await db.dispose()
    if args.json:
        print(json.dumps({"open": open_alerts, "channels": channels}, indent=2))
        return 0
    if not open_alerts:
        print("No open alerts.")
    for alert in open_alerts:
        print(f"OPEN  {alert['opened_at'][:19]}  {alert['title']}: {alert['message']}")
    print()
    if not channels:
        print("No alert channels (add them in Settings > Alerts).")
    for channel in channels:
        state = "on " if channel["enabled"] else "off"
        print(f"#{channel['id']:<4} {state} {channel['kind']:<8} {channel['name']}")
    return 0


def _find(channels: list[dict[str, Any]], wanted: str) -> dict[str, Any] | None:
    for channel in channels:
        if str(channel["id"]) == wanted.lstrip("#") or channel["name"] == wanted:
            return channel
    return None


async def _test(args: argparse.Namespace) -> int:
    from switchboard.cli.users import _db
    from switchboard.config import load_settings
    from switchboard.services import alert_channels
    from switchboard.services.alerts import Evaluator
    from switchboard.services.errors import NotFound
    from switchboard.services.keys import open_vault

    db = await _db()
    try:
        channel = _find(await alert_channels.list_channels(db), args.channel.strip())
        if channel is None:
            raise NotFound(f"no alert channel {args.channel!r} "
                           "(see 'switchboard alerts list')")
        evaluator = Evaluator(db, vault=open_vault, base_url=load_settings().public_url)
        try:
            await evaluator.send_test(int(channel["id"]))
        except alert_channels.DeliveryFailed as exc:
            print(f"not sent on #{channel['id']} {channel['name']}: {exc}")
            return 1
    finally:
        await db.dispose()
    print(f"sent a test notice on #{channel['id']} {channel['name']} ({channel['kind']})")
    return 0
