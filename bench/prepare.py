"""Prepare a Switchboard database for the benchmark (run in a child process, with the
benchmark's environment, so the settings are exactly the server's).

Brings the schema to head, seeds the catalog (``OPENAI_API_KEY`` is set, so the seeded
``openai`` provider is enabled and reads ``OPENAI_BASE_URL``, which points at the mock),
then creates a user and an API token through ``switchboard.services.accounts`` and prints
the token as JSON on stdout.

With ``BENCH_BUDGETS=1`` the benchmark's user and token each get a hard monthly budget so
large that no call is refused: every call then pays a reservation and a settlement
(``--budgets``), as the issue's figures require.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets

from switchboard.config import load_settings
from switchboard.db import Database
from switchboard.db.migrate import ensure_schema
from switchboard.services import accounts, budgets
from switchboard.services.audit import CLI
from switchboard.services.seed import seed_catalog


async def prepare() -> str:
    settings = load_settings()
    await ensure_schema(settings.database_url)
    db = Database.from_url(settings.database_url, pooled=False)
    try:
        await seed_catalog(db)
        name = "bench-" + secrets.token_hex(4)
        user = await accounts.create_user(db, name, secrets.token_urlsafe(16))
        token, view = await accounts.create_token(db, user.id, "bench")
        if os.environ.get("BENCH_BUDGETS") == "1":
            for scope, ids in (("user", {"user_id": user.id}),
                               ("token", {"token_id": view.id})):
                await budgets.set_budget(db, CLI, scope=scope, amount="1000000",
                                         period="month", **ids)
        return token
    finally:
        await db.dispose()


def main() -> None:
    token = asyncio.run(prepare())
    print(json.dumps({"token": token}))


if __name__ == "__main__":
    main()
