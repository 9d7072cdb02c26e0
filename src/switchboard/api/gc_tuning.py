"""The garbage collector of a server process, tuned once start-up is over (decision 0179).

CPython's cyclic collector runs a *full* collection now and then, and a full collection
walks every container object in the process: for a server, the hundreds of thousands
that importing FastAPI, SQLAlchemy, pydantic and the app made, none of which will ever
be garbage. Measured under load (docs/performance.md, issue 12 third pass): each full
collection took ~80 ms of CPU, ~40 µs per request. ``gc.freeze()`` moves everything
alive at that moment into a permanent generation the collector skips; a full collection
then walks only what was made since (~2 ms).

The young generation is collected after 700 net new containers by default; at 32
requests in flight that is every few requests, and each collection walks (and promotes)
the live state of every request in flight. A threshold of 10,000 lets nearly all of a
request's containers be freed by their reference counts first: 345 → 2 collections per
2,000 streams, ~60 → ~2 µs per stream. Only reference *cycles* wait longer to be freed
(a few MB at most).
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000
"""Net new containers between two collections of the youngest generation (CPython: 700)."""


def tune_gc() -> None:
    """Free the young garbage start-up left, freeze the rest, raise the young threshold.

    Not a full ``gc.collect()`` first: at this point it took ~70 ms of start-up CPU to
    find a handful of objects; the few cycles it would have freed stay frozen. Only the
    youngest generation: ``serve`` ran its start with a high young threshold
    (``cli.main.START_YOUNG_THRESHOLD``), so the middle one holds most of what start-up
    made, and walking it would cost what the high threshold saved."""
    gc.collect(0)
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
