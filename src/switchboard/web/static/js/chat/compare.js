// Side by side (issue 16 item 6, decision 0136): the last question answered again by 1-3
// other models, each a normal answer of the conversation (a version of the one shown,
// metered like any other); the user picks the better one, or a tie. The choice becomes
// the conversation's answer and a vote for the leaderboard.

import { post } from "../api.js";
import { h } from "../dom.js";
import { formatCost, formatInt, formatMs } from "../format.js";
import { modal } from "../ui.js";

const MAX_OTHERS = 3;

/** Ask which models to compare with; [] when cancelled. */
async function chooseModels(registry, shown) {
  const usable = registry.providers.filter((p) => p.configured)
    .flatMap((p) => p.models).filter((m) => m.ref !== shown);
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

function card(label, model) {
  const body = h("div.compare-text", h("span.muted", "Writing…"));
  const meta = h("div.compare-meta.muted");
  const el = h("section.compare-card", { "aria-label": label },
    h("header", h("strong", label), h("span.muted", ` ${model}`)), body, meta);
  return {
    el,
    fill(message) {
      body.replaceChildren(message.text || "(no text)");
      const tokens = (message.input_tokens ?? 0) + (message.output_tokens ?? 0);
      meta.textContent = [`${formatInt(tokens)} tokens`, formatCost(message.cost),
        message.latency_ms != null ? formatMs(message.latency_ms) : null].filter(Boolean).join(" · ");
    },
    fail(text) { body.replaceChildren(h("span.muted", text)); },
  };
}

/**
 * Compare the answer `message` (the last one shown) with other models; resolves once the
 * user voted (true) or gave up (false). `conversationId` is the open conversation.
 */
export async function compareAnswers({ message, registry, conversationId }) {
  const shownRef = message.model || null; // a message view names its model by ref
  const others = await chooseModels(registry, shownRef);
  if (!others.length) return false;
  const answers = [{ model: shownRef || "this answer", message }];
  const cards = [card("Answer 1", answers[0].model)];
  cards[0].fill(message);
  others.forEach((ref, i) => {
    answers.push({ model: ref, message: null });
    cards.push(card(`Answer ${i + 2}`, ref));
  });
  // One after the other: each is a regenerate of the same question, and the server takes
  // one write at a time anyway; the cards fill in as they come.
  const done = (async () => {
    for (let i = 1; i < answers.length; i += 1) {
      try {
        const reply = await post("/api/chat", { conversation_id: conversationId, regenerate: true,
          compare: true, model: answers[i].model });
        answers[i].message = reply.assistant_message;
        cards[i].fill(reply.assistant_message);
      } catch (err) {
        cards[i].fail(`No answer: ${err.message}`);
      }
    }
  })();
  const result = await modal({
    title: "Which answer is better?",
    wide: true,
    body: [h("div.compare-grid", ...cards.map((c) => c.el))],
    actions: [{ label: "Cancel", value: "cancel" },
      { label: "It's a tie", value: "tie" },
      // none stands out: the buttons must not lean the vote
      ...answers.map((_, i) => ({ label: `Answer ${i + 1} is better`, value: `win:${i}` }))],
    onSubmit: async (value) => {
      await done;
      const voted = answers.filter((a) => a.message && a.message.status !== "error");
      if (voted.length < 2) throw new Error("There is nothing to compare: the other answers failed.");
      const winner = value.startsWith("win:") ? answers[Number(value.slice(4))].message : null;
      if (value.startsWith("win:") && !voted.includes(answers[Number(value.slice(4))])) {
        throw new Error("That answer failed; choose another one.");
      }
      await post("/api/comparisons/vote", { answers: voted.map((a) => a.message.id), winner: winner ? winner.id : null });
      return "voted";
    },
  });
  await done;
  return result === "voted";
}
