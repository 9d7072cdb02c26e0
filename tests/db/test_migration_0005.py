"""Migration 0005 on data written by the previous version (issue 11, items 1 and 2):
vendors the seed left DISABLED only for lack of a key become enabled (not configured is
not disabled); one an admin switched off stays off; placeholder capabilities ("streaming,
everything else false", written when a vendor listed nothing) become unknown."""

from __future__ import annotations

import json

from sqlalchemy import text

from switchboard.db import Database, migrate

PLACEHOLDER = {"streaming": True, "tools": False, "vision": False, "image_output": False,
               "json_output": False, "reasoning": False}
CURATED = {**PLACEHOLDER, "tools": True}


async def test_seeded_disabled_vendors_become_enabled_admin_choices_stay(
        database_url: str) -> None:
    await migrate.upgrade(database_url, "0004_message_tree")
    db = Database.from_url(database_url, pooled=False)
    try:
        async with db.engine.begin() as conn:
            rows = [  # (id, name, kind, enabled) as the 0003-era seed and an admin left them
                (1, "offline", "offline", True),
                (2, "openai", "openai", False),  # seeded disabled: no key at first start
                (3, "anthropic", "anthropic", False),  # seeded, then an admin toggled it
                (4, "mistral", "mistral", False),  # added by an admin, disabled
                (5, "groq", "openai_compatible", False),  # not a seeded vendor
                (6, "gemini", "gemini", True),
            ]
            for row_id, name, kind, enabled in rows:
                await conn.execute(text(
                    "INSERT INTO providers (id, name, kind, enabled, settings) "
                    "VALUES (:id, :name, :kind, :enabled, :settings)"),
                    {"id": row_id, "name": name, "kind": kind, "enabled": enabled,
                     "settings": "{}"})
            audits = [
                ("catalog.seed", "catalog", None, {"providers": ["openai (9 models)"]}),
                ("provider.key.set", "provider", "2", {"name": "openai", "key": "…abcd"}),
                ("provider.update", "provider", "3",
                 {"name": "anthropic", "changes": {"enabled": True}}),
                ("provider.update", "provider", "3",
                 {"name": "anthropic", "changes": {"enabled": False}}),
                ("provider.update", "provider", "2",
                 {"name": "openai", "changes": {"base_url": {"from": None, "to": "x"}}}),
                ("provider.create", "provider", "4", {"name": "mistral", "enabled": False}),
            ]
            for action, target_type, target_id, details in audits:
                await conn.execute(text(
                    "INSERT INTO audit_log (actor, action, target_type, target_id, details) "
                    "VALUES ('admin', :action, :tt, :tid, :details)"),
                    {"action": action, "tt": target_type, "tid": target_id,
                     "details": json.dumps(details)})
            for model_id, sdk_id, caps in ((1, "listed-bare", PLACEHOLDER),
                                           (2, "curated", CURATED)):
                await conn.execute(text(
                    "INSERT INTO provider_models (id, provider_id, name, model_sdk_id, "
                    "capabilities) VALUES (:id, 5, :sdk, :sdk, :caps)"),
                    {"id": model_id, "sdk": sdk_id, "caps": json.dumps(caps)})

        assert await migrate.upgrade(database_url) == migrate.head()

        async with db.engine.connect() as conn:
            enabled = dict((await conn.execute(text(
                "SELECT name, enabled FROM providers"))).all())
            unlisted = set((await conn.execute(text(
                "SELECT allow_unlisted_models FROM providers"))).scalars())
            caps = {sdk: raw if isinstance(raw, dict) else json.loads(raw)
                    for sdk, raw in (await conn.execute(text(
                        "SELECT model_sdk_id, capabilities FROM provider_models"))).all()}
        assert {k: bool(v) for k, v in enabled.items()} == {
            "offline": True, "openai": True, "anthropic": False, "mistral": False,
            "groq": False, "gemini": True}
        assert {bool(v) for v in unlisted} == {True}  # what routing did before
        assert caps == {"listed-bare": {"streaming": True}, "curated": CURATED}
    finally:
        await db.dispose()
