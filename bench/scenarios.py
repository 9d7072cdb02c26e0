"""The benchmark's scenarios: what is sent, how often, how many at once.

Each scenario runs twice in the same run, against the same mock: *direct* (client ->
mock) and *through* (client -> ``switchboard serve`` -> mock). The difference is what
Switchboard adds.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scenario:
    name: str
    stream: bool
    concurrency: int
    requests: int

    @property
    def label(self) -> str:
        return f"{'stream' if self.stream else 'json'} c={self.concurrency}"


DEFAULT_REQUESTS = {False: 2000, True: 1000}
QUICK_REQUESTS = 20


def scenarios(requests: int | None = None, quick: bool = False) -> list[Scenario]:
    def count(stream: bool) -> int:
        if quick:
            return QUICK_REQUESTS
        return requests or DEFAULT_REQUESTS[stream]

    return [
        Scenario("json-c1", False, 1, count(False)),
        Scenario("json-c32", False, 32, count(False)),
        Scenario("stream-c1", True, 1, count(True)),
        Scenario("stream-c32", True, 32, count(True)),
    ]


def select(all_: list[Scenario], names: str | None) -> list[Scenario]:
    if not names:
        return all_
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    known = {s.name: s for s in all_}
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise SystemExit(f"unknown scenario(s) {', '.join(unknown)}; "
                         f"choose from {', '.join(known)}")
    return [known[n] for n in wanted]
