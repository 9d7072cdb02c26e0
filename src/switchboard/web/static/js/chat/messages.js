// Message views. User text is shown with textContent (never parsed); assistant text goes
// through renderMarkdown (escape first, then a safe subset). Streaming re-renders the
// Markdown at most once per animation frame.
// An assistant message reads top to bottom as it happened: a collapsed "Thinking" block
// (reasoning, streamed into it live), the answer, then a compact card per tool call with
// its arguments pretty-printed (escaped, then highlighted like a JSON code block).

import { providerBadge } from "../badges.js";
import { h, icon } from "../dom.js";
import { escapeHtml } from "../escape.js";
import { formatCost, formatInt, formatMs } from "../format.js";
import { highlight } from "../highlight.js";
import { renderMarkdown } from "../markdown.js";
import { downloadName, fileHref, openLightbox, pictureCard, picturesOf, pictureSrc } from "./pictures.js";
import { describeRef } from "./store.js";
import { versionLabel, versionPosition } from "./versions.js";

/** "‹ 2 / 3 ›" for a message with other versions (null otherwise); `onVersion(id)` shows one. */
export function versionControl(message, onVersion, disabled = false) {
  const position = versionPosition(message);
  if (!position || !onVersion) return null;
  const label = versionLabel(position);
  const step = (target, text, name) => h("button.icon-btn.version-step", {
    type: "button", "aria-label": name, title: name,
    disabled: disabled || target === null, onclick: () => onVersion(target),
  }, text);
  return h("div.versions", { role: "group", "aria-label": label.spoken },
    step(position.previous, "‹", "Previous version"),
    h("span.version-index", label.text),
    step(position.next, "›", "Next version"));
}

/** Attached files as chips (name; size when known), for the composer and sent messages;
 * a sent file kept on the server (`href`) gets a download button saving it by its name. */
export function fileChips(files, onRemove = null) {
  if (!files.length) return null;
  return h("div.file-chips", files.map((file, index) => h("span.chip.file-chip", { title: file.filename },
    icon("clip"), h("span.file-name", file.filename || "file"),
    file.size ? h("small.muted", file.size) : null,
    file.href ? h("a.file-download", { href: file.href, download: file.filename || "file", "aria-label": `Download ${file.filename || "file"}`, title: "Download" }, icon("download")) : null,
    onRemove ? h("button.file-remove", { type: "button", "aria-label": `Remove ${file.filename}`, onclick: () => onRemove(index) }, icon("x")) : null)));
}

/** A tool call's arguments for display: pretty JSON when they parse, else the raw text. */
function prettyArguments(text) {
  const raw = text === undefined || text === null ? "" : String(text);
  if (!raw.trim()) return { text: "{}", valid: true };
  try {
    return { text: JSON.stringify(JSON.parse(raw), null, 2), valid: true };
  } catch {
    return { text: raw, valid: false };
  }
}

/** What a tool card says about its call, in words (the tool loop's states). */
function toolState(call) {
  const took = call.result?.durationMs != null ? ` in ${formatMs(call.result.durationMs)}` : "";
  switch (call.state) {
    case "waiting": return h("span.chip.chip-warn", "Waiting for your approval");
    case "running": return h("span.chip.tool-running", "Running…");
    case "done": return h("span.chip", `Done${took}`);
    case "failed": return h("span.chip.chip-warn", `Failed${took}`);
    case "declined": return h("span.chip", "Not allowed");
    default: return null;
  }
}

/** A tool call as a card: its name and arguments, and — when the server runs it (the
 * tool loop) — its state, its result and, while it waits, Allow / Don't allow buttons
 * (`onDecide(approve)` returns a promise; the card changes when the server says so). */
