// Keyboard shortcuts (static/js/chat/shortcuts.js): key → action, and when keys are text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SHORTCUTS, isTyping, shortcutFor } from "../../src/switchboard/web/static/js/chat/shortcuts.js";

const key = (k, mods = {}) => ({ key: k, code: mods.code || "", altKey: false, shiftKey: false, ctrlKey: false, metaKey: false, ...mods });

test("Alt+Shift shortcuts match the physical key, even where Option types a character", () => {
  assert.equal(shortcutFor(key("N", { code: "KeyN", altKey: true, shiftKey: true })), "newChat");
  assert.equal(shortcutFor(key("˜", { code: "KeyN", altKey: true, shiftKey: true })), "newChat");
  assert.equal(shortcutFor(key("M", { code: "KeyM", altKey: true, shiftKey: true }), { typing: true }), "pickModel");
  assert.equal(shortcutFor(key("C", { code: "KeyC", altKey: true, shiftKey: true })), "copyLast");
  assert.equal(shortcutFor(key("C", { code: "KeyC", altKey: true, shiftKey: true, ctrlKey: true })), null);
  assert.equal(shortcutFor(key("n", { code: "KeyN", altKey: true })), null);
});

test("Esc closes the drawer first, then stops an answer; Shift+Esc goes to the message box", () => {
  assert.equal(shortcutFor(key("Escape"), { drawerOpen: true, streaming: true }), "closeDrawer");
  assert.equal(shortcutFor(key("Escape"), { streaming: true, typing: true }), "stop");
  assert.equal(shortcutFor(key("Escape")), null);
  assert.equal(shortcutFor(key("Escape", { shiftKey: true }), { typing: true }), "focusComposer");
});

test("an open dialog keeps every key", () => {
  assert.equal(shortcutFor(key("Escape"), { dialogOpen: true, streaming: true }), null);
  assert.equal(shortcutFor(key("N", { code: "KeyN", altKey: true, shiftKey: true }), { dialogOpen: true }), null);
});

test("? and / are commands only outside text fields; Ctrl+/ works anywhere", () => {
  assert.equal(shortcutFor(key("?", { shiftKey: true })), "help");
  assert.equal(shortcutFor(key("?", { shiftKey: true }), { typing: true }), null);
  assert.equal(shortcutFor(key("/")), "focusComposer");
  assert.equal(shortcutFor(key("/"), { typing: true }), null);
  assert.equal(shortcutFor(key("/", { ctrlKey: true }), { typing: true }), "help");
  assert.equal(shortcutFor(key("a")), null);
});

test("isTyping: text fields yes, buttons and switches no", () => {
  assert.equal(isTyping({ tagName: "TEXTAREA" }), true);
  assert.equal(isTyping({ tagName: "INPUT", type: "search" }), true);
  assert.equal(isTyping({ tagName: "INPUT", type: "checkbox" }), false);
  assert.equal(isTyping({ tagName: "BUTTON" }), false);
  assert.equal(isTyping({ tagName: "DIV", isContentEditable: true }), true);
  assert.equal(isTyping(null), false);
});

test("every action has a label for the overlay", () => {
  for (const s of SHORTCUTS) assert.ok(s.label && s.keys.length, s.action);
});
