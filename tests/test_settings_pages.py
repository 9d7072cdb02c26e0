"""The settings page registry (``web/views.py`` ``SETTINGS_PAGES``) is the one place a
settings page is declared: each entry's icon is a symbol the page sprite has, and each
slug has its template and module (docs/howto/add-a-settings-page.md)."""

from __future__ import annotations

import re
from pathlib import Path

from switchboard.web import views

WEB = Path(views.__file__).resolve().parent


def test_every_settings_page_is_complete() -> None:
    symbols = set(re.findall(r'id="i-([a-z0-9-]+)"',
                             (WEB / "templates" / "icons.html").read_text(encoding="utf-8")))
    for slug, page in views.SETTINGS_PAGES.items():
        assert page.icon in symbols, f"{slug}: no symbol #i-{page.icon} in icons.html"
        assert (WEB / "templates" / "settings" / f"{slug}.html").is_file(), slug
        assert (WEB / "static" / "js" / "settings" / f"{slug}.js").is_file(), slug
        assert page.title and isinstance(page.admin_only, bool)
