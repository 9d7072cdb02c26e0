"""The catalog cache: the model registry without a database read per request.

Everything derived from the catalog (the formatted model registry for the UI, the
DB-backed ``Registry`` with its decrypted provider configs) is cached in-process under a
*catalog version*. Any write through ``switchboard.services`` bumps the version after its
transaction commits, which drops every entry. Other processes learn about it in one of two
ways:

- with ``SWITCHBOARD_REDIS_URL``: the writer publishes on the Redis pub/sub channel
  ``switchboard:catalog``; every process running ``start_listener()`` drops its cache on
  the message (and also whenever its subscription reconnects, since messages may have
  been missed meanwhile). Latency: one pub/sub hop. The listener starts on the first
  cache read of a loop; while Redis is unreachable the probe below is used instead.
- without Redis (one server on SQLite, an admin using the CLI beside it): a *stamp* probe
  (the newest audit-log id — every catalog write adds an audit row in the same
  transaction) runs at most every ``probe_interval`` seconds on a cache read; a changed
  stamp drops the cache. Changes from another process show within that interval.

Counters (``stats``): hits, misses, local and remote invalidations, probe runs,
publish failures — exposed so the docs and metrics can describe the behaviour.

The same Redis link carries other process-to-process *notices* (one pub/sub connection
per process, one place for reconnects): ``notify(channel, payload)`` publishes on a
``switchboard:*`` channel, and ``on_notice(channel, handler)`` runs ``handler(payload)``
for messages from other processes — and ``handler(None)`` after a reconnect, when
messages may have been missed. The listener subscribes to the pattern ``switchboard:*``,
so a channel can be added while it runs. Used for auth revocations
(``services.revocations``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

from switchboard.services import metrics

T = TypeVar("T")
CHANNEL = "switchboard:catalog"
PATTERN = "switchboard:*"
DEFAULT_PROBE_INTERVAL = 5.0
RETRY_LISTEN_AFTER = 30.0
log = logging.getLogger(__name__)

Probe = Callable[[], Awaitable[Hashable]]
MISSING: Any = object()
"""``CatalogCache.fresh``'s answer when only ``get`` can answer."""
NoticeHandler = Callable[[dict[str, Any] | None], None]


