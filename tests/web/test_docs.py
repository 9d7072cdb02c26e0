"""The admin API docs render in a real browser (Swagger UI from the swagger-ui-bundle
wheel, which cannot read an OpenAPI 3.1 document: we declare 3.0.3)."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.server import Running
from tests.web.conftest import make_user


def test_api_docs_render_for_admins(browser: Browser, server: Running) -> None:
    token = make_user(server, "docs-admin", role="admin")
    context = browser.new_context(base_url=server.url,
                                  extra_http_headers={"authorization": f"Bearer {token}"})
    page = context.new_page()
    page.goto("/docs")
    expect(page.locator(".opblock").first).to_be_visible()
    expect(page.get_by_text("Unable to render this definition")).to_have_count(0)
    expect(page.locator(".opblock-summary-path", has_text="/api/chat/stream")).to_be_visible()
    context.close()
