// The answers reducer (static/js/chat/answers.js): events → state, purely.
import { test } from "node:test";
import assert from "node:assert/strict";
import { answerFromMessage, initialState, inlinePictures, reduce, savedKey, shownMessages, streamingKeys, waitingCalls } from "../../src/switchboard/web/static/js/chat/answers.js";

const run = (actions, state = initialState) => actions.reduce(reduce, state);
const server = (key, event, data) => ({ type: "server", key, event, data });
const begin = (key) => ({ type: "begin", key, model: "acme:m", provider: "acme", kind: "openai" });

test("a streamed answer: start, text, reasoning, tool calls, done", () => {
  const state = run([
    begin("a"),
    server("a", "start", { assistant_message_id: 12, model: "acme:m2", provider: "acme", kind: "openai" }),
    server("a", "reasoning", { text: "Let me " }),
    server("a", "reasoning", { text: "think." }),
    server("a", "delta", { text: "Hello " }),
    server("a", "delta", { text: "world" }),
    server("a", "tool_call", { id: "c1", name: "f", arguments: "{}" }),
  ]);
  const live = state.answers.a;
  assert.equal(live.streaming, true);
  assert.equal(live.message.id, 12);
  assert.equal(live.message.model, "acme:m2");
  assert.equal(live.text, "Hello world");
  assert.equal(live.reasoning, "Let me think.");
  assert.deepEqual(live.toolCalls.map((c) => c.name), ["f"]);

  const done = reduce(state, server("a", "done", { message: { id: 12, text: "Hello world!", status: "complete", input_tokens: 3 } }));
  assert.equal(done.answers.a.streaming, false);
  assert.equal(done.answers.a.text, "Hello world!");
  assert.equal(done.answers.a.message.input_tokens, 3);
  assert.equal(done.answers.a.message.status, "complete");
  assert.deepEqual(streamingKeys(done), []);
});

test("the reducer does not mutate its input", () => {
  const before = run([begin("a")]);
  const frozen = JSON.stringify(before);
  reduce(before, server("a", "delta", { text: "x" }));
  assert.equal(JSON.stringify(before), frozen);
});

test("two answers stream at once without touching each other", () => {
  const state = run([
    begin("left"), begin("right"),
    server("left", "delta", { text: "L1 " }),
    server("right", "delta", { text: "R1 " }),
    server("left", "delta", { text: "L2" }),
    server("right", "error", { message: "over quota", status: "error" }),
  ]);
  assert.equal(state.answers.left.text, "L1 L2");
  assert.equal(state.answers.left.streaming, true);
  assert.equal(state.answers.right.text, "R1 ");
  assert.equal(state.answers.right.streaming, false);
  assert.deepEqual(state.answers.right.failure, { message: "Over quota.", status: "error" });
  assert.deepEqual(streamingKeys(state), ["left"]);
});

test("after Stop, late events change nothing", () => {
  const stopped = run([begin("a"), server("a", "delta", { text: "Once" }), { type: "stopped", key: "a" }]);
  assert.equal(stopped.answers.a.message.status, "partial");
  assert.equal(stopped.answers.a.message.finish_reason, "stopped");
  assert.equal(stopped.answers.a.failure, null);
  assert.equal(reduce(stopped, server("a", "delta", { text: " upon" })), stopped);
  assert.equal(reduce(stopped, { type: "cut", key: "a", message: "x" }), stopped);
});

test("a stream cut before its end is partial with the reason", () => {
  const state = run([begin("a"), server("a", "delta", { text: "Half" }), { type: "cut", key: "a", message: "closed early" }]);
  assert.equal(state.answers.a.streaming, false);
  assert.equal(state.answers.a.message.status, "partial");
  assert.deepEqual(state.answers.a.failure, { message: "closed early", status: "partial" });
});