export function toolCallCard(call, { onDecide } = {}) {
  const args = prettyArguments(call.arguments);
  const code = h("code");
  // Safe: escapeHtml runs first, and highlight() only wraps escaped tokens in spans.
  code.innerHTML = args.valid ? highlight(escapeHtml(args.text), "json") : escapeHtml(args.text);
  const result = call.result;
  const pictures = (call.pictures || []).map(pictureSrc).filter(Boolean);
  let buttons = null;
  if (call.state === "waiting" && onDecide) {
    const decide = (approve) => async (event) => {
      for (const b of buttons.querySelectorAll("button")) b.disabled = true;
      try {
        await onDecide(approve);
      } catch {
        for (const b of buttons.querySelectorAll("button")) b.disabled = false;
        event.target.title = "That did not reach the server; try again";
      }
    };
    buttons = h("div.tool-approval", { role: "group", "aria-label": "Allow this tool to run?" },
      h("button.btn.btn-primary.btn-sm", { type: "button", onclick: decide(true) }, "Allow"),
      h("button.btn.btn-sm", { type: "button", onclick: decide(false) }, "Don't allow"));
  }
  return h(`div.tool-call${call.state ? `.tool-${call.state}` : ""}`, { role: "group", "aria-label": `Tool call ${call.name}`, title: call.id ? `Call id: ${call.id}` : undefined },
    h("div.tool-call-head",
      h("span.tool-call-icon", icon("wrench")),
      h("span.tool-call-label", "Tool call"),
      h("code.tool-name", call.name || "(unnamed)"),
      args.valid ? null : h("span.chip.chip-warn", { title: "The model sent arguments that are not valid JSON" }, "invalid JSON"),
      toolState(call)),
    h("pre.tool-args", { "aria-label": "Arguments" }, code),
    buttons,
    result ? h(`pre.tool-result${result.isError ? ".tool-result-error" : ""}`, { "aria-label": "Result" },
      result.text + (result.truncated ? "\n…" : ""),
      result.images && !pictures.length ? `\n(${result.images} image${result.images === 1 ? "" : "s"})` : "") : null,
    pictures.length ? h("div.msg-images.tool-pictures", pictures.map((src) => h("button.picture-open", {
      type: "button", "aria-label": "Enlarge the picture", onclick: () => openLightbox(src, "", "image"),
    }, h("img", { src, alt: `Picture from ${call.name || "the tool"}` })))) : null);
}


/**
 * A question. Saved ones (with an id) get "Edit" (the bubble becomes a box with Save &
 * send / Cancel; `onEdit(message, text)` sends it as a new version) and, when edited
 * before, the versions control. `busy()` says an answer is streaming (no edits then).
 */
export function userView(message, { onEdit = null, onVersion = null, busy = () => false } = {}) {
  const parts = message.parts || [];
  const images = parts.filter((p) => p.type === "image")
    .map((p) => ({ src: pictureSrc(p), name: downloadName(p) })).filter((p) => p.src);
  const files = parts.filter((p) => p.type === "file").map((p) => ({ filename: p.filename || "file", href: fileHref(p) }));
  const text = message.text ?? parts.filter((p) => p.type === "text").map((p) => p.text).join("\n");
  const bubble = text ? h("div.bubble", text) : null;
  const col = h("div.user-col",
    images.length ? h("div.msg-images", images.map(({ src, name }) => h("button.picture-open", {
      type: "button", "aria-label": "Enlarge attached image", onclick: () => openLightbox(src, "", name),
    }, h("img", { src, alt: "Attached image" })))) : null,
    fileChips(files),
    bubble);
  const el = h("div.msg.msg-user", { dataset: { id: message.id ?? "" } }, col);
  if (!message.id) return el;
  const tools = h("div.msg-actions.user-actions", { role: "toolbar", "aria-label": "Message actions" },
    versionControl(message, onVersion),
    onEdit ? h("button.icon-btn", {
      type: "button", "aria-label": "Edit message", title: "Edit and resend",
      onclick: () => { if (!busy()) startEdit(); },
    }, icon("pencil")) : null);
  col.append(tools);

  function startEdit() {
    const box = h("textarea.edit-box", { "aria-label": "Edit your message", rows: "3" });
    box.value = text;
    const cancel = () => { editor.replaceWith(...[bubble, tools].filter(Boolean)); };
    const save = () => {
      const changed = box.value.trim();
      if (!changed || busy()) return;
      onEdit(message, changed);
    };
    box.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); save(); }
      if (event.key === "Escape") { event.preventDefault(); event.stopPropagation(); cancel(); }
    });
    const editor = h("div.edit-form", box, h("div.edit-actions",
      h("button.btn.btn-ghost.btn-sm", { type: "button", onclick: cancel }, "Cancel"),
      h("button.btn.btn-primary.btn-sm", { type: "button", onclick: save }, "Save & send")));
    bubble?.remove();
    tools.replaceWith(editor);
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
  }
  return el;
}

