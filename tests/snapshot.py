"""JSON snapshots of outgoing request bodies. ``UPDATE_SNAPSHOTS=1`` rewrites them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def assert_snapshot(data: Any, path: Path) -> None:
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return
    if not path.exists():
        raise AssertionError(f"no snapshot at {path}; run with UPDATE_SNAPSHOTS=1 to create it")
    expected = path.read_text()
    assert text == expected, f"request body differs from snapshot {path.name}:\n{text}"
