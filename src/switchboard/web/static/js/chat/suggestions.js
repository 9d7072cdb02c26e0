// Suggested models for what is being typed (issue 16 item 4; decisions 0138, 0157).
// As the user types, the draft is sent (debounced, bounded) to POST /api/suggestions,
// which classifies it and answers with up to three models from this user's own history
// of that task type, each with its reason; the model picker lists them first.
//
// The hit rate: a turn counts as "shown" when the picker showed suggestions while this
// draft was written, and as "taken" when the user chose one of them there and sent the
// message with it (a suggestion that merely matches the model already selected is not a
// suggestion taken). Reported once per turn sent (POST /api/suggestions/outcome).

import { post } from "../api.js";

export const SUGGEST_DELAY_MS = 400;
/** The classifier reads the first 700 and last 300 characters of a prompt: the draft's
 * start and end are sent, never more than this. */
export const HEAD_CHARS = 2000;
export const TAIL_CHARS = 1000;

/** What of the draft is sent: its start and end (the middle does not change the task). */
export function draftExcerpt(text) {
  if (text.length <= HEAD_CHARS + TAIL_CHARS) return text;
  return `${text.slice(0, HEAD_CHARS)}\n${text.slice(-TAIL_CHARS)}`;
}

/** The outcome of a turn sent: null (nothing to report: no suggestion was shown), else
 * whether the model it was sent with is the suggestion the user chose. */
export function outcomeOf({ shown, taken }, sentRef) {
  if (!shown) return null;
  return { taken: taken !== null && taken === sentRef };
}

/**
 * `resolve(ref)` → the picker's model for a ref (null: not in the catalog, skipped);
 * `onChange()` is called when the suggestions change (the picker redraws if open).
 */
export function createSuggestions({ resolve, onChange, send = post }) {
  let timer = 0;
  let seq = 0;
  let current = { task: null, items: [] }; // items: [{ model, reason }]
  const turn = { shown: false, taken: null };

  function set(next) {
    current = next;
    onChange();
  }

  return {
    /** The draft changed: ask again after a pause (only the latest answer counts). */
    update(text, images = 0) {
      clearTimeout(timer);
      const draft = text.trim();
      if (!draft && !images) {
        seq++;
        if (current.items.length) set({ task: null, items: [] });
        return;
      }
      timer = setTimeout(async () => {
        const mine = ++seq;
        try {
          const found = await send("/api/suggestions", { prompt: draftExcerpt(draft), images: Math.min(images, 32) });
          if (mine !== seq) return;
          const items = (found?.suggestions || [])
            .map((s) => ({ model: resolve(s.model), reason: s.reason }))
            .filter((s) => s.model);
          set({ task: found?.task || null, items });
        } catch {
          /* suggestions are a hint: without them the picker lists the models as before */
        }
      }, SUGGEST_DELAY_MS);
    },
    current: () => current,
    /** The picker showed them to the user. */
    markShown() { if (current.items.length) turn.shown = true; },
    /** The user chose suggestion `ref` in the picker. */
    take(ref) { turn.shown = true; turn.taken = ref; },
    /** A message was sent with model `ref`: report the outcome (if any), start afresh. */
    sent(ref) {
      const outcome = outcomeOf(turn, ref);
      turn.shown = false;
      turn.taken = null;
      if (outcome) send("/api/suggestions/outcome", outcome).catch(() => { /* a counter: not worth an error */ });
      return outcome;
    },
  };
}
