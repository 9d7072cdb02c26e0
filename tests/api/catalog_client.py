"""Helpers for the catalog REST tests: a client that keeps every body it received (so a
test can prove a secret never came back), and a dump of the catalog tables (so a test
can prove a refused request changed nothing)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.server import Running


class Api:
    """An ``httpx.Client`` on the server with a bearer token; ``seen`` collects every
    response body (shared between clients when passed in)."""

    def __init__(self, server: Running, token: str | None,
                 seen: list[str] | None = None) -> None:
        self.seen: list[str] = seen if seen is not None else []
        headers = {"authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=server.url, headers=headers, timeout=30,
                                 event_hooks={"response": [self._record]})

    def _record(self, response: httpx.Response) -> None:
        response.read()
        self.seen.append(response.text)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return self.http.post(path, json=json, **kw)

    def put(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return self.http.put(path, json=json, **kw)

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.delete(path, **kw)

    def ok(self, method: str, path: str, json: Any = None, status: int = 200) -> Any:
        """The JSON of a call that must answer ``status``."""
        r = self.http.request(method, path, json=json)
        assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text}"
        return r.json() if r.content else None


def catalog_tables(server: Running) -> list[list[tuple[object, ...]]]:
    """Every row of the catalog tables and the audit log, for before/after comparisons."""
    return [server.query(f"SELECT * FROM {table} ORDER BY id")
            for table in ("providers", "provider_models", "audit_log")]


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, f"{response.status_code} {response.text}"
    error: dict[str, Any] = response.json()["error"]
    assert {"message", "code", "field"} <= set(error) <= {"message", "code", "field", "reason"}
    return error
