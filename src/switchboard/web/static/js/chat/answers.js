// The chat page's answers as data: an explicit reducer from events to state, with no DOM
// and no I/O, so several answers can stream at once (comparison, tool loops) and each
// view just renders the answer it is given.
//
// State: { answers: { [key]: Answer } }. An Answer is keyed by a client-side key (the
// server's message id is not known until the "start" event) and holds what the view
// shows: streamed text, reasoning and tool calls, the message fields from the server
// (model, tokens, cost, rating, status…) and a failure to show, if any.
//
// Actions:
//   {type: "reset", messages?}          the open conversation changed (history answers)
//   {type: "begin", key, model, provider, kind}   a request was sent
//   {type: "server", key, event, data}  one event of POST /api/chat/stream (or of
//                                       GET /api/messages/{id}/stream: a "start" begins
//                                       the answer again, a "snapshot" stands for what
//                                       came before it)
//   {type: "stopped", key}              the user stopped it
//   {type: "cut", key, message}         the connection ended before "done"/"error"
//   {type: "withdraw", key}             refused before it started: nothing was saved
//   {type: "rated", key, rating}
// Events for an unknown key, or for an answer that has already ended, change nothing (a
// late delta after Stop must not reopen it).

import { plainText } from "../errors.js";

export const initialState = Object.freeze({ answers: Object.freeze({}) });

/** The key of a saved answer (history). */
export const savedKey = (id) => `m${id}`;

/** The placeholder of an answer the server is still writing (a reload, another tab):
 * the page follows it instead of showing it as saved. */
export const IN_PROGRESS = "in progress";
/** …or its tool loop waits for the user's approval (still being written). */
export const WAITING = "waiting for your approval";
export const inProgress = (message) => message?.status === "partial"
  && (message?.error === IN_PROGRESS || String(message?.error || "").startsWith(WAITING));

/** The messages to draw for a conversation loaded from the server. The steps of a tool
 * loop still being written (the tool-call answers and tool results saved between the
 * last question and the answer in progress) are left out: following that answer replays
 * every step's events from its start, so they would show twice. */
export function shownMessages(messages) {
  const list = messages || [];
  const live = list.findIndex((m) => m.role === "assistant" && inProgress(m));
  if (live < 0) return list;
  let question = live - 1;
  while (question >= 0 && list[question].role !== "user") question -= 1;
  return [...list.slice(0, question + 1), ...list.slice(live)];
}

/** A failed or interrupted saved answer keeps its reason ("stopped" is not a failure). */
function savedFailure(message) {
  if (inProgress(message)) return null;
  if (message.status === "error") return { message: message.error || "The answer failed.", status: "error" };
  if (message.status === "partial" && message.error && message.error !== "stopped") {
    return { message: message.error, status: "partial" };
  }
  return null;
}

function joinParts(parts, type) {
  return (parts || []).filter((p) => p.type === type && p.text).map((p) => p.text).join("\n\n");
}

/** Pictures that sit among an answer's text (a model that answers with both, such as
 * Gemini's image models), each with the length of the text before it, so the page
 * shows them where they came. Pictures an image model drew (they carry `meta`: prompt,
 * size) stay in the gallery under the answer. */
export function inlinePictures(parts) {
  const found = [];
  let at = 0;
  for (const part of parts || []) {
    if (part.type === "text") at += (part.text || "").length;
    else if (part.type === "image" && !part.meta) found.push({ at, part });
  }
  return found;
}

/** An Answer from a saved assistant MessageView. */
export function answerFromMessage(message) {
  return {
    key: savedKey(message.id),
    streaming: inProgress(message),
    text: message.text || "",
    inline: inlinePictures(message.parts),
    reasoning: joinParts(message.parts, "reasoning"),
    toolCalls: (message.parts || []).filter((p) => p.type === "tool-call"),
    message: inProgress(message) ? { ...message, status: "streaming", error: null } : { ...message },
    failure: savedFailure(message),
  };
}

const STOPPED = { status: "partial", finish_reason: "stopped" };

