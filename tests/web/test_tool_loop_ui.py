"""The tool loop in a real browser: the offline model chains a calculator and a tool that
asks first; the cards show each call running, waiting for approval (Allow / Don't allow),
its result and duration, and the answer uses the results.

The composer's tools menu arrives with ``GET /api/tools`` (lane tools-builtin); until then
the test adds ``tools`` to the page's own chat request on its way to the server."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from playwright.sync_api import Browser, Route, expect

from switchboard.services.principal import Principal
from switchboard.services.tools.contract import RunnableTool, ToolContext, ToolOutput, ToolSpec
from tests.server import Running
from tests.web.conftest import login, make_user, no_page_errors, shot
from tests.web.test_chat import send

TEXT = {"type": "object", "properties": {"text": {"type": "string"}}}


class Fixed:
    def __init__(self, spec: ToolSpec, reply: str) -> None:
        self.spec = spec
        self.reply = reply
        self.runs = 0

    async def run(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolOutput:
        self.runs += 1
        return ToolOutput(text=self.reply)


class Box:
    def __init__(self, *tools: RunnableTool) -> None:
        self.tools = {t.spec.name: t for t in tools}

    async def for_turn(self, names: Sequence[str],
                       principal: Principal) -> Sequence[RunnableTool]:
        return [self.tools[n] for n in names if n in self.tools]


def test_tool_cards_and_approval_in_the_chat(browser: Browser, server: Running) -> None:
    calculator = Fixed(ToolSpec("calculator", "Evaluates arithmetic.", {
        "type": "object", "properties": {"expression": {"type": "string"}}}, "builtin"), "42")
    careful = Fixed(ToolSpec("careful", "Writes somewhere; asks first.", TEXT, "builtin",
                             policy="ask"), "written")
    server.app.state.sb.toolbox = Box(calculator, careful)
    make_user(server, "tess")
    page = login(browser, server, "tess")

    def with_tools(route: Route) -> None:
        body = json.loads(route.request.post_data or "{}")
        route.continue_(post_data=json.dumps({**body, "tools": ["calculator", "careful"]}))

    page.route("**/api/chat/stream", with_tools)
    send(page, "Compute 6 * 7, then use careful to save it.")
    answer = page.locator(".msg-assistant").last
    calc_card = answer.locator(".tool-call", has_text="calculator")
    expect(calc_card.get_by_text("Done")).to_be_visible()
    expect(calc_card.get_by_label("Result")).to_have_text("42")
    ask_card = answer.locator(".tool-call", has_text="careful")
    expect(ask_card.get_by_text("Waiting for your approval")).to_be_visible()
    assert careful.runs == 0
    shot(page, "chat-tool-approval")
    ask_card.get_by_role("button", name="Allow", exact=True).click()
    expect(ask_card.get_by_label("Result")).to_have_text("written")
    expect(ask_card.get_by_role("button", name="Allow", exact=True)).to_have_count(0)
    expect(answer.locator(".md")).to_contain_text("42")
    expect(answer.locator(".md")).to_contain_text("written")
    assert careful.runs == 1
    shot(page, "chat-tool-cards")
    # Reloaded, the saved steps show the same cards with their results.
    page.reload()
    saved = page.locator(".tool-call", has_text="careful")
    expect(saved.get_by_label("Result")).to_have_text("written")
    expect(page.locator(".tool-call", has_text="calculator").get_by_label("Result")
           ).to_have_text("42")
    no_page_errors(page)