// Why the words are what they are: a person asked one model and another answered; they
// should know which, and that it is not their doing. Failures are said by kind, not with
// the provider's error text (that is for the administrator's provider card).
const FAILED_BECAUSE = {
  overloaded: "was overloaded", rate_limited: "was busy", timeout: "did not respond in time",
  server_error: "had a problem", connection_error: "could not be reached",
  context_length_exceeded: "could not take a conversation this long",
  provider_paused: "is paused after repeated failures",
};

// Task types in words (the server's names are for programs).
export const TASK_WORDS = {
  code: "code", writing: "writing", analysis: "analysis", chat: "conversation",
  summarize: "a summary", translation: "a translation", math: "maths",
  extraction: "extracting facts", brainstorming: "ideas", qa: "a factual question",
  vision: "reading an image", image: "making an image",
};

const TIER_WORDS = { auto: "Auto", cheap: "Auto (cheapest)", best: "Auto (best)" };

/** Why Auto chose a model, in words: "Auto chose it for code: task default for code". */
export function autoReason(pick) {
  const name = describeRef(pick.model, null, null).name;
  const task = TASK_WORDS[pick.task] || pick.task;
  return `${TIER_WORDS[pick.tier] || "Auto"} chose ${name} for ${task}: ${pick.why}`;
}

function autoNote(pick) {
  return h("span.msg-auto", { title: autoReason(pick) }, icon("star"), autoReason(pick));
}

/** "Answered by X after Y failed" under an answer a fallback model gave (else null). */
export function fallbackNote(m) {
  const failed = m.failed_models || [];
  if (!failed.length || !m.model) return null;
  const answered = describeRef(m.model, m.provider, m.kind).name;
  const names = failed.map((f) => describeRef(f.ref, null, null).name);
  const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
  const why = failed.map((f) => `${describeRef(f.ref, null, null).name} ${FAILED_BECAUSE[f.code] || "failed"}`).join("; ");
  return h("span.msg-fallback", { title: `${why}, so ${answered} answered instead.` },
    icon("refresh"), `Answered by ${answered} after ${list} failed`);
}

/**
 * An assistant message: header (model + provider), body, footer (meta + actions).
 * It renders an Answer (answers.js) and nothing else: update(answer) compares with the
 * answer it showed last and touches only what changed (the Markdown at most once per
 * animation frame while streaming).
 */
export class AssistantView {
  constructor(answer, { onRegenerate, onRate, onCopy, onVersion, onDecide, onCompare }) {
    this.answer = null;
    this.handlers = { onRegenerate, onRate, onCopy, onVersion, onDecide, onCompare };
    this.frame = 0;
    this.last = false;
    this.avatar = h("div.msg-avatar");
    this.head = h("div.msg-head");
    this.reasoning = null;
    this.reasoningSlot = h("div.reasoning-slot");
    this.tools = h("div.tool-calls");
    this.body = h("div.md");
    this.pictures = h("div.msg-pictures");
    this.error = h("div.msg-error");
    this.meta = h("div.msg-meta");
    this.actions = h("div.msg-actions", { role: "toolbar", "aria-label": "Message actions" });
    this.el = h("div.msg.msg-assistant", { dataset: { key: answer.key } },
      this.avatar,
      h("div.msg-body", this.head, this.reasoningSlot, this.body, this.pictures, this.tools, this.error,
        h("div.msg-foot", this.actions, this.meta)));
    this.update(answer);
  }

  get text() { return this.answer.text; }
  get message() { return this.answer.message; }

