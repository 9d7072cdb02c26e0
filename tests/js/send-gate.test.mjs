// The composer's send gate (static/js/chat/send-gate.js): an Enter pressed while the
// composer is busy is kept and sent once it is free, never dropped without a word.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createSendGate } from "../../src/switchboard/web/static/js/chat/send-gate.js";

test("free: a send goes now, nothing is kept", () => {
  const gate = createSendGate();
  assert.equal(gate.ask(), true);
  assert.equal(gate.queued, false);
  assert.equal(gate.streaming(false), false);
});

test("an Enter while an answer is written is sent when the answer ends", () => {
  const gate = createSendGate();
  assert.equal(gate.streaming(true), false);
  assert.equal(gate.ask(), false);
  assert.equal(gate.queued, true);
  assert.equal(gate.busy, true);
  assert.equal(gate.streaming(false), true); // the answer ended: send it now
  assert.equal(gate.queued, false);
  assert.equal(gate.streaming(false), false); // once
});

test("an Enter while a question about the message closes is honoured after it", () => {
  const gate = createSendGate();
  gate.confirming(true);
  assert.equal(gate.ask(), false);
  assert.equal(gate.confirming(false), true);
});

test("still busy with the other thing: kept until both are over", () => {
  const gate = createSendGate();
  gate.streaming(true);
  gate.confirming(true);
  gate.ask();
  assert.equal(gate.confirming(false), false);
  assert.equal(gate.queued, true);
  assert.equal(gate.streaming(false), true);
});

test("dropped: leaving the conversation forgets a kept send", () => {
  const gate = createSendGate();
  gate.streaming(true);
  gate.ask();
  gate.drop();
  assert.equal(gate.streaming(false), false);
});

test("an Enter while the conversation opens waits for it, then for its running answer", () => {
  // the page reloaded mid-answer: it learns of the answer only once the conversation is
  // shown, so a send asked for before then must not go (nor be forgotten)
  const gate = createSendGate();
  gate.opening(true);
  assert.equal(gate.ask(), false);
  assert.equal(gate.queued, true);
  assert.equal(gate.streaming(true), false); // shown: its answer is still being written
  assert.equal(gate.opening(false), false); // so the message waits on
  assert.equal(gate.queued, true);
  assert.equal(gate.streaming(false), true); // the answer ended: send it now
});

test("an Enter while the conversation opens goes once it is shown, nothing running", () => {
  const gate = createSendGate();
  gate.opening(true);
  gate.ask();
  assert.equal(gate.busy, true);
  assert.equal(gate.opening(false), true);
  assert.equal(gate.busy, false);
});
