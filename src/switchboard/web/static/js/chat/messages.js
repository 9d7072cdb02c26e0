// Message views. User text is shown with textContent (never parsed); assistant text goes
// through renderMarkdown (escape first, then a safe subset). Streaming re-renders the
// Markdown at most once per animation frame.

import { providerBadge } from "../badges.js";
import { h, icon } from "../dom.js";
import { formatCost, formatInt, formatMs } from "../format.js";
import { renderMarkdown } from "../markdown.js";
import { describeRef } from "./store.js";

const imageSrc = (part) => {
  if (part.data) return `data:${part.media_type || "image/png"};base64,${part.data}`;
  return part.url && /^https?:\/\//i.test(part.url) ? part.url : null;
};

export function userView(message) {
  const parts = message.parts || [];
  const images = parts.filter((p) => p.type === "image").map(imageSrc).filter(Boolean);
  const text = message.text ?? parts.filter((p) => p.type === "text").map((p) => p.text).join("\n");
  const el = h("div.msg.msg-user", { dataset: { id: message.id ?? "" } },
    h("div.user-col",
      images.length ? h("div.msg-images", images.map((src) => h("img", { src, alt: "Attached image" }))) : null,
      text ? h("div.bubble", text) : null));
  return el;
}

/** An assistant message: header (model + provider), body, footer (meta + actions). */
export class AssistantView {
  constructor(message, { onRegenerate, onRate, onCopy }) {
    this.message = { ...message };
    this.text = message.text || "";
    this.reasoningText = "";
    this.handlers = { onRegenerate, onRate, onCopy };
    this.frame = 0;
    this.avatar = h("div.msg-avatar");
    this.head = h("div.msg-head");
    this.reasoning = null;
    this.tools = h("div.tool-calls");
    this.body = h("div.md");
    this.error = h("div.msg-error");
    this.meta = h("div.msg-meta");
    this.actions = h("div.msg-actions", { role: "toolbar", "aria-label": "Message actions" });
    this.el = h("div.msg.msg-assistant", { dataset: { id: message.id ?? "" } },
      this.avatar,
      h("div.msg-body", this.head, this.tools, this.body, this.error,
        h("div.msg-foot", this.actions, this.meta)));
    this.setModel(message.model, message.provider, message.kind);
    for (const part of message.parts || []) {
      if (part.type === "reasoning" && part.text) this.appendReasoning(part.text);
      if (part.type === "tool-call") this.addToolCall(part);
    }
    this.renderBody();
    this.renderFooter();
  }

  setModel(ref, provider, kind) {
    const info = describeRef(ref, provider, kind);
    this.avatar.replaceChildren(providerBadge(info.provider, "md"));
    this.head.replaceChildren(
      h("span.model-name", info.name),
      h("span.chip", { title: `Provider: ${info.provider.name}` }, info.provider.display_name || info.provider.name));
  }

  setStreaming(on) {
    this.el.classList.toggle("streaming", on);
    this.el.setAttribute("aria-busy", on ? "true" : "false");
    if (on && !this.text) this.body.replaceChildren(h("span.typing", { "aria-label": "Thinking" }, h("i"), h("i"), h("i")));
  }

  appendText(text) {
    this.text += text;
    if (!this.frame) {
      this.frame = requestAnimationFrame(() => { this.frame = 0; this.renderBody(); });
    }
  }

  appendReasoning(text) {
    if (!this.reasoning) {
      this.reasoningBody = h("div.reasoning-text");
      this.reasoning = h("details.reasoning", h("summary", icon("brain"), "Reasoning"), this.reasoningBody);
      this.tools.before(this.reasoning);
    }
    this.reasoningText += text;
    this.reasoningBody.textContent = this.reasoningText;
  }

  addToolCall(call) {
    this.tools.append(h("div.tool-call", icon("wrench"), `${call.name}(${call.arguments || ""})`));
  }

  renderBody() {
    if (this.frame) { cancelAnimationFrame(this.frame); this.frame = 0; }
    if (!this.text) {
      if (!this.el.classList.contains("streaming")) this.body.replaceChildren();
      return;
    }
    // Safe: renderMarkdown escapes all of its input before building any markup.
    this.body.innerHTML = renderMarkdown(this.text);
  }

  /** The final MessageView from the server (done event or history). */
  finish(message) {
    this.message = { ...this.message, ...message };
    if (message.text !== undefined && message.text !== null) this.text = message.text;
    this.el.dataset.id = message.id ?? "";
    this.setModel(message.model, message.provider, message.kind);
    this.renderBody();
    this.renderFooter();
  }

  fail({ message, status = "error" }) {
    this.message.status = status;
    this.renderBody();
    this.error.replaceChildren(h("div.banner.banner-error", { role: "alert" }, icon("alert"),
      h("div.banner-text", h("strong", status === "partial" ? "The answer was interrupted" : "The model could not answer"),
        h("span", message))));
    this.renderFooter();
  }

  stopped() {
    this.message.status = "partial";
    this.message.finish_reason = "stopped";
    this.renderBody();
    this.renderFooter();
  }

  renderFooter() {
    const m = this.message;
    const meta = [];
    if (m.status === "partial") meta.push(h("span.msg-status.chip.chip-warn", m.finish_reason === "stopped" || m.error === "stopped" ? "Stopped" : "Partial"));
    if (m.input_tokens !== undefined && m.input_tokens !== null) {
      meta.push(h("span", { title: `${formatInt(m.input_tokens)} input tokens${m.cached_tokens ? ` (${formatInt(m.cached_tokens)} cached)` : ""}, ${formatInt(m.output_tokens)} output tokens${m.reasoning_tokens ? ` (${formatInt(m.reasoning_tokens)} reasoning)` : ""}` },
        `${formatInt(m.input_tokens)} in · ${formatInt(m.output_tokens)} out tokens`));
    }
    if (m.id && m.status !== "streaming" && m.input_tokens !== undefined) {
      meta.push(h("span", { title: "Cost of this answer" }, m.cost === null || m.cost === undefined ? "cost unknown" : formatCost(m.cost)));
    }
    if (m.latency_ms !== undefined && m.latency_ms !== null) {
      meta.push(h("span", { title: m.ttft_ms ? `First token after ${formatMs(m.ttft_ms)}` : "Total time" }, formatMs(m.latency_ms)));
    }
    this.meta.replaceChildren(...meta);
    this.renderActions();
  }

  renderActions() {
    const m = this.message;
    if (m.status === "streaming") { this.actions.replaceChildren(); return; }
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
    if (this.el.classList.contains("last")) {
      items.push(button("refresh", "Regenerate answer", () => this.handlers.onRegenerate(this)));
    }
    this.actions.replaceChildren(...items);
  }

  setLast(last) {
    this.el.classList.toggle("last", last);
    this.renderActions();
  }
}
