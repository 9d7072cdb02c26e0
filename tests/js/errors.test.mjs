// Error messages for people (static/js/errors.js).
import { test } from "node:test";
import assert from "node:assert/strict";
import { connectionCheck, humanMessage, plainText } from "../../src/switchboard/web/static/js/errors.js";

const TECHNICAL = /`|\/api\/|switchboard [a-z]|String should|Input should|--[a-z]/;

test("raw validation text becomes what to do", () => {
  assert.equal(humanMessage({ status: 422, code: "validation_failed", field: "username", reason: "string_too_short",
    message: "username: String should have at least 1 character (and 1 more problem)" }), "Choose a user name.");
  assert.equal(humanMessage({ status: 422, code: "validation_failed", field: "username", reason: "missing",
    message: "username: Field required" }), "Choose a user name.");
  assert.equal(humanMessage({ status: 422, code: "validation_failed", field: "password",
    message: "the password must be at least 10 characters" }), "Choose a longer password: at least 10 characters.");
  assert.equal(humanMessage({ status: 422, code: "validation_failed", field: "title", reason: "string_too_long",
    message: "title: String should have at most 200 characters" }), "The title is too long. Shorten it and try again.");
  assert.equal(humanMessage({ status: 422, code: "validation_failed", field: "pinned", message: "at most 50 conversations can be pinned: unpin one first" }),
    "You have pinned as many conversations as you can. Unpin one first.");
});

test("an unknown field still gets no raw validation text", () => {
  const text = humanMessage({ status: 422, code: "validation_failed", field: "zzz", reason: "int_parsing",
    message: "zzz: Input should be a valid integer" });
  assert.equal(text, "Check what you entered and try again.");
});

test("codes say what to click", () => {
  assert.match(humanMessage({ status: 409, code: "missing_api_key", message: "provider 'openai' has no API key: set OPENAI_API_KEY or run `switchboard keys set openai`" }), /Settings → Providers/);
  assert.match(humanMessage({ status: 403, code: "csrf_failed" }), /Reload/);
  assert.match(humanMessage({ status: 0, code: "network" }), /Cannot reach/);
  assert.equal(humanMessage({ status: 429, code: "throttled", message: "too many failed attempts; try again in 3 s" }),
    "Too many failed attempts; try again in 3 s.");
  assert.match(humanMessage({ status: 429, code: "throttled", message: "" }), /Wait a minute/);
  assert.match(humanMessage({ status: 503, code: "error", message: "Traceback..." }), /server had a problem/);
});

test("a spent budget is named, with when it starts again", () => {
  const said = "The daily budget of $5.00 for user 'ada' is used up ($4.98 spent; this call could cost up to $0.04). It resets on 2026-12-05 at 00:00 (UTC).";
  assert.equal(humanMessage({ status: 429, code: "insufficient_quota", message: said }), said);
  assert.match(humanMessage({ status: 429, code: "insufficient_quota", message: "" }), /spending limit is used up/);
  assert.match(humanMessage({ status: 422, code: "invalid_value", field: "amount", reason: "string_pattern_mismatch", message: "String should match pattern" }), /such as 25 or 12.50/);
});

test("a gateway rate limit says which limit and when, else a sentence of its own", () => {
  assert.equal(humanMessage({ status: 429, code: "rate_limit_exceeded", message: "you have sent 10 messages this minute, the most allowed; wait 42 seconds" }),
    "You have sent 10 messages this minute, the most allowed; wait 42 seconds.");
  assert.match(humanMessage({ status: 429, code: "rate_limit_exceeded", message: "" }), /too many messages/);
});

test("commands and API paths are cut out of server messages", () => {
  assert.equal(plainText("no conversation 5 (it does not exist, or it is not yours); GET /api/conversations lists yours"),
    "No conversation 5 (it does not exist, or it is not yours).");
  assert.equal(plainText("provider 'acme' has models (delete them first, or use `switchboard providers remove acme --cascade`)"),
    "Provider 'acme' has models.");
  assert.equal(plainText("no user named 'x'; `switchboard users list` shows them"), "No user named 'x'.");
  assert.equal(plainText("`switchboard keys set`"), null);
  assert.equal(plainText("Wrong username or password"), "Wrong username or password.");
  assert.equal(plainText("username: String should have at least 1 character"), null);
});

test("nothing technical ever comes out", () => {
  const samples = [
    { status: 404, code: "not_found", message: "no user named 'x'; `switchboard users list` shows them" },
    { status: 409, code: "conflict", message: "change that one with `switchboard providers update openai`" },
    { status: 422, code: "validation_failed", field: "body.items.0", reason: "missing", message: "body.items.0: Field required" },
    { status: 400, code: "bad_request", message: "GET /api/model-registry lists the models you can use" },
  ];
  for (const sample of samples) {
    const text = humanMessage(sample);
    assert.ok(text && !TECHNICAL.test(text), `${JSON.stringify(sample)} → ${text}`);
  }
});

test("a provider's failure blames the provider, not Switchboard or the person's rights", () => {
  const vendor500 = humanMessage({ status: 502, code: "server_error", message: "openai: HTTP 500" });
  assert.match(vendor500, /provider had a problem/);
  assert.doesNotMatch(vendor500, /server had a problem/);
  const vendor403 = humanMessage({ status: 502, code: "permission_denied", message: "openai: HTTP 403" });
  assert.match(vendor403, /provider refused/);
  assert.doesNotMatch(vendor403, /Only an administrator/);
  // in-stream errors carry no HTTP status
  assert.match(humanMessage({ code: "stream_broken" }), /broke off/);
  // a provider's rate limit keeps its own words
  assert.match(humanMessage({ status: 429, code: "rate_limited" }), /busy or your quota/);
  // our own 403 still means rights
  assert.match(humanMessage({ status: 403, code: "forbidden" }), /Only an administrator/);
});

test("a failed connection test says what to fix; the provider's line is only the detail", () => {
  const wrongKey = "openai: HTTP 401 (invalid_request_error): Incorrect API key provided: sk-…0000";
  const said = connectionCheck({ message: wrongKey });
  assert.equal(said.text, "The provider refused this API key. Edit the key and test again.");
  assert.equal(said.detail, wrongKey);
  assert.equal(connectionCheck({ code: "authentication_error", message: "x" }).text,
    "The provider refused this API key. Edit the key and test again.");
  assert.match(connectionCheck({ message: "acme: cannot connect (All connection attempts failed); check the base URL" }).text, /Cannot reach the provider at this address/);
  assert.match(connectionCheck({ message: "acme: timed out waiting for the answer" }).text, /did not answer in time/);
  assert.match(connectionCheck({ message: "acme: HTTP 404: Not Found" }).text, /Check the base URL/);
  assert.match(connectionCheck({ message: "acme: HTTP 503 (overloaded_error): busy" }).text, /provider had a problem/);
  assert.match(connectionCheck({ message: "something odd" }).text, /connection test failed/);
  for (const line of [wrongKey, "acme: HTTP 429 (rate_limit_error): slow down", "acme: HTTP 403: no"]) {
    const text = connectionCheck({ message: line }).text;
    assert.ok(!TECHNICAL.test(text) && !/HTTP|_error/.test(text), text);
  }
});

test("too many answers at once says what to do, not the server's count", () => {
  const text = humanMessage({ status: 429, code: "too_many_answers", message: "4 answers are already being written for you; wait for one to finish or stop one" });
  assert.match(text, /Wait for one to finish, or stop one/);
  assert.doesNotMatch(text, /4 answers/);
});
