"""``switchboard classify``: the task type of each prompt on stdin, one JSON line each
(issue 16 item 1), so anyone can measure the classifier on their own prompts.

Input: one JSON object per line with a ``prompt`` field (optional ``attachments``, a
list of media types, and ``history``, earlier user messages), or a plain text line.
Output: ``{"task": ..., "confidence": ...}`` per input line, in order; a line that is
neither is answered with ``{"error": ...}`` so the output stays aligned with the input.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

MAX_LINE = 1_000_000
"""Characters read from one input line (the classifier reads far fewer)."""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "classify", help="print the task type of each prompt read on stdin",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    return classify_lines(sys.stdin, sys.stdout)


def classify_lines(source: TextIO, out: TextIO) -> int:
    from switchboard.services.auto.tasks import classify

    for raw in iter(lambda: source.readline(MAX_LINE), ""):
        line = raw.strip()
        if not line:
            continue
        prompt: Any = line
        images = 0
        history: list[str] = []
        if line.startswith("{"):
            try:
                item = json.loads(line)
            except ValueError:
                item = None
            if not isinstance(item, dict) or not isinstance(item.get("prompt"), str):
                out.write(json.dumps({"error": "expected a JSON object with a 'prompt' "
                                               "string"}) + "\n")
                continue
            prompt = item["prompt"]
            attachments = item.get("attachments") or []
            if isinstance(attachments, list):
                images = sum(1 for a in attachments
                             if isinstance(a, str) and a.startswith("image/"))
            raw_history = item.get("history") or []
            if isinstance(raw_history, list):
                history = [h for h in raw_history if isinstance(h, str)]
        result = classify(prompt, images=images, history=history)
        out.write(json.dumps({"task": result.task, "confidence": result.confidence}) + "\n")
    out.flush()
    return 0
