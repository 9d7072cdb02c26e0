"""Streams in flight end with a last ``error`` event when the server is asked to stop.

On SIGTERM (or Ctrl+C) uvicorn stops accepting connections and waits up to its graceful
timeout for responses to finish, then cancels them: a long answer was cut mid-stream, the
client saw a broken connection and the log a traceback. Instead, the signal reaches
``StreamShutdown.request()`` at once (``hook_signals`` chains our handler in front of
uvicorn's); every streaming response registered with ``streaming()`` is cancelled with
``SHUTTING_DOWN``, which stops the upstream read where it waits. The stream catches that
cancellation (``absorb()``), the answer is saved as usual (``metered`` reports the outcome),
and the client gets a final event in its surface's shape: ``event: error`` with code
``shutting_down`` on ``/api/chat``, an OpenAI error chunk on ``/v1``. Then uvicorn's
graceful shutdown finds no open stream and the lifespan drains the saves.

Signals can only be handled in the main thread; a server run in a thread (tests) calls
``request()`` itself.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

SHUTTING_DOWN = "the server is shutting down"
CODE = "shutting_down"


class StreamShutdown:
    """The streaming responses of this process, and whether a stop was asked for."""

    def __init__(self) -> None:
        self.requested = False
        self._tasks: set[asyncio.Task[Any]] = set()

    @contextmanager
    def streaming(self) -> Iterator[None]:
        """Register the current task as a stream to end cleanly at shutdown."""
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            yield
        finally:
            if task is not None:
                self._tasks.discard(task)

    def request(self) -> None:
        """Stop: every registered stream is cancelled with ``SHUTTING_DOWN``."""
        if self.requested:
            return
        self.requested = True
        for task in list(self._tasks):
            task.cancel(SHUTTING_DOWN)

    def absorb(self) -> bool:
        """In ``except CancelledError``: True if the cancellation is our shutdown (it is
        then withdrawn, so the stream can send its last event), False to re-raise."""
        task = asyncio.current_task()
        if not self.requested or task is None or task not in self._tasks:
            return False
        while task.cancelling():
            task.uncancel()
        return True

    @property
    def active(self) -> int:
        return len(self._tasks)


Handler = Callable[[int, FrameType | None], Any] | int | None


def hook_signals(on_signal: Callable[[], None]) -> Callable[[], None]:
    """Run ``on_signal`` in the event loop on SIGTERM/SIGINT, then the handler that was
    there (uvicorn's, which starts its graceful shutdown). Returns a function that puts
    the previous handlers back. Does nothing outside the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    previous: dict[int, Handler] = {}

    def make(before: Handler) -> Callable[[int, FrameType | None], None]:
        def handler(signum: int, frame: FrameType | None) -> None:
            loop.call_soon_threadsafe(on_signal)
            if callable(before):
                before(signum, frame)
            elif before != signal.SIG_IGN:  # the default action: stop as before
                signal.signal(signum, signal.SIG_DFL)
                signal.raise_signal(signum)
        return handler

    ours: dict[int, Callable[[int, FrameType | None], None]] = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous[sig] = signal.getsignal(sig)
        ours[sig] = make(previous[sig])
        signal.signal(sig, ours[sig])

    def restore() -> None:
        for sig, before in previous.items():
            if signal.getsignal(sig) is ours[sig]:
                signal.signal(sig, before if before is not None else signal.SIG_DFL)

    return restore