@dataclass(slots=True)
class CacheStats:
    hits: int = 0
    misses: int = 0
    invalidations: int = 0
    remote_invalidations: int = 0
    probes: int = 0
    publish_errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class CatalogCache:
    """Values keyed by name, valid for one catalog version."""

    def __init__(
        self, *, origin: str | None = None, probe_interval: float = DEFAULT_PROBE_INTERVAL
    ) -> None:
        self.origin = origin or uuid.uuid4().hex
        self.version = 0
        self.stats = CacheStats()
        self.probe_interval = probe_interval
        self._entries: dict[Hashable, tuple[int, Any]] = {}
        # scope -> (last stamp, monotonic time of the last probe)
        self._stamps: dict[Hashable, tuple[Hashable, float]] = {}
        self._probing: dict[Hashable, asyncio.Future[None]] = {}
        """scope -> the probe on its way (``_maybe_probe``)."""
        self._changed: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Event] = (
            weakref.WeakKeyDictionary()
        )
        self._redis: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _RedisLink] = (
            weakref.WeakKeyDictionary()
        )
        self.redis_url: str | None = None
        self._notice_handlers: dict[str, list[NoticeHandler]] = {}

    # -- reads ---------------------------------------------------------------------
    async def get(
        self,
        key: Hashable,
        loader: Callable[[], Awaitable[T]],
        *,
        probe: Probe | None = None,
        scope: Hashable = None,
    ) -> T:
        """The cached value for ``key`` at the current version, else ``await loader()``.

        ``probe``/``scope``: without Redis, check the stamp of ``scope`` (a database) at
        most every ``probe_interval`` seconds, dropping the cache when it changed.

        A load that races an invalidation is returned to its caller but not stored, so a
        value read before a write can never outlive that write in the cache.
        """
        if self.redis_url is not None:
            await self.ensure_listener()
        if probe is not None and not self._listening():
            # The stamp's age is checked here first: a fresh stamp (nearly every call)
            # costs no coroutine (three of these reads per /v1 call).
            last = self._stamps.get(scope)
            if last is None or time.monotonic() - last[1] >= self.probe_interval:
                await self._maybe_probe(scope, probe)
        entry = self._entries.get(key)
        if entry is not None and entry[0] == self.version:
            self.stats.hits += 1
            metrics.current().cache(True)
            return entry[1]  # type: ignore[no-any-return]
        self.stats.misses += 1
        metrics.current().cache(False)
        version = self.version
        value = await loader()
        if version == self.version:
            self._entries[key] = (version, value)
        return value

    def fresh(self, key: Hashable, scope: Hashable = None) -> Any:
        """What ``get(key, loader, probe=..., scope=scope)`` would return without
        awaiting anything — the entry is current, no stamp probe is due (or the Redis
        subscription is up), no listener to start — else ``MISSING`` (then call
        ``get``). Counted as a hit like ``get``'s. For readers that pass a probe: the
        three catalog reads of every ``/v1`` call (registry, rate-limit rules, budgets)
        skip two closures and a coroutine each (issue 12, fourth pass)."""
        if self.redis_url is None:
            last = self._stamps.get(scope)
            if last is None or time.monotonic() - last[1] >= self.probe_interval:
                return MISSING
        elif not self._listening():
            return MISSING
        entry = self._entries.get(key)
        if entry is None or entry[0] != self.version:
            return MISSING
        self.stats.hits += 1
        metrics.current().cache(True)
        return entry[1]

    async def _maybe_probe(self, scope: Hashable, probe: Probe) -> None:
        now = time.monotonic()
        last = self._stamps.get(scope)
        if last is not None and now - last[1] < self.probe_interval:
            return
        # One probe per scope at a time: the reads that find the stamp due while a
        # probe is on its way wait for that probe's answer instead of each sending its
        # own (at 32 calls in flight, three reads each, ~20 probes went out at every
        # interval; issue 12, fourth pass). A read still never answers from a stamp
        # older than the interval.
        running = self._probing.get(scope)
        if (running is None or running.done()
                or running.get_loop() is not asyncio.get_running_loop()):
            running = asyncio.ensure_future(self._probe(scope, probe, now, last))
            self._probing[scope] = running
            running.add_done_callback(lambda done: self._forget_probe(scope, done))
        await asyncio.shield(running)

    async def _probe(self, scope: Hashable, probe: Probe, now: float,
                     last: tuple[Hashable, float] | None) -> None:
        self.stats.probes += 1
        stamp = await probe()
        if last is not None and stamp != last[0]:
            self._drop(remote=True)
        self._stamps[scope] = (stamp, now)

    def _forget_probe(self, scope: Hashable, done: asyncio.Future[None]) -> None:
        if self._probing.get(scope) is done:
            del self._probing[scope]
        if not done.cancelled():
            done.exception()  # retrieved: a failed probe is raised to its readers

    # -- writes --------------------------------------------------------------------
    def invalidate_local(self) -> int:
        """Drop every entry in this process; returns the new version."""
        self._drop(remote=False)
        return self.version

    async def invalidate(self) -> int:
        """Drop every entry here and tell the other processes (when Redis is set)."""
        version = self.invalidate_local()
        await self._publish()
        return version

    def _drop(self, *, remote: bool) -> None:
        self.version += 1
        self._entries.clear()
        if remote:
            self.stats.remote_invalidations += 1
        else:
            self.stats.invalidations += 1
        for event in list(self._changed.values()):
            event.set()
        log.debug("catalog cache dropped: now version %d (%s)", self.version,
                  "changed in another process" if remote else "changed here")

    async def wait_for_change(self, since: int) -> int:
        """Wait until ``version`` moves past ``since`` (wrap in ``asyncio.timeout``)."""
        loop = asyncio.get_running_loop()
        while self.version <= since:
            event = self._changed.setdefault(loop, asyncio.Event())
            event.clear()
            if self.version > since:
                break
            await event.wait()
        return self.version

    # -- redis ---------------------------------------------------------------------
    def _link(self) -> _RedisLink | None:
        if self.redis_url is None:
            return None
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        link = self._redis.get(loop)
        if link is None:
            link = _RedisLink(self, self.redis_url)
            self._redis[loop] = link
        return link

    async def _publish(self) -> None:
        link = self._link()
        if link is None:
            return
        try:
            await link.publish()
        except Exception as exc:  # the write succeeded; others catch up
            self.stats.publish_errors += 1
            log.warning("could not publish a catalog invalidation to Redis: %s", exc)

    def _listening(self) -> bool:
        link = self._link()
        return link is not None and link.listening

    def listening(self) -> bool:
        """Whether this loop's Redis subscription is up (messages arrive as they are
        published), so a process may rely on it instead of probing the database."""
        return self._listening()

    # -- notices for other concepts over the same link --------------------------------
    def on_notice(self, channel: str, handler: NoticeHandler) -> Callable[[], None]:
        """Run ``handler(payload)`` on each message another process publishes on
        ``channel`` (and ``handler(None)`` after a reconnect); returns an unsubscribe."""
        handlers = self._notice_handlers.setdefault(channel, [])
        handlers.append(handler)

        def unsubscribe() -> None:
            if handler in handlers:
                handlers.remove(handler)
        return unsubscribe

    async def notify(self, channel: str, payload: dict[str, Any]) -> None:
        """Publish ``payload`` to the other processes (no-op without Redis). A failure is
        counted and logged, not raised: the change itself has been committed."""
        link = self._link()
        if link is None:
            return
        try:
            await link.publish(channel, {**payload, "origin": self.origin})
        except Exception as exc:
            self.stats.publish_errors += 1
            log.warning("could not publish on %s to Redis: %s", channel, exc)

    def _notice(self, channel: str, payload: dict[str, Any] | None) -> None:
        for handler in list(self._notice_handlers.get(channel, ())):
            try:
                handler(payload)
            except Exception:  # one bad handler must not stop the listener
                log.exception("notice handler for %s failed", channel)

    def _reconnected(self) -> None:
        """Messages may have been missed while (re)connecting: everyone resyncs."""
        self._drop(remote=True)
        for channel in list(self._notice_handlers):
            self._notice(channel, None)

    async def ensure_listener(self) -> None:
        """Start the listener on first use in this loop (cheap once it runs). If Redis
        cannot be reached, retry at most every ``RETRY_LISTEN_AFTER`` seconds and fall
        back to the audit-stamp probe meanwhile, so a Redis outage slows invalidation
        down but never breaks a request."""
        link = self._link()
        if link is None or link.listening or (link.task is not None and not link.task.done()):
            return
        if time.monotonic() - link.failed_at < RETRY_LISTEN_AFTER:
            return
        try:
            await link.start()
        except Exception as exc:  # Redis down: degrade to probing
            link.failed_at = time.monotonic()
            log.warning("cannot subscribe to Redis for catalog invalidations: %s", exc)

    async def start_listener(self) -> None:
        """Subscribe (returns once the subscription is confirmed) and listen in the
        background for invalidations from other processes."""
        link = self._link()
        if link is not None:
            await link.start()

    async def close(self) -> None:
        """Stop the listener and close this loop's Redis connections."""
        with contextlib.suppress(RuntimeError):
            loop = asyncio.get_running_loop()
            link = self._redis.pop(loop, None)
            if link is not None:
                await link.close()


