"""One member on one running server, talking to one ``/v1`` operation two ways: the
official ``openai`` SDK with strict response validation (what a user's code does), and
raw JSON (what the SDK would refuse to send: hostile and malformed bodies). Shared by the
``/v1/embeddings`` and ``/v1/images/generations`` tests, each with a module-scoped server
(a server per test would cost seconds each)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import openai
import pytest

from tests.conftest import isolate
from tests.server import Running, running_server


class V1Member:
    def __init__(self, server: Running, username: str, path: str) -> None:
        self.server = server
        self.path = path
        self.token = server.make_user(username)
        self.client = openai.OpenAI(base_url=server.v1, api_key=self.token, max_retries=0,
                                    _strict_response_validation=True)

    def raw(self, body: object) -> httpx.Response:
        return httpx.post(f"{self.server.v1}{self.path}", json=body, timeout=60,
                          headers={"authorization": f"Bearer {self.token}"})


@contextmanager
def v1_member(tmp_path_factory: pytest.TempPathFactory, username: str,
              path: str) -> Iterator[V1Member]:
    """A fresh data dir and server for one test module, and ``username`` on it."""
    with pytest.MonkeyPatch.context() as env:
        isolate(env, tmp_path_factory.mktemp(username) / "data")
        with running_server() as server:
            yield V1Member(server, username, path)