  update(answer) {
    const before = this.answer;
    this.answer = answer;
    const m = answer.message;
    const pm = before?.message;
    this.el.dataset.id = m.id ?? "";
    this.el.classList.toggle("streaming", answer.streaming);
    this.el.setAttribute("aria-busy", answer.streaming ? "true" : "false");
    if (!pm || pm.model !== m.model || pm.provider !== m.provider || pm.kind !== m.kind
        || pm.auto !== m.auto) {
      this.renderModel(m.model, m.provider, m.kind);
      if (m.auto) this.head.append(autoNote(m.auto));
    }
    if (answer.reasoning !== (before?.reasoning ?? "")) this.renderReasoning(answer.reasoning);
    this.renderToolCalls(answer, before);
    if (!before || answer.text !== before.text || answer.streaming !== before.streaming
        || answer.inline !== before.inline) {
      if (answer.streaming && before?.streaming) this.scheduleBody();
      else this.renderBody();
    }
    this.renderReasoningLabel();
    if (answer.failure !== before?.failure) this.renderFailure(answer.failure);
    if (!before || m !== pm || answer.streaming !== before.streaming) {
      this.pictures.replaceChildren(...picturesOf(m));
      this.renderFooter();
    }
  }

  /** One card per call id; a card whose call changed (running, result, approval) is
   * drawn again in place. */
  renderToolCalls(answer, before) {
    const old = new Map((before?.toolCalls || []).map((c) => [c.id, c]));
    this.cards = this.cards || new Map();
    answer.toolCalls.forEach((call, index) => {
      const key = call.id ?? `#${index}`;
      const card = this.cards.get(key);
      if (card && old.get(call.id) === call) return;
      const id = answer.message.id;
      const next = toolCallCard(call, { onDecide: id && this.handlers.onDecide ? (approve) => this.handlers.onDecide(id, call.id, approve) : undefined });
      if (card) card.replaceWith(next);
      else this.tools.append(next);
      this.cards.set(key, next);
    });
  }

  renderModel(ref, provider, kind) {
    const info = describeRef(ref, provider, kind);
    this.avatar.replaceChildren(providerBadge(info.provider, "md"));
    this.head.replaceChildren(
      h("span.model-name", info.name),
      // the provider's own (unique) name: two OpenAI-compatible endpoints share a kind name
      h("span.chip", { title: `Provider: ${info.provider.name}${info.provider.display_name && info.provider.display_name !== info.provider.name ? ` (${info.provider.display_name})` : ""}` }, info.provider.name));
  }

  /** Reasoning goes into a collapsed "Thinking" block; while it streams, the label
   * pulses and the text grows inside (visible when the reader opens it). */
  renderReasoning(text) {
    if (!this.reasoning) {
      this.reasoningBody = h("div.reasoning-text");
      this.reasoningLabel = h("span.reasoning-label");
      this.reasoning = h("details.reasoning",
        h("summary", icon("brain"), this.reasoningLabel, icon("chevron", "reasoning-chevron")),
        this.reasoningBody);
      this.reasoningSlot.append(this.reasoning);
    }
    this.reasoningBody.textContent = text;
  }

  renderReasoningLabel() {
    if (!this.reasoning) return;
    const live = this.answer.streaming && !this.answer.text;
    this.reasoning.classList.toggle("live", live);
    const tokens = this.answer.message.reasoning_tokens;
    this.reasoningLabel.replaceChildren(live ? "Thinking…" : "Thinking");
    if (!live && tokens) this.reasoningLabel.append(h("small", ` · ${formatInt(tokens)} tokens`));
  }

  scheduleBody() {
    if (!this.frame) {
      this.frame = requestAnimationFrame(() => { this.frame = 0; this.renderBody(); });
    }
  }

  renderBody() {
    if (this.frame) { cancelAnimationFrame(this.frame); this.frame = 0; }
    const { text, streaming, reasoning, inline } = this.answer;
    if (inline?.length) { this.renderInterleaved(text, inline); return; }
    if (!text) {
      // typing dots until something arrives; the pulsing "Thinking…" replaces them
      if (streaming && !reasoning) {
        if (!this.body.querySelector(".typing")) {
          this.body.replaceChildren(h("span.typing", { "aria-label": "Waiting for the answer" }, h("i"), h("i"), h("i")));
        }
      } else this.body.replaceChildren();
      return;
    }
    // Safe: renderMarkdown escapes all of its input before building any markup.
    this.body.innerHTML = renderMarkdown(text);
  }

