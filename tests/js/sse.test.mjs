// The SSE decoder (static/js/sse.js): events split anywhere by the network come out whole.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createSseDecoder, parseBlock } from "../../src/switchboard/web/static/js/sse.js";

const STREAM = 'event: start\ndata: {"model":"acme:m"}\n\n: keep-alive\n\nevent: delta\ndata: {"text":"Hé"}\n\nevent: done\ndata: {"message":{"id":7}}\n\n';
const EXPECTED = [
  { event: "start", data: { model: "acme:m" } },
  { event: "delta", data: { text: "Hé" } },
  { event: "done", data: { message: { id: 7 } } },
];

test("events come out whole wherever the stream is cut", () => {
  for (let size = 1; size <= STREAM.length; size += 1) {
    const sse = createSseDecoder();
    const events = [];
    for (let at = 0; at < STREAM.length; at += size) events.push(...sse.push(STREAM.slice(at, at + size)));
    events.push(...sse.end());
    assert.deepEqual(events, EXPECTED, `pieces of ${size} characters`);
  }
});

test("CRLF and CR line endings, also when CR and LF arrive apart", () => {
  const crlf = STREAM.replace(/\n/g, "\r\n");
  const sse = createSseDecoder();
  const events = [];
  for (const ch of crlf) events.push(...sse.push(ch));
  assert.deepEqual(events, EXPECTED);
  const cr = createSseDecoder();
  assert.deepEqual([...cr.push(STREAM.replace(/\n/g, "\r")), ...cr.end()], EXPECTED);
});

test("several data lines join with a newline; non-JSON data stays text", () => {
  assert.deepEqual(parseBlock("data: one\ndata:two"), { event: "message", data: "one\ntwo" });
  assert.deepEqual(parseBlock("event: x\ndata: [1, 2]"), { event: "x", data: [1, 2] });
});

test("comments, keep-alives and blocks without data yield nothing", () => {
  assert.equal(parseBlock(": ping"), null);
  assert.equal(parseBlock("event: delta"), null);
  assert.deepEqual(createSseDecoder().push(": ping\n\n\n\n"), []);
});

test("a last event without its blank line is kept at the end", () => {
  const sse = createSseDecoder();
  assert.deepEqual(sse.push('event: done\ndata: {"ok":true}'), []);
  assert.deepEqual(sse.end(), [{ event: "done", data: { ok: true } }]);
  assert.deepEqual(sse.end(), []);
});

test("an event's id comes out as `id` (what Last-Event-ID sends back)", () => {
  assert.deepEqual(parseBlock("id: 42\nevent: delta\ndata: {\"text\":\"x\"}"), { event: "delta", data: { text: "x" }, id: "42" });
  assert.deepEqual(parseBlock("id: a\0b\ndata: 1"), { event: "message", data: 1 });
});