// Tool cards of the server-side tool loop: one per call id, updated as its events come
// ("tool_call_start" → "tool_call" → "approval_needed"/"approval" → "tool_running" →
// "tool_result"). A card's `state`: "calling" | "waiting" | "running" | "done" | "failed"
// | "declined"; `result`: { text, isError, durationMs, images, truncated }.
function upsertCall(calls, id, patch) {
  const index = calls.findIndex((c) => c.id === id);
  if (index < 0) return [...calls, { id, ...patch }];
  const next = [...calls];
  next[index] = { ...calls[index], ...patch };
  return next;
}

function toolEvent(answer, event, data) {
  if (!data?.id) return answer;
  const calls = answer.toolCalls;
  switch (event) {
    case "tool_call_start":
      return { ...answer, toolCalls: upsertCall(calls, data.id, { name: data.name, state: "calling" }) };
    case "tool_call":
      return { ...answer, toolCalls: upsertCall(calls, data.id, { name: data.name, arguments: data.arguments, state: "calling" }) };
    case "approval_needed":
      return { ...answer, toolCalls: upsertCall(calls, data.id, { name: data.name, arguments: data.arguments, state: "waiting" }) };
    case "approval":
      return { ...answer, toolCalls: upsertCall(calls, data.id, { approved: !!data.approved, state: data.approved ? "calling" : "declined" }) };
    case "tool_running":
      return { ...answer, toolCalls: upsertCall(calls, data.id, { name: data.name, state: "running" }) };
    case "tool_result":
      return {
        ...answer,
        toolCalls: upsertCall(calls, data.id, {
          state: data.is_error ? (calls.find((c) => c.id === data.id)?.approved === false ? "declined" : "failed") : "done",
          result: { text: data.text || "", isError: !!data.is_error, durationMs: data.duration_ms ?? null, images: data.images || 0, truncated: !!data.truncated },
        }),
      };
    default:
      return answer;
  }
}

/** A saved answer's cards with the results of the tool message saved after it. */
function withResults(answer, parts) {
  let toolCalls = answer.toolCalls;
  for (const part of parts || []) {
    if (part.type !== "tool-result" || !toolCalls.some((c) => c.id === part.tool_call_id)) continue;
    toolCalls = upsertCall(toolCalls, part.tool_call_id, {
      state: part.is_error ? "failed" : "done",
      result: { text: part.content || "", isError: !!part.is_error, durationMs: null, images: 0, truncated: false },
    });
  }
  toolCalls = withPictures(toolCalls, parts);
  return toolCalls === answer.toolCalls ? answer : { ...answer, toolCalls };
}

/** The cards with the pictures a tool returned (image parts of the tool message, each
 * naming its call in `meta.call`), shown on the card of that call. */
function withPictures(calls, parts) {
  let next = calls;
  for (const part of parts || []) {
    const id = part?.type === "image" ? part.meta?.call : null;
    const card = id ? next.find((c) => c.id === id) : null;
    if (!card) continue;
    next = upsertCall(next, id, { pictures: [...(card.pictures || []), part] });
  }
  return next;
}

/** The cards waiting for the user's approve / deny. */
export const waitingCalls = (answer) => (answer?.toolCalls || []).filter((c) => c.state === "waiting");

function begin({ key, model, provider, kind }) {
  return {
    key,
    streaming: true,
    text: "",
    inline: [],
    reasoning: "",
    toolCalls: [],
    message: { id: null, model, provider, kind, status: "streaming" },
    failure: null,
  };
}

