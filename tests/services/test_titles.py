"""What a model answers when asked for a title, made into a title."""

from __future__ import annotations

import pytest

from switchboard.services.titles import clean_title


@pytest.mark.parametrize(("answer", "title"), [
    ("Planting tomatoes", "Planting tomatoes"),
    ('"Planting tomatoes."', "Planting tomatoes"),
    ("Title: **Garden plans**", "Garden plans"),
    ("\n\n# Tomates au jardin\nSome explanation", "Tomates au jardin"),
    ("\u201cK\u00fcchenplanung\u201d", "K\u00fcchenplanung"),
    ("titre\uff1a Les tomates", "Les tomates"),
    ("   ", None),
    ('""', None),
])
def test_clean_title(answer: str, title: str | None) -> None:
    assert clean_title(answer) == title


def test_a_long_answer_is_cut_at_a_word() -> None:
    cut = clean_title("word " * 40)
    assert cut is not None and len(cut) <= 81 and cut.endswith("word…")
