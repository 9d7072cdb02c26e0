"""Settings → MCP servers in a real browser: an administrator adds a server (a program
started over stdio: the real fixture server), tests it, sees its tools (whose settings
are on the Tools page), switches the server off; mistakes are said in words."""

from __future__ import annotations

import shlex
import sys

from playwright.sync_api import Browser, expect

from tests.mcp_servers.test_sources import SCRIPT
from tests.server import Running
from tests.web.conftest import in_thread, login, make_user, no_page_errors, shot


def test_mcp_settings_page(browser: Browser, server: Running) -> None:
    make_user(server, "mara", "admin")
    page = login(browser, server, "mara")
    page.goto("/settings/mcp")
    table = page.locator("#mcp-table")
    expect(table).to_contain_text("No MCP servers yet")

    page.get_by_role("button", name="Add server").click()
    dialog = page.get_by_role("dialog", name="Add an MCP server")
    dialog.get_by_label("Name").fill("files")
    dialog.get_by_label("Program and its arguments").fill("python 'unclosed")
    dialog.get_by_role("button", name="Add server").click()
    expect(dialog.get_by_role("alert")).to_contain_text("cannot be split into words")
    dialog.get_by_label("Program and its arguments").fill(
        shlex.join([sys.executable, str(SCRIPT)]))
    dialog.get_by_label("Secret values").fill("FIXTURE_TOKEN=tok-123456789")
    dialog.get_by_role("button", name="Add server").click()
    row = table.locator("tbody tr").first
    expect(row).to_contain_text("files")
    expect(row).to_contain_text("Ask the person first")
    expect(page.locator("body")).not_to_contain_text("tok-123456789")

    row.get_by_role("button", name="Test").click()
    status = page.locator("#mcp-tools-status")
    expect(status).to_contain_text("Connected in", timeout=30_000)
    tools = page.locator("#mcp-tools-table")
    expect(tools).to_contain_text("files.echo")
    expect(page.locator("#mcp-tools").get_by_role("link", name="Tools")).to_have_attribute(
        "href", "/settings/tools")
    shot(page, "settings-mcp")

    row.get_by_role("switch").uncheck()
    expect(page.locator("#toasts")).to_contain_text("its tools are not offered")
    page.reload()
    row = page.locator("#mcp-table tbody tr").first
    expect(row.get_by_role("switch")).not_to_be_checked()
    saved = in_thread(server.query, "SELECT enabled FROM mcp_servers WHERE name = 'files'")
    assert not saved[0][0]
    no_page_errors(page)