test("unknown keys and unknown events leave the state as it was", () => {
  const state = run([begin("a")]);
  assert.equal(reduce(state, server("nope", "delta", { text: "x" })), state);
  assert.equal(reduce(state, server("a", "some_future_event", {})), state);
  assert.equal(reduce(state, { type: "withdraw", key: "nope" }), state);
  assert.equal(reduce(state, { type: "rated", key: "nope", rating: 1 }), state);
});

test("withdraw removes an answer; rated sets its rating", () => {
  const state = run([begin("a"), begin("b"), { type: "withdraw", key: "a" }, { type: "rated", key: "b", rating: -1 }]);
  assert.deepEqual(Object.keys(state.answers), ["b"]);
  assert.equal(state.answers.b.message.rating, -1);
});

test("reset loads the saved answers of a conversation, with their failures", () => {
  const messages = [
    { id: 1, role: "user", text: "hi", parts: [{ type: "text", text: "hi" }] },
    { id: 2, role: "assistant", text: "ok", status: "complete",
      parts: [{ type: "reasoning", text: "a" }, { type: "reasoning", text: "b" }, { type: "text", text: "ok" },
        { type: "tool-call", id: "c", name: "f", arguments: "{}" }] },
    { id: 3, role: "assistant", text: "half", status: "partial", error: "upstream broke", parts: [] },
    { id: 4, role: "assistant", text: "sto", status: "partial", error: "stopped", parts: [] },
    { id: 5, role: "assistant", text: "", status: "error", error: null, parts: [] },
  ];
  const state = reduce(run([begin("x")]), { type: "reset", messages });
  assert.deepEqual(Object.keys(state.answers), [savedKey(2), savedKey(3), savedKey(4), savedKey(5)]);
  const two = state.answers[savedKey(2)];
  assert.equal(two.reasoning, "a\n\nb");
  assert.equal(two.toolCalls.length, 1);
  assert.equal(two.streaming, false);
  assert.deepEqual(state.answers[savedKey(3)].failure, { message: "upstream broke", status: "partial" });
  assert.equal(state.answers[savedKey(4)].failure, null);
  assert.deepEqual(state.answers[savedKey(5)].failure, { message: "The answer failed.", status: "error" });
  assert.deepEqual(answerFromMessage(messages[1]), two);
});

test("an answer being written when the page loads is followed: replayed start, snapshot, then live", () => {
  const saved = { id: 7, role: "assistant", text: "Once up", parts: [{ type: "text", text: "Once up" }], status: "partial", error: "in progress" };
  let state = reduce(initialState, { type: "reset", messages: [saved] });
  const key = savedKey(7);
  assert.equal(state.answers[key].streaming, true);
  assert.equal(state.answers[key].failure, null); // "in progress" is not a failure
  assert.deepEqual(streamingKeys(state), [key]);
  state = run([
    server(key, "start", { assistant_message_id: 7, model: "acme:m" }), // a replay starts over
    server(key, "snapshot", { text: "Once upon", reasoning: "hm", tool_calls: [] }),
    server(key, "delta", { text: " a time" }),
  ], state);
  assert.equal(state.answers[key].text, "Once upon a time");
  assert.equal(state.answers[key].reasoning, "hm");
});

test("a stop (from any tab) ends the answer as stopped, not failed", () => {
  const state = run([
    begin("a"),
    server("a", "start", { assistant_message_id: 12 }),
    server("a", "delta", { text: "Once" }),
    server("a", "error", { code: "stopped", message: "stopped", status: "partial", message_id: 12, retryable: false }),
  ]);
  const answer = state.answers.a;
  assert.equal(answer.streaming, false);
  assert.equal(answer.failure, null);
  assert.equal(answer.text, "Once");
  assert.deepEqual([answer.message.id, answer.message.status, answer.message.finish_reason], [12, "partial", "stopped"]);
});

