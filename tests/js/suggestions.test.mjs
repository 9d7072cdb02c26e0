// The model picker's suggestions (static/js/chat/suggestions.js): what of the draft is
// sent, and when a turn counts as a suggestion shown / taken.
import { mock, test } from "node:test";
import assert from "node:assert/strict";
import { createSuggestions, draftExcerpt, HEAD_CHARS, outcomeOf, TAIL_CHARS } from "../../src/switchboard/web/static/js/chat/suggestions.js";

test("a long draft is sent as its start and its end", () => {
  assert.equal(draftExcerpt("short"), "short");
  const long = `${"a".repeat(HEAD_CHARS)}${"m".repeat(5000)}${"z".repeat(TAIL_CHARS)}`;
  const sent = draftExcerpt(long);
  assert.equal(sent.length, HEAD_CHARS + TAIL_CHARS + 1);
  assert.ok(sent.startsWith("a") && sent.endsWith("z") && !sent.includes("m"));
});

test("taken only when the suggestion chosen is the model sent", () => {
  assert.equal(outcomeOf({ shown: false, taken: null }, "x:y"), null);
  assert.deepEqual(outcomeOf({ shown: true, taken: null }, "x:y"), { taken: false });
  assert.deepEqual(outcomeOf({ shown: true, taken: "x:y" }, "x:y"), { taken: true });
  assert.deepEqual(outcomeOf({ shown: true, taken: "x:y" }, "x:z"), { taken: false });
});

test("debounced: only the latest draft is asked; the outcome is reported once", async () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    const calls = [];
    let changes = 0;
    const models = { "p:a": { ref: "p:a" } };
    const s = createSuggestions({
      resolve: (ref) => models[ref] || null,
      onChange: () => { changes += 1; },
      send: async (path, body) => {
        calls.push([path, body]);
        return { task: "code", suggestions: [{ model: "p:a", reason: "you chose it once" }, { model: "gone:x", reason: "-" }] };
      },
    });
    s.update("wri");
    s.update("write code");
    mock.timers.tick(400);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(calls, [["/api/suggestions", { prompt: "write code", images: 0 }]]);
    assert.equal(changes, 1);
    assert.deepEqual(s.current().items.map((i) => i.model.ref), ["p:a"]); // unknown refs left out
    s.markShown();
    s.take("p:a");
    assert.deepEqual(s.sent("p:a"), { taken: true });
    assert.deepEqual(calls.at(-1), ["/api/suggestions/outcome", { taken: true }]);
    assert.equal(s.sent("p:a"), null); // the next turn starts afresh: nothing shown yet
    s.update("");
    assert.deepEqual(s.current().items, []);
  } finally {
    mock.timers.reset();
  }
});
