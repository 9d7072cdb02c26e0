// Side by side (issue 16 item 6, decisions 0136, 0158): the last question answered again
// by 1-3 other models, each a normal answer of the conversation (a version of the one
// shown, metered like any other). The answers stream side by side through the chat's own
// stream (POST /api/chat/stream, one per model, all at once) into the chat's answers
// reducer (answers.js), each card showing its text as it comes, then its tokens, cost
// and time. The user picks the better one, or a tie: the choice becomes the
// conversation's answer and a vote for the leaderboard.

import { post } from "../api.js";
import { h } from "../dom.js";
import { formatCost, formatInt, formatMs } from "../format.js";
import { modal } from "../ui.js";
import { initialState, reduce } from "./answers.js";
import { createStore, describeRef, isAuto, isImageModel } from "./store.js";
import { streamAnswer } from "./transport.js";

const MAX_OTHERS = 3;

/** Ask which models to compare with; [] when cancelled. */
async function chooseModels(registry, shown) {
  // models that answer in words, by name: Auto is a way of choosing one, not a model
  const usable = registry.providers.filter((p) => p.configured)
    .flatMap((p) => p.models).filter((m) => m.ref !== shown && !isAuto(m) && !isImageModel(m));
  if (!usable.length) throw new Error("There is no other model to compare with.");
  const boxes = usable.map((m) => h("label.check",
    h("input", { type: "checkbox", name: "model", value: m.ref }), ` ${m.name || m.ref}`,
    h("span.muted", ` ${m.provider.display_name || m.provider.name}`)));
  let picked = [];
  const result = await modal({
    title: "Compare with other models",
    body: [h("p.muted", `The same question, answered by up to ${MAX_OTHERS} other models, side by side.`),
      h("fieldset.compare-models", ...boxes)],
    actions: [{ label: "Cancel", value: "cancel" }, { label: "Compare", value: "go", primary: true }],
    onSubmit: (_, form) => {
      picked = [...form.querySelectorAll('input[name="model"]:checked')].map((i) => i.value);
      if (!picked.length) throw new Error("Choose at least one model.");
      if (picked.length > MAX_OTHERS) throw new Error(`Choose at most ${MAX_OTHERS} models.`);
      return "go";
    },
  });
  return result === "go" ? picked : [];
}

/** "120 tokens · $0.0012 · 1.4 s" for a saved answer. */
export function answerFigures(message) {
  const tokens = (message.input_tokens ?? 0) + (message.output_tokens ?? 0);
  return [`${formatInt(tokens)} tokens`, formatCost(message.cost),
    message.latency_ms != null ? formatMs(message.latency_ms) : null].filter(Boolean).join(" · ");
}

function card(label, ref) {
  const body = h("div.compare-text", h("span.muted", "Writing…"));
  const meta = h("div.compare-meta.muted");
  const el = h("section.compare-card", { "aria-label": label, "aria-busy": "true" },
    h("header", h("strong", label), h("span.muted", ` ${describeRef(ref, null, null).name}`),
      h("span.muted.compare-ref", ` ${ref}`)), body, meta);
  return {
    el,
    /** Draw an answer of the reducer (streaming or ended). */
    show(answer) {
      if (answer.text) body.replaceChildren(answer.text);
      el.classList.toggle("streaming", answer.streaming);
      el.setAttribute("aria-busy", String(answer.streaming));
      if (answer.failure) {
        body.replaceChildren(answer.text || "", h("span.muted", ` No answer: ${answer.failure.message}`));
      } else if (!answer.streaming) {
        if (!answer.text) body.replaceChildren(h("span.muted", "(no text)"));
        meta.textContent = answerFigures(answer.message);
      }
    },
    fail(text) { el.setAttribute("aria-busy", "false"); body.replaceChildren(h("span.muted", text)); },
  };
}

/**
 * Compare the answer `message` (the last one shown) with other models; resolves once the
 * user voted (true) or gave up (false). `conversationId` is the open conversation;
 * `turn` what a message sent now would carry besides its text (options, tools), so the
 * other models answer on the same terms.
 */
export async function compareAnswers({ message, registry, conversationId, turn = {} }) {
  const shownRef = message.model || null; // a message view names its model by ref
  const others = await chooseModels(registry, shownRef);
  if (!others.length) return false;
  const first = card("Answer 1", shownRef || "this answer");
  first.show({ text: message.text, streaming: false, failure: null, message });
  const cards = [first, ...others.map((ref, i) => card(`Answer ${i + 2}`, ref))];
  // The compared answers' own store: the chat's reducer, one key per card.
  const store = createStore(reduce, initialState);
  const keys = others.map((_, i) => `compare${i + 1}`);
  store.subscribe((state, action) => {
    const index = keys.indexOf(action.key);
    if (index >= 0 && state.answers[action.key]) cards[index + 1].show(state.answers[action.key]);
  });
  const listening = new AbortController();
  // All at once: each is a regenerate of the same question (a version of it), written by
  // its own job on the server; "compare" keeps them from counting as "asked again".
  const done = Promise.all(others.map(async (ref, i) => {
    const key = keys[i];
    const model = registry.byRef.get(ref);
    store.dispatch({ type: "begin", key, model: ref, provider: model?.provider.name, kind: model?.provider.kind });
    try {
      await streamAnswer({ key, signal: listening.signal, dispatch: store.dispatch,
        body: { ...turn, conversation_id: conversationId, regenerate: true, compare: true, model: ref } });
    } catch (err) {
      cards[i + 1].fail(`No answer: ${err.message}`);
    }
  }));
  const answerOf = (i) => (i === 0 ? message : store.getState().answers[keys[i - 1]]?.message);
  const ended = (i) => {
    if (i === 0) return true;
    const answer = store.getState().answers[keys[i - 1]];
    return !!answer && !answer.streaming && !answer.failure && answer.message.status === "complete";
  };
  const result = await modal({
    title: "Which answer is better?",
    wide: true,
    body: [h("div.compare-grid", ...cards.map((c) => c.el))],
    actions: [{ label: "Cancel", value: "cancel" },
      { label: "It's a tie", value: "tie" },
      // none stands out: the buttons must not lean the vote
      ...cards.map((_, i) => ({ label: `Answer ${i + 1} is better`, value: `win:${i}` }))],
    onSubmit: async (value) => {
      await done;
      const voted = cards.map((_, i) => i).filter(ended);
      if (voted.length < 2) throw new Error("There is nothing to compare: the other answers failed.");
      const index = value.startsWith("win:") ? Number(value.slice(4)) : null;
      if (index !== null && !voted.includes(index)) throw new Error("That answer failed; choose another one.");
      await post("/api/comparisons/vote", { answers: voted.map((i) => answerOf(i).id),
        winner: index !== null ? answerOf(index).id : null });
      return "voted";
    },
  });
  listening.abort(); // cancelled mid-way: the answers go on being written, as versions
  await done;
  return result === "voted";
}