test("tool loop cards: one per call, from start to result, with approval", () => {
  const state = run([
    begin("t"),
    server("t", "start", { assistant_message_id: 5 }),
    server("t", "tool_call_start", { id: "c1", name: "calculator" }),
    server("t", "tool_call", { id: "c1", name: "calculator", arguments: "{\"expression\": \"6 * 7\"}" }),
    server("t", "tool_call", { id: "c2", name: "server.write", arguments: "{}" }),
    server("t", "step", { step: 1, role: "assistant", message_id: 6 }),
    server("t", "approval_needed", { id: "c2", name: "server.write", arguments: "{}" }),
  ]);
  assert.deepEqual(state.answers.t.toolCalls.map((c) => [c.id, c.state]), [["c1", "calling"], ["c2", "waiting"]]);
  assert.deepEqual(waitingCalls(state.answers.t).map((c) => c.id), ["c2"]);
  const after = run([
    server("t", "approval", { id: "c2", approved: false }),
    server("t", "tool_running", { id: "c1", name: "calculator" }),
    server("t", "tool_result", { id: "c1", name: "calculator", text: "42", is_error: false, duration_ms: 3, images: 0 }),
    server("t", "tool_result", { id: "c2", name: "server.write", text: "the user declined this tool call", is_error: true, duration_ms: 0 }),
    server("t", "delta", { text: "It is 42." }),
  ], state);
  const [calc, write] = after.answers.t.toolCalls;
  assert.equal(calc.state, "done");
  assert.deepEqual(calc.result, { text: "42", isError: false, durationMs: 3, images: 0, truncated: false });
  assert.equal(calc.arguments, "{\"expression\": \"6 * 7\"}");
  assert.equal(write.state, "declined");
  assert.deepEqual(waitingCalls(after.answers.t), []);
  assert.equal(after.answers.t.text, "It is 42.");
});

test("a saved tool loop: each step's results land on its cards", () => {
  const state = reduce(initialState, { type: "reset", messages: [
    { id: 1, role: "user", text: "go", parts: [] },
    { id: 2, role: "assistant", status: "complete", text: "", parts: [{ type: "tool-call", id: "c1", name: "calculator", arguments: "{}" }] },
    { id: 3, role: "tool", status: "complete", text: "", parts: [{ type: "tool-result", tool_call_id: "c1", name: "calculator", content: "42", is_error: false }] },
    { id: 4, role: "assistant", status: "complete", text: "It is 42.", parts: [{ type: "text", text: "It is 42." }] },
  ] });
  const [call] = state.answers[savedKey(2)].toolCalls;
  assert.equal(call.state, "done");
  assert.equal(call.result.text, "42");
  assert.equal(state.answers[savedKey(4)].text, "It is 42.");
  assert.equal(state.answers[savedKey(3)], undefined);
});

test("a tool loop still being written: its saved steps are left to the replay", () => {
  const messages = [
    { id: 1, role: "user" }, { id: 2, role: "assistant", status: "complete" },
    { id: 3, role: "user" },
    { id: 4, role: "assistant", status: "complete" }, { id: 5, role: "tool", status: "complete" },
    { id: 6, role: "assistant", status: "partial", error: "in progress" },
  ];
  assert.deepEqual(shownMessages(messages).map((m) => m.id), [1, 2, 3, 6]);
  const done = messages.slice(0, 5);
  assert.equal(shownMessages(done), done);
  assert.deepEqual(shownMessages(undefined), []);
  const waiting = [...done, { id: 6, role: "assistant", status: "partial", error: "waiting for your approval: datetime" }];
  assert.deepEqual(shownMessages(waiting).map((m) => m.id), [1, 2, 3, 6]);
  assert.equal(answerFromMessage(waiting[5]).streaming, true);
});

