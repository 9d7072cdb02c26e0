"""The task-type classifier: accuracy on the held-out labelled set (never tuned on),
the cues beyond the text (an attached image, the conversation), bounded work, and
``switchboard classify`` run in-process."""

from __future__ import annotations

import io
import json
import sys
from collections import Counter
from pathlib import Path

import pytest

from switchboard.cli.main import main
from switchboard.services.auto.tasks import TASK_TYPES, classify

DATA = Path(__file__).resolve().parents[2] / "data"

HELDOUT_FLOOR = 0.95
"""Measured once after tuning on the dev set: 302/310 = 97.4% (decision 0112). A rule
change that drops the held-out accuracy below this floor fails here; raising the figure
by editing rules while looking at the held-out errors would make it meaningless."""


def _rows(name: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in (DATA / name).read_text().splitlines()]


def _accuracy(rows: list[dict[str, object]]) -> tuple[float, Counter[tuple[str, str]]]:
    wrong: Counter[tuple[str, str]] = Counter()
    for row in rows:
        got = classify(str(row["prompt"]), images=len(row.get("attachments") or []),  # type: ignore[arg-type]
                       history=list(row.get("history") or []))  # type: ignore[call-overload]
        if got.task != row["task"]:
            wrong[(str(row["task"]), got.task)] += 1
    return 1 - sum(wrong.values()) / len(rows), wrong


def test_heldout_accuracy_stays_above_the_reported_floor() -> None:
    rows = _rows("task_types_heldout.jsonl")
    assert len(rows) >= 300
    assert {r["task"] for r in rows} == set(TASK_TYPES)
    accuracy, wrong = _accuracy(rows)
    print(f"\nheld-out set: {len(rows)} prompts, accuracy {accuracy:.1%}, "
          f"confusions {dict(wrong)}", file=sys.stderr)
    assert accuracy >= HELDOUT_FLOOR


def test_the_sets_do_not_share_prompts() -> None:
    dev = {str(r["prompt"]).lower() for r in _rows("task_types_dev.jsonl")}
    held = {str(r["prompt"]).lower() for r in _rows("task_types_heldout.jsonl")}
    assert dev & held <= {""}  # an image with no words is in both, nothing else


@pytest.mark.parametrize(("prompt", "images", "task"), [
    ("What is in this photo?", 1, "vision"),
    ("", 1, "vision"),
    ("Turn this photo into a watercolor painting", 1, "image"),
    ("Generate an image of a lighthouse", 0, "image"),
    # a look asked for without a verb: restyle the picture
    ("in anime style please", 1, "image"),
    ("as a watercolour", 1, "image"),
    ("pixel art style", 1, "image"),
    # a question about the picture's style, or a text in a writer's style: vision
    ("What style is this painting?", 1, "vision"),
    ("Is this in anime style?", 1, "vision"),
    ("Who painted this, van gogh?", 1, "vision"),
    ("Write a poem about this photo in the style of Shakespeare", 1, "vision"),
])
def test_an_attached_image_is_vision_unless_an_image_is_to_be_made(
        prompt: str, images: int, task: str) -> None:
    assert classify(prompt, images=images).task == task


def test_a_follow_up_takes_the_task_of_the_conversation() -> None:
    assert classify("and in Spanish?", history=["Translate 'good night' to French"]).task \
        == "translation"
    assert classify("make it sadder", history=["Write a poem about rain"]).task == "writing"
    assert classify("thanks!", history=["What is the capital of Peru?"]).task == "chat"


def test_confidence_is_between_0_and_1_and_work_is_bounded() -> None:
    huge = "lorem ipsum dolor sit amet " * 40_000  # ~1 MB: only a slice is read
    result = classify("Summarize this: " + huge)
    assert result.task == "summarize"
    assert 0 < result.confidence <= 1
    assert classify(huge + " Translate the above into German.").task == "translation"


def test_cli_reads_json_lines_and_plain_text(monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    lines = "\n".join([
        json.dumps({"prompt": "Translate 'thank you' into Japanese"}),
        "write a haiku about the sea",
        json.dumps({"prompt": "what is this?", "attachments": ["image/png"]}),
        json.dumps({"no": "prompt"}),
        "",
    ])
    monkeypatch.setattr(sys, "stdin", io.StringIO(lines))
    assert main(["classify"]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [o.get("task") for o in out] == ["translation", "writing", "vision", None]
    assert all(0 < o["confidence"] <= 1 for o in out[:3])
    assert "prompt" in out[3]["error"]
