"""``python -m bench.revocation_check``: what the cross-process revocation check costs.

Measures, on a temporary SQLite database: a cached token lookup
(``TokenAuthenticator.authenticate``) without the revocation watch and with it (the
per-request path: a clock read and a comparison while the last stamp read is under a
second old), and one stamp read (what a process pays once a second without Redis).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from switchboard.api.tokens import TokenAuthenticator
from switchboard.db import Database
from switchboard.db.migrate import ensure_schema
from switchboard.db.models import ApiToken, User
from switchboard.security.tokens import generate_token
from switchboard.services.revocations import RevocationWatch, read_stamp

CALLS = 200_000


async def _per_call(auth: TokenAuthenticator, token: str, calls: int) -> float:
    await auth.authenticate(token)  # warm: cached from here on
    started = time.perf_counter()
    for _ in range(calls):
        await auth.authenticate(token)
    return (time.perf_counter() - started) / calls


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await ensure_schema(url)
        db = Database.from_url(url)
        new = generate_token()
        async with db.unit_of_work() as session:
            user = User(username="bench", role="user", password_hash="x")
            session.add(user)
            await session.flush()
            session.add(ApiToken(user_id=user.id, name="b", token_hash=new.token_hash,
                                 prefix=new.hint))
        # interval: effectively never due here, to time the per-request path alone
        watch = RevocationWatch(db, interval=3600, backstop=3600)
        await watch.start()
        plain = TokenAuthenticator(db)
        watched = TokenAuthenticator(db, revocations=watch)
        rounds = [(await _per_call(plain, new.token, CALLS),
                   await _per_call(watched, new.token, CALLS)) for _ in range(5)]
        without = statistics.median(r[0] for r in rounds)
        with_watch = statistics.median(r[1] for r in rounds)
        started = time.perf_counter()
        for _ in range(CALLS):
            await watch.check()
        check_alone = (time.perf_counter() - started) / CALLS
        reads = []
        for _ in range(200):
            started = time.perf_counter()
            await read_stamp(db)
            reads.append(time.perf_counter() - started)
        await db.dispose()
    print(f"cached token lookup without the watch: {without * 1e9:.0f} ns")
    print(f"cached token lookup with the watch:    {with_watch * 1e9:.0f} ns "
          f"(+{(with_watch - without) * 1e9:.0f} ns per request)")
    print(f"the check alone (await watch.check(), not due): {check_alone * 1e9:.0f} ns")
    print(f"one stamp read (SQLite, once a second without Redis): "
          f"{statistics.median(reads) * 1e3:.3f} ms median")


if __name__ == "__main__":
    asyncio.run(main())
