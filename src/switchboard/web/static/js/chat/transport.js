// One answer's request, as actions for the answers reducer (answers.js): the SSE events
// of POST /api/chat/stream become {type: "server"} actions, and the ways a stream can end
// without its last event (Stop, a dropped connection) become "stopped" / "cut"; the
// conversation's "title" event goes to `onTitle`. Views are
// not touched here; several of these can run at once, one per answer key.

import { ApiError, streamEvents } from "../api.js";

export const CLOSED_EARLY = "The connection closed before the answer finished. Regenerate to try again.";
export const CONNECTION_LOST = "The connection to the server was lost.";

/**
 * Stream one answer into `dispatch`. Resolves when the stream has ended, one way or
 * another. A refusal before the answer started (validation, missing key: an ApiError
 * with a status) withdraws the answer and is rethrown, for the caller to explain.
 */
export async function streamAnswer({ key, body, signal, dispatch, onTitle = null, path = "/api/chat/stream" }) {
  let ended = false;
  let started = false;
  try {
    for await (const { event, data } of streamEvents(path, body, signal)) {
      // a new conversation's model-written title, after "done": about the conversation,
      // not the answer, so it goes to the page instead of the answers reducer
      if (event === "title") { onTitle?.(data); continue; }
      if (event === "start") started = true;
      if (event === "done" || event === "error") ended = true;
      dispatch({ type: "server", key, event, data });
    }
    if (!ended) dispatch({ type: "cut", key, message: CLOSED_EARLY });
  } catch (err) {
    if (err.name === "AbortError") {
      dispatch({ type: "stopped", key });
    } else if (err instanceof ApiError && !started) {
      dispatch({ type: "withdraw", key });
      throw err;
    } else {
      dispatch({ type: "cut", key, message: err.message || CONNECTION_LOST });
    }
  }
}
