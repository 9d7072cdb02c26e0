"""Work a handler leaves for after its response is sent: a call's accounting.

Why (issue 12, fifth pass): a non-streaming ``/v1`` answer was sent only once its call
was accounted — the usage row queued, the metrics counted, every budget and rate-limit
grant settled — all of it work the caller does not wait for. The handler now hands that
work (``Pipeline.complete_n(..., later=...)``) to the list of its request
(``after_response``), and the front door runs it right after the response went out
(``run``), in the request's own task and in a ``finally``: whether the response was
sent, the client went away or the handler raised, the work runs exactly once, before
the task ends. Nothing in it awaits, so no other request runs between the last byte
and the accounting: a budget or a rate limit sees the call as still in flight until
then, which is the reservation it already holds (the safe direction).

Only the front door's own routes get a list (``FrontDoor._dispatch`` makes it and runs
it); a request the FastAPI app serves gets none, and its work is done at once.
"""

from __future__ import annotations

import logging

from starlette.types import Scope

from switchboard.services.pipeline import Later

__all__ = ["KEY", "Later", "after_response", "run"]

KEY = "switchboard.after_response"
"""Where a request's deferred work waits: a list in its ASGI scope, put there by the
front door for the requests it serves itself."""
log = logging.getLogger("switchboard.server")


def after_response(scope: Scope) -> Later | None:
    """The list of work to run once this request's response is sent; None when nothing
    will run it (a request the FastAPI app serves): then do the work at once. Each item
    must not await and should not raise (one that does is logged)."""
    return scope.get(KEY)


def run(later: Later, path: str) -> None:
    """Run a request's deferred work, in order (``FrontDoor._dispatch``, once), and
    empty the list: an item may hold what holds the list (a pipeline call keeps it),
    a cycle that only the garbage collector would free otherwise."""
    try:
        for work in later:
            try:
                work()
            except Exception:
                log.exception("work after the response failed", extra={"path": path})
    finally:
        later.clear()
