// One answer's events, as actions for the answers reducer (answers.js): the SSE events
// of POST /api/chat/stream (or, for an answer already being written, of
// GET /api/messages/{id}/stream) become {type: "server"} actions; the conversation's
// "title" event goes to `onTitle`. Views are not touched here; several of these can run
// at once, one per answer key.
//
// The answer is written by the server whatever happens to this connection: when the
// connection drops before the answer's last event, the stream is picked up again after
// the last event received (Last-Event-ID), a few times, before the answer is shown as
// cut. Aborting `signal` only stops listening (leaving the conversation); the stop
// button is stopAnswer().

import { ApiError, post, streamEvents } from "../api.js";

export const CLOSED_EARLY = "The connection closed before the answer finished. Regenerate to try again.";
export const CONNECTION_LOST = "The connection to the server was lost.";
export const RETRY_DELAYS_MS = [250, 1000, 3000];

const wait = (ms, signal) => new Promise((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal?.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
});

/** The URL that reattaches to answer `id`. */
export const followPath = (id) => `/api/messages/${id}/stream`;

/**
 * Stream one answer into `dispatch`. Resolves when the stream has ended, one way or
 * another. A refusal before the answer started (validation, missing key: an ApiError
 * with a status) withdraws the answer and is rethrown, for the caller to explain.
 * Without `body`, follows the saved answer `messageId` (a reload, a second tab).
 * `onStart(messageId)` is called once the answer's id is known.
 */
export async function streamAnswer({ key, body, messageId = null, signal, dispatch, onTitle = null, onStart = null, onEnded = null, path = "/api/chat/stream" }) {
  let ended = false;
  let started = messageId !== null;
  let lastId = null;
  let id = messageId;
  const read = async (url, payload) => {
    for await (const { event, data, id: eventId } of streamEvents(url, payload, signal, { lastEventId: lastId })) {
      if (eventId !== undefined) lastId = eventId;
      // a new conversation's model-written title, after "done": about the conversation,
      // not the answer, so it goes to the page instead of the answers reducer
      if (event === "title") { onTitle?.(data); continue; }
      if (event === "start" && data?.assistant_message_id && id === null) {
        id = data.assistant_message_id;
        onStart?.(id);
      }
      if (event === "start") started = true;
      if (event === "done" || event === "error") ended = true;
      dispatch({ type: "server", key, event, data });
      // the answer is over: the composer is free again, though a new conversation's
      // title may still come on this stream (a second model call, after "done")
      if (ended) onEnded?.();
    }
  };
  let failure = CLOSED_EARLY;
  for (let attempt = 0; ; attempt++) {
    try {
      if (attempt === 0 && body !== undefined) await read(path, body);
      else await read(followPath(id), undefined);
      if (ended) return;
      failure = CLOSED_EARLY;
    } catch (err) {
      if (err.name === "AbortError") return; // the page stopped listening; the answer goes on
      if (err instanceof ApiError && !started) {
        dispatch({ type: "withdraw", key });
        throw err;
      }
      if (err instanceof ApiError && err.status && err.status !== 429 && err.status < 500) {
        dispatch({ type: "cut", key, message: err.message }); // gone (deleted), not ours
        return;
      }
      failure = err.message || CONNECTION_LOST;
    }
    if (ended || id === null || attempt >= RETRY_DELAYS_MS.length || signal?.aborted) break;
    await wait(RETRY_DELAYS_MS[attempt], signal);
    if (signal?.aborted) return;
  }
  if (!ended) dispatch({ type: "cut", key, message: failure });
}

/** The stop button: the server stops answer `id` and every tab following it gets its
 * last event. Resolves to whether there was anything to stop. */
export async function stopAnswer(id) {
  const result = await post(`/api/messages/${id}/stop`);
  return !!result?.stopping;
}

/** Allow (or not) a tool call the answer `id` waits on (a tool whose policy is "ask"). */
export async function decideToolCall(id, callId, approve) {
  return post(`/api/messages/${id}/tool-calls/${encodeURIComponent(callId)}/${approve ? "approve" : "deny"}`);
}
