// The composer's tools menu (static/js/chat/tools.js): what is offered, what is on.
import { test } from "node:test";
import assert from "node:assert/strict";
import { conversationSelection, initialSelection, offeredTools, requestTools, toggled, toolTitle, toolsLabel } from "../../src/switchboard/web/static/js/chat/tools.js";

const BODY = { data: [
  { name: "calculator", description: "Maths.", source: "builtin", default_on: true, policy: "allow" },
  { name: "fetch_url", description: "Pages.", source: "builtin", default_on: false, policy: "allow" },
  { name: "files.write", description: "Writes.", source: "mcp:files", default_on: true, policy: "ask" },
  { name: "danger", description: "No.", source: "builtin", default_on: true, policy: "deny" },
] };

test("offered tools, switched on by default, sent in the menu's order", () => {
  const tools = offeredTools(BODY);
  assert.deepEqual(tools.map((t) => t.name), ["calculator", "fetch_url", "files.write"]);
  assert.equal(tools[2].asks, true);
  let selected = initialSelection(tools);
  assert.deepEqual(requestTools(selected, tools), ["calculator", "files.write"]);
  assert.equal(toolsLabel(selected, tools), "Tools (2)");
  const before = selected;
  selected = toggled(toggled(selected, "calculator"), "fetch_url");
  assert.deepEqual([...before].sort(), ["calculator", "files.write"]); // not mutated
  assert.deepEqual(requestTools(selected, tools), ["fetch_url", "files.write"]);
  assert.equal(requestTools(new Set(["gone"]), tools), null);
  assert.equal(toolsLabel(new Set(), tools), "Tools");
});

test("no list (an older server, an error): nothing offered", () => {
  assert.deepEqual(offeredTools(null), []);
  assert.deepEqual(offeredTools({ error: { message: "x" } }), []);
  assert.equal(toolTitle("fetch_url"), "Fetch url");
  assert.equal(toolTitle("files.write"), "files.write");
});

test("a conversation's remembered tools, still offered; the defaults without one", () => {
  const tools = offeredTools(BODY);
  assert.deepEqual([...conversationSelection(null, tools)], ["calculator", "files.write"]);
  assert.deepEqual([...conversationSelection({ id: 1, tools: null }, tools)], ["calculator", "files.write"]);
  assert.deepEqual([...conversationSelection({ id: 1, tools: [] }, tools)], []);
  assert.deepEqual([...conversationSelection({ id: 1, tools: ["fetch_url", "gone", "danger"] }, tools)], ["fetch_url"]);
});
