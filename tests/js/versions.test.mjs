// Versions of a message (static/js/chat/versions.js): which one is shown, ‹ and › targets.
import { test } from "node:test";
import assert from "node:assert/strict";
import { versionLabel, versionPosition } from "../../src/switchboard/web/static/js/chat/versions.js";

test("a message with one version has no control", () => {
  assert.equal(versionPosition({ id: 3, versions: [3] }), null);
  assert.equal(versionPosition({ id: 3 }), null);
  assert.equal(versionPosition(null), null);
});

test("index, count and neighbours", () => {
  assert.deepEqual(versionPosition({ id: 4, versions: [2, 4, 9] }), { index: 2, count: 3, previous: 2, next: 9 });
  assert.deepEqual(versionPosition({ id: 2, versions: [2, 4, 9] }), { index: 1, count: 3, previous: null, next: 4 });
  assert.deepEqual(versionPosition({ id: 9, versions: [2, 4, 9] }), { index: 3, count: 3, previous: 4, next: null });
});

test("a message missing from its own versions shows no control", () => {
  assert.equal(versionPosition({ id: 5, versions: [2, 4] }), null);
});

test("the label", () => {
  assert.deepEqual(versionLabel({ index: 2, count: 3 }), { text: "2 / 3", spoken: "Version 2 of 3" });
});
