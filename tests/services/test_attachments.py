"""Reading attached files: text and PDF in, bounded text out, clear refusals."""

from __future__ import annotations

import base64

import pytest

from switchboard.services import attachments
from switchboard.services.attachments import read_attachment
from switchboard.services.errors import ValidationFailed
from tests.files.pdf import make_pdf


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


async def test_a_pdf_is_read_page_by_page() -> None:
    read = await read_attachment("report.pdf", "application/pdf",
                                 _b64(make_pdf("Quarterly revenue rose", "Costs (fell)")))
    assert "Quarterly revenue rose" in read.text and "Costs (fell)" in read.text
    assert read.text.index("Quarterly") < read.text.index("Costs")
    assert read.media_type == "application/pdf" and read.warnings == ()
    part = read.as_part()
    assert part["type"] == "file" and part["filename"] == "report.pdf"


async def test_text_files_by_media_type_or_name() -> None:
    csv = await read_attachment("data.csv", "application/octet-stream", _b64(b"a,b\n1,2\n"))
    assert csv.text == "a,b\n1,2\n" and csv.media_type == "text/plain"
    bom = await read_attachment("notes", "text/markdown", _b64("\ufeff# Titel ü".encode()))
    assert bom.text == "# Titel ü"


async def test_long_text_is_cut_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(attachments, "MAX_TEXT_CHARS", 10)
    read = await read_attachment("a.txt", "text/plain", _b64(b"x" * 100))
    assert read.text == "x" * 10 and "first 10 characters" in read.warnings[0]


async def test_pages_beyond_the_limit_are_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(attachments, "MAX_PDF_PAGES", 2)
    read = await read_attachment("big.pdf", "application/pdf",
                                 _b64(make_pdf("one", "two", "three")))
    assert "three" not in read.text and "first 2 of 3 pages" in read.warnings[0]


@pytest.mark.parametrize(("name", "media_type", "raw", "says"), [
    ("photo.exe", "application/x-msdownload", b"MZ", "cannot be attached"),
    ("broken.pdf", "application/pdf", b"%PDF-1.4 garbage", "could not be read as a PDF"),
    ("fake.txt", "text/plain", b"\x00\x01\x02binary", "not a text file"),
])
async def test_unusable_files_are_refused_clearly(name: str, media_type: str, raw: bytes,
                                                  says: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await read_attachment(name, media_type, _b64(raw), field="files.0")
    assert says in caught.value.message and caught.value.field == "files.0"


async def test_bad_base64_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="base64"):
        await read_attachment("a.txt", "text/plain", "not base64!")