test("a tool's pictures land on its card: live when the step is saved, and from the saved message", () => {
  const picture = { type: "image", media_type: "image/png", file: { sha256: "a".repeat(64), size: 70 }, meta: { tool: "generate_image", call: "c1" } };
  const live = run([
    begin("p"),
    server("p", "start", { assistant_message_id: 5 }),
    server("p", "tool_call", { id: "c1", name: "generate_image", arguments: "{\"prompt\": \"a boat\"}" }),
    server("p", "tool_result", { id: "c1", name: "generate_image", text: "drawn", is_error: false, duration_ms: 9, images: 1 }),
    server("p", "step", { step: 1, role: "tool", message_id: 7, images: [picture, { ...picture, meta: { call: "other" } }] }),
  ]);
  assert.deepEqual(live.answers.p.toolCalls[0].pictures, [picture]);
  const saved = reduce(initialState, { type: "reset", messages: [
    { id: 1, role: "user", text: "draw", parts: [] },
    { id: 2, role: "assistant", status: "complete", text: "", parts: [{ type: "tool-call", id: "c1", name: "generate_image", arguments: "{}" }] },
    { id: 3, role: "tool", status: "complete", text: "", parts: [
      { type: "tool-result", tool_call_id: "c1", name: "generate_image", content: "drawn", is_error: false }, picture] },
  ] });
  assert.deepEqual(saved.answers[savedKey(2)].toolCalls[0].pictures, [picture]);
});

test("a picture among the text stays where it came, streamed and saved", () => {
  const picture = { type: "image", media_type: "image/png", file: { sha256: "b".repeat(64), size: 9 } };
  const state = run([
    begin("a"),
    server("a", "delta", { text: "Here is " }),
    server("a", "image", { part: picture }),
    server("a", "delta", { text: " and more." }),
  ]);
  assert.deepEqual(state.answers.a.inline, [{ at: 8, part: picture }]);
  const parts = [{ type: "text", text: "Here is " }, picture, { type: "text", text: " and more." }];
  const done = reduce(state, server("a", "done", { message: { id: 3, text: "Here is  and more.", parts, status: "complete" } }));
  assert.deepEqual(done.answers.a.inline, [{ at: 8, part: picture }]);
  assert.deepEqual(answerFromMessage({ id: 3, text: "Here is  and more.", parts, status: "complete" }).inline,
    [{ at: 8, part: picture }]);
  // an image model's pictures (with what they were drawn from) stay in the gallery
  assert.deepEqual(inlinePictures([{ ...picture, meta: { prompt: "x" } }]), []);
});

test("reattaching mid-answer shows the pictures already answered, replayed or folded", () => {
  const picture = { type: "image", media_type: "image/png", file: { sha256: "c".repeat(64), size: 9 } };
  const later = { ...picture, file: { sha256: "d".repeat(64), size: 9 } };
  // the page loads while the answer is written: the saved progress has no pictures
  const saved = { id: 9, role: "assistant", text: "Here is", parts: [{ type: "text", text: "Here is" }], status: "partial", error: "in progress" };
  const key = savedKey(9);
  let state = run([
    { type: "reset", messages: [saved] },
    server(key, "start", { assistant_message_id: 9 }),
    server(key, "delta", { text: "Here is " }),
    server(key, "image", { part: picture }),
  ]);
  assert.equal(state.answers[key].streaming, true);
  assert.deepEqual(state.answers[key].inline, [{ at: 8, part: picture }]); // before the end
  // a long answer's log was folded: the snapshot carries the pictures in their places
  state = run([
    server(key, "start", { assistant_message_id: 9 }),
    server(key, "snapshot", { text: "Here is 🐋 more", reasoning: "", tool_calls: [], images: [{ at: 8, part: picture }, { at: "x", part: later }] }),
    server(key, "image", { part: later }),
  ], state);
  assert.deepEqual(state.answers[key].inline, [{ at: 8, part: picture }, { at: 15, part: later }]);
  // an older server's snapshot (no images) leaves none behind from before it
  state = reduce(state, server(key, "snapshot", { text: "x", reasoning: "", tool_calls: [] }));
  assert.deepEqual(state.answers[key].inline, []);
});
