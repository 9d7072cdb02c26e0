// The one way pages talk to the server: JSON in and out, the CSRF token on every state
// change, the REST error shape turned into an ApiError whose message says what to do.

import { humanMessage } from "./errors.js";
import { createSseDecoder } from "./sse.js";

const csrfToken = () =>
  document.querySelector('meta[name="csrf-token"]')?.getAttribute("content") || "";

/** A failed call. `message` is for people (errors.js); `detail` is the server's own text,
 * kept for the console and bug reports. */
export class ApiError extends Error {
  constructor(status, message, code = "error", field = null, detail = "") {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
    this.detail = detail;
  }
}

function headersFor(method, hasBody) {
  const headers = { Accept: "application/json" };
  if (hasBody) headers["Content-Type"] = "application/json";
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrfToken();
  return headers;
}

async function send(path, { method = "GET", body, signal, headers = {} } = {}) {
  try {
    return await fetch(path, {
      method,
      headers: { ...headersFor(method, body !== undefined), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      signal,
    });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, humanMessage({ code: "network" }), "network");
  }
}

async function failure(res) {
  let data = null;
  try { data = await res.json(); } catch { /* not JSON */ }
  const err = data?.error || {};
  if (res.status === 401 && !location.pathname.startsWith("/login") && !location.pathname.startsWith("/setup")) {
    // The session ended (logout elsewhere, expiry): go log in and come back here.
    location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
  }
  const code = err.code || "error";
  const field = err.field || null;
  const message = humanMessage({ status: res.status, code, field, reason: err.reason || null, message: err.message || "" });
  return new ApiError(res.status, message, code, field, err.message || `HTTP ${res.status}`);
}

/** Call a JSON endpoint; resolves to the parsed body (null for 204). */
export async function api(path, options = {}) {
  const res = await send(path, options);
  if (!res.ok) throw await failure(res);
  if (res.status === 204) return null;
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

export const get = (path, signal) => api(path, { signal });
export const post = (path, body) => api(path, { method: "POST", body });
export const put = (path, body) => api(path, { method: "PUT", body });
export const patch = (path, body) => api(path, { method: "PATCH", body });
export const del = (path) => api(path, { method: "DELETE" });

/**
 * POST a JSON body (or GET, when `body` is undefined) and read the Server-Sent Events
 * answer: yields {event, data, id?} with data parsed from JSON. `lastEventId` resumes a
 * stream after that event (the Last-Event-ID header). Errors before the stream starts
 * (a normal JSON error with a status) throw an ApiError.
 */
export async function* streamEvents(path, body, signal, { lastEventId = null } = {}) {
  const headers = { Accept: "text/event-stream" };
  if (lastEventId !== null) headers["Last-Event-ID"] = String(lastEventId);
  const res = await send(path, { method: body === undefined ? "GET" : "POST", body, signal, headers });
  if (!res.ok) throw await failure(res);
  const reader = res.body.getReader();
  const text = new TextDecoder();
  const sse = createSseDecoder();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      yield* sse.push(text.decode(value, { stream: true }));
    }
    yield* sse.push(text.decode());
    yield* sse.end();
  } finally {
    reader.releaseLock();
  }
}