class _RedisLink:
    """This loop's Redis client: one publisher connection, one subscriber task."""

    def __init__(self, cache: CatalogCache, url: str) -> None:
        from redis import asyncio as aioredis  # optional dependency, imported on use

        self.cache = cache
        self.client: Any = aioredis.from_url(url)
        self.task: asyncio.Task[None] | None = None
        self.listening = False
        self.failed_at = float("-inf")

    async def publish(self, channel: str = CHANNEL,
                      payload: dict[str, Any] | None = None) -> None:
        if payload is None:
            payload = {"origin": self.cache.origin, "version": self.cache.version}
        await self.client.publish(channel, json.dumps(payload))

    async def start(self) -> None:
        if self.task is not None and not self.task.done():
            return
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.task = asyncio.create_task(self._listen(ready), name="catalog-invalidations")
        await ready

    async def _listen(self, ready: asyncio.Future[None]) -> None:
        backoff = 0.5
        while True:
            try:
                async with self.client.pubsub() as pubsub:
                    await pubsub.psubscribe(PATTERN)
                    async for message in pubsub.listen():
                        if message.get("type") == "psubscribe":
                            self.listening = True
                            # Messages may have been missed while (re)connecting.
                            if ready.done():
                                self.cache._reconnected()
                            else:
                                ready.set_result(None)
                            backoff = 0.5
                        elif message.get("type") == "pmessage":
                            self._on_message(message.get("channel"), message.get("data"))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # keep listening through outages
                self.listening = False
                if not ready.done():
                    ready.set_exception(exc)
                    return
                log.warning("catalog invalidation listener lost Redis (%s); retrying", exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)

    def _on_message(self, channel: Any, data: Any) -> None:
        if isinstance(channel, bytes):
            channel = channel.decode("utf-8", "replace")
        try:
            payload = json.loads(data)
            origin = payload["origin"]
        except (ValueError, TypeError, KeyError):
            payload, origin = None, None
        if origin == self.cache.origin:
            return
        if channel == CHANNEL:
            self.cache._drop(remote=True)
        elif isinstance(payload, dict):
            self.cache._notice(str(channel), payload)

    async def close(self) -> None:
        self.listening = False
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
        await self.client.aclose()


_cache: CatalogCache | None = None


def catalog_cache() -> CatalogCache:
    """The process-wide cache (configured from settings on first use)."""
    global _cache
    if _cache is None:
        from switchboard.config import load_settings

        _cache = CatalogCache()
        _cache.redis_url = load_settings().redis_url
    return _cache


def reset_catalog_cache(cache: CatalogCache | None = None) -> CatalogCache:
    """Replace the process-wide cache (a fresh one by default); returns it."""
    global _cache
    _cache = cache or CatalogCache()
    if cache is None:
        from switchboard.config import load_settings

        _cache.redis_url = load_settings().redis_url
    return _cache