function fromServer(answer, event, data) {
  switch (event) {
    case "start":
      return {
        ...answer,
        text: "",
        inline: [],
        reasoning: "",
        toolCalls: [],
        message: {
          ...answer.message,
          id: data.assistant_message_id ?? answer.message.id,
          model: data.model ?? answer.message.model,
          provider: data.provider ?? answer.message.provider,
          kind: data.kind ?? answer.message.kind,
          auto: data.auto ?? answer.message.auto ?? null,
        },
      };
    case "delta":
      return data?.text ? { ...answer, text: answer.text + data.text } : answer;
    case "image": // a picture among the text, kept by the server: shown where it came
      return data?.part ? { ...answer, inline: [...(answer.inline || []), { at: answer.text.length, part: data.part }] } : answer;
    case "reasoning":
      return data?.text ? { ...answer, reasoning: answer.reasoning + data.text } : answer;
    case "tool_call_start":
    case "tool_call":
    case "approval_needed":
    case "approval":
    case "tool_running":
    case "tool_result":
      return toolEvent(answer, event, data);
    case "step": { // a step saved; the results' pictures, once kept, go on their cards
      if (data?.role !== "tool" || !Array.isArray(data.images)) return answer;
      const toolCalls = withPictures(answer.toolCalls, data.images);
      return toolCalls === answer.toolCalls ? answer : { ...answer, toolCalls };
    }
    case "snapshot": { // what came before, folded: text, reasoning, calls, pictures in place
      const inline = (Array.isArray(data?.images) ? data.images : [])
        .filter((i) => i?.part && Number.isInteger(i.at)).map(({ at, part }) => ({ at, part }));
      return { ...answer, text: data?.text || "", inline, reasoning: data?.reasoning || "", toolCalls: [...(data?.tool_calls || [])] };
    }
    case "done": {
      const message = { ...answer.message, ...(data?.message || {}) };
      const text = data?.message?.text ?? answer.text;
      const inline = data?.message?.parts ? inlinePictures(data.message.parts) : answer.inline;
      return { ...answer, streaming: false, text, inline, message };
    }
    case "error": {
      const status = data?.status || "error";
      if (data?.code === "stopped") { // the stop button, in this tab or another one
        const id = data?.message_id ?? answer.message.id;
        return { ...answer, streaming: false, message: { ...answer.message, id, ...STOPPED, status, error: "stopped" } };
      }
      return {
        ...answer,
        streaming: false,
        message: { ...answer.message, id: data?.message_id ?? answer.message.id, status },
        failure: { message: plainText(data?.message) || "The model could not answer.", status },
      };
    }
    default:
      return answer; // an event this page does not know yet (newer server): ignore it
  }
}

function reduceAnswer(answer, action) {
  switch (action.type) {
    case "server":
      return fromServer(answer, action.event, action.data);
    case "stopped":
      return { ...answer, streaming: false, message: { ...answer.message, ...STOPPED } };
    case "cut":
      return {
        ...answer,
        streaming: false,
        message: { ...answer.message, status: "partial" },
        failure: { message: action.message, status: "partial" },
      };
    default:
      return answer;
  }
}

/** The reducer: (state, action) → state. Returns the same object when nothing changed. */
export function reduce(state, action) {
  const { answers } = state;
  switch (action.type) {
    case "reset": {
      const next = {};
      let last = null;
      for (const message of action.messages || []) {
        if (message.role === "assistant") {
          const answer = answerFromMessage(message);
          next[answer.key] = answer;
          last = answer.key;
        } else if (message.role === "tool" && last) { // a tool loop's results: on the cards
          next[last] = withResults(next[last], message.parts);
        }
      }
      return { ...state, answers: next };
    }
    case "begin":
      return { ...state, answers: { ...answers, [action.key]: begin(action) } };
    case "withdraw": {
      if (!(action.key in answers)) return state;
      const next = { ...answers };
      delete next[action.key];
      return { ...state, answers: next };
    }
    case "rated": {
      const answer = answers[action.key];
      if (!answer) return state;
      return { ...state, answers: { ...answers, [action.key]: { ...answer, message: { ...answer.message, rating: action.rating } } } };
    }
    default: {
      const answer = answers[action.key];
      if (!answer || !answer.streaming) return state;
      const next = reduceAnswer(answer, action);
      return next === answer ? state : { ...state, answers: { ...answers, [action.key]: next } };
    }
  }
}

/** Keys of the answers still streaming. */
export const streamingKeys = (state) => Object.values(state.answers).filter((a) => a.streaming).map((a) => a.key);
