"""Files attached to a chat message: text files and PDFs, read once, sent as text.

Every model can read text, few can read a PDF, and none can read a ``.csv`` as a file, so
the text is extracted here, when the message is sent, and stored with the file. The model
is shown the text (``chat_history`` wraps it in an ``<attachment>`` block); the original
file is kept in the file store and referenced from the message (``message_files``,
decision 0186) for the user (export, download) and, for a model that reads PDFs itself
(``chat_history.reads_pdfs``, decision 0149), is sent whole instead.

Hostile input is bounded: the file count and size (``ChatInput``), the pages read
(``MAX_PDF_PAGES``) and the characters kept (``MAX_TEXT_CHARS``, with a warning when cut).
PDF parsing (pypdf, pure Python) runs in a worker thread so a large file does not stall
the server's other requests; pypdf bounds its own decompression of hostile streams, and
is imported only when the first PDF arrives.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from dataclasses import dataclass
from io import BytesIO
from pathlib import PurePosixPath
from typing import Any

from switchboard.services.errors import ValidationFailed

log = logging.getLogger("switchboard.attachments")

MAX_FILES = 8
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_PDF_PAGES = 300
MAX_TEXT_CHARS = 400_000
MAX_FILENAME = 200

PDF = "application/pdf"
# Text that is not ``text/*``: what browsers report for common source and data files.
_TEXT_MEDIA_TYPES = frozenset({
    "application/json", "application/xml", "application/x-yaml", "application/yaml",
    "application/toml", "application/javascript", "application/x-sh", "application/sql",
    "application/x-python", "application/ld+json", "application/csv",
})
# Browsers often send ``application/octet-stream`` (or nothing) for these.
_TEXT_SUFFIXES = frozenset({
    ".txt", ".md", ".markdown", ".csv", ".tsv", ".json", ".jsonl", ".yaml", ".yml",
    ".toml", ".ini", ".cfg", ".conf", ".xml", ".html", ".htm", ".css", ".js", ".ts",
    ".tsx", ".jsx", ".py", ".rb", ".go", ".rs", ".java", ".kt", ".c", ".h", ".cpp", ".hpp",
    ".cs", ".php", ".sh", ".sql", ".log", ".rst", ".tex", ".swift", ".scala", ".r",
})


@dataclass(frozen=True, slots=True)
class ReadFile:
    """An attachment as read: the original bytes and the text the model is shown."""

    filename: str
    media_type: str
    raw: bytes
    text: str
    warnings: tuple[str, ...] = ()
    pages: int | None = None
    """A PDF's page count: whether a model that reads PDFs itself may be sent it whole."""

    def fields(self) -> dict[str, Any]:
        """What the ``messages.parts`` entry keeps besides the file: its name and the
        extracted ``text`` (read back by ``chat_history``, which turns it into a text part
        for the model), and a PDF's page count."""
        kept: dict[str, Any] = {"filename": self.filename, "text": self.text}
        if self.pages is not None:
            kept["pages"] = self.pages
        return kept

    def as_part(self) -> dict[str, Any]:
        """The entry with the file inline (base64 ``data``): only on a server that keeps
        no files; otherwise ``message_files.keep_file`` references it."""
        return {"type": "file", "media_type": self.media_type,
                "data": base64.b64encode(self.raw).decode("ascii"), **self.fields()}


def kind_of(filename: str, media_type: str) -> str | None:
    """``"pdf"``, ``"text"``, or None for a file we cannot read."""
    suffix = PurePosixPath(filename.lower()).suffix
    if media_type == PDF or suffix == ".pdf":
        return "pdf"
    if media_type.startswith("text/") or media_type in _TEXT_MEDIA_TYPES:
        return "text"
    if suffix in _TEXT_SUFFIXES:
        return "text"
    return None


def decode(data: str, field: str) -> bytes:
    if len(data) > MAX_FILE_BYTES * 4 // 3 + 4:
        raise ValidationFailed(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB",
                               field=field)
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed("the file could not be read (it must be sent as base64)",
                               field=field) from None


async def read_attachment(filename: str, media_type: str, data: str | bytes, *,
                          field: str = "files") -> ReadFile:
    """The file's text, or ``ValidationFailed`` saying why it cannot be used. ``data``:
    base64 as sent, or the bytes of a file already kept (an edited question's)."""
    name = " ".join(filename.split())[:MAX_FILENAME] or "attachment"
    kind = kind_of(name, media_type)
    if kind is None:
        raise ValidationFailed(f"{name!r} cannot be attached: attach a PDF or a text file "
                               "(images go with the image button)", field=field)
    raw = decode(data, field) if isinstance(data, str) else data
    if len(raw) > MAX_FILE_BYTES:
        raise ValidationFailed(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB",
                               field=field)
    pages: int | None = None
    if kind == "pdf":
        text, warnings, pages = await asyncio.to_thread(_pdf_text, raw, name, field)
        media_type = PDF
    else:
        text, warnings = _plain_text(raw, name, field)
        media_type = media_type if media_type and media_type != "application/octet-stream" \
            else "text/plain"
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS]
        warnings.append(f"{name}: only the first {MAX_TEXT_CHARS:,} characters are shown "
                        "to the model")
    return ReadFile(name, media_type, raw, text, tuple(warnings), pages)


def _plain_text(raw: bytes, name: str, field: str) -> tuple[str, list[str]]:
    if b"\x00" in raw[:8192]:
        raise ValidationFailed(f"{name!r} is not a text file", field=field)
    for encoding in ("utf-8-sig", "utf-16"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        text = raw.decode("latin-1")
    return text.replace("\x00", ""), []


def _pdf_text(raw: bytes, name: str, field: str) -> tuple[str, list[str], int]:
    # Imported here, in the worker thread of the first PDF: pypdf costs a server that
    # never sees one about 8 MB of resident memory and start-up time.
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    warnings: list[str] = []
    try:
        reader = PdfReader(BytesIO(raw), strict=False)
        if reader.is_encrypted:
            raise ValidationFailed(f"{name!r} is password-protected: attach an unprotected "
                                   "copy", field=field)
        pages = reader.pages
        count = len(pages)
        texts: list[str] = []
        size = 0
        for index in range(min(count, MAX_PDF_PAGES)):
            page_text = pages[index].extract_text() or ""
            texts.append(page_text)
            size += len(page_text)
            if size > MAX_TEXT_CHARS:
                break
    except ValidationFailed:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError, OverflowError, MemoryError) as exc:
        log.info("PDF %r could not be read: %s", name, type(exc).__name__)
        raise ValidationFailed(f"{name!r} could not be read as a PDF", field=field) from None
    if count > MAX_PDF_PAGES:
        warnings.append(f"{name}: only the first {MAX_PDF_PAGES} of {count} pages are read")
    text = "\n\n".join(t.strip() for t in texts).strip().replace("\x00", "")
    if not text:
        warnings.append(f"{name}: no text was found (a scanned PDF?); a model that reads "
                        "PDFs itself sees its pages, the others only its name")
    return text, warnings, count