  /** Text and pictures in the order the model gave them: each stretch of text as
   * Markdown, each picture as its card (thumbnail, lightbox, download). */
  renderInterleaved(text, inline) {
    const nodes = [];
    let from = 0;
    const prose = (upTo) => {
      const chunk = text.slice(from, upTo);
      from = upTo;
      if (!chunk.trim()) return;
      const block = h("div.md-part");
      // Safe: renderMarkdown escapes all of its input before building any markup.
      block.innerHTML = renderMarkdown(chunk);
      nodes.push(block);
    };
    for (const { at, part } of inline) {
      prose(Math.max(at, from));
      const card = pictureCard(part);
      if (card) nodes.push(card);
    }
    prose(text.length);
    this.body.replaceChildren(...nodes);
  }

  renderFailure(failure) {
    if (!failure) { this.error.replaceChildren(); return; }
    this.error.replaceChildren(h("div.banner.banner-error", { role: "alert" }, icon("alert"),
      h("div.banner-text", h("strong", failure.status === "partial" ? "The answer was interrupted" : "The model could not answer"),
        h("span", failure.message))));
  }

  renderFooter() {
    const m = this.answer.message;
    const meta = [];
    const fallback = fallbackNote(m);
    if (fallback) meta.push(fallback);
    if (m.status === "partial") meta.push(h("span.msg-status.chip.chip-warn", m.finish_reason === "stopped" || m.error === "stopped" ? "Stopped" : "Partial"));
    // "≈": the provider reported no usage (a stopped answer): the figures are estimates.
    const approx = m.usage_estimated ? "≈ " : "";
    const estimatedNote = m.usage_estimated ? " (estimated: the provider did not report usage)" : "";
    // pictures an image model drew carry their size and cost themselves (pictures.js)
    const drawn = (m.parts || []).some((p) => p.type === "image" && p.meta);
    if (!drawn && m.input_tokens !== undefined && m.input_tokens !== null) {
      meta.push(h("span.msg-tokens", { title: `${formatInt(m.input_tokens)} input tokens${m.cached_tokens ? ` (${formatInt(m.cached_tokens)} cached)` : ""}, ${formatInt(m.output_tokens)} output tokens${m.reasoning_tokens ? ` (${formatInt(m.reasoning_tokens)} reasoning)` : ""}${estimatedNote}` },
        `${approx}${formatInt(m.input_tokens)} in · ${formatInt(m.output_tokens)} out tokens`));
    }
    if (!drawn && m.id && m.status !== "streaming" && m.input_tokens !== undefined) {
      meta.push(h("span.msg-cost", { title: `Cost of this answer${estimatedNote}` }, m.cost === null || m.cost === undefined ? "cost unknown" : `${approx}${formatCost(m.cost)}`));
    }
    if (m.latency_ms !== undefined && m.latency_ms !== null) {
      meta.push(h("span", { title: m.ttft_ms ? `First token after ${formatMs(m.ttft_ms)}` : "Total time" }, formatMs(m.latency_ms)));
    }
    this.meta.replaceChildren(...meta);
    this.renderActions();
  }

  renderActions() {
    const m = this.answer.message;
    if (this.answer.streaming) { this.actions.replaceChildren(); return; }
    const rating = m.rating || 0;
    const button = (name, label, onclick, pressed) => h("button.icon-btn", {
      type: "button", "aria-label": label, title: label, onclick,
      "aria-pressed": pressed === undefined ? undefined : String(pressed),
    }, icon(name));
    const items = [button("copy", "Copy answer", () => this.handlers.onCopy(this))];
    if (m.id) {
      items.push(button("up", "Good answer", () => this.handlers.onRate(this, rating === 1 ? 0 : 1), rating === 1));
      items.push(button("down", "Bad answer", () => this.handlers.onRate(this, rating === -1 ? 0 : -1), rating === -1));
    }
    if (this.last) {
      items.push(button("refresh", "Regenerate answer", () => this.handlers.onRegenerate(this)));
      if (m.id && this.handlers.onCompare) {
        items.push(button("star", "Compare with other models", () => this.handlers.onCompare(this)));
      }
    }
    const versions = versionControl(m, this.handlers.onVersion);
    this.actions.replaceChildren(...[versions, ...items].filter(Boolean));
  }

  setLast(last) {
    if (last === this.last) return;
    this.last = last;
    this.el.classList.toggle("last", last);
    this.renderActions();
  }
}
