// Small shared widgets: toasts, error banners, confirm and form dialogs, switches.
// Dialogs use the native <dialog> element (focus trap, Esc to close, screen reader
// semantics for free).

import { $, h, icon } from "./dom.js";

export function toast(message, kind = "info") {
  const box = $("#toasts");
  if (!box) return;
  const el = h(`div.toast.toast-${kind}`, icon(kind === "error" ? "alert" : "check"), h("span", message));
  box.append(el);
  while (box.children.length > 3) box.firstElementChild.remove();
  setTimeout(() => {
    el.classList.add("leaving");
    setTimeout(() => el.remove(), 250);
  }, kind === "error" ? 6000 : 3000);
}

/**
 * An error banner: what happened and what to do.
 * action = {label, href} or {label, onclick}
 */
export function banner(slot, message, { kind = "error", action = null, title = null, dismiss = true } = {}) {
  const target = typeof slot === "string" ? $(slot) : slot;
  if (!target) return null;
  const el = h(`div.banner.banner-${kind}`, { role: kind === "error" ? "alert" : "status" },
    icon(kind === "error" ? "alert" : "sparkles"),
    h("div.banner-text", title ? h("strong", title) : null, h("span", message)),
    action ? (action.href
      ? h("a.btn.btn-sm", { href: action.href }, action.label)
      : h("button.btn.btn-sm", { type: "button", onclick: action.onclick }, action.label)) : null,
    dismiss ? h("button.icon-btn.banner-close", {
      type: "button", "aria-label": "Dismiss", onclick: () => el.remove(),
    }, icon("x")) : null);
  target.replaceChildren(el);
  return el;
}

export function clearBanner(slot) {
  const target = typeof slot === "string" ? $(slot) : slot;
  target?.replaceChildren();
}

/** Open a modal dialog built from `body` nodes; resolves with the button value. */
export function modal({ title, body = [], actions = [], onSubmit = null, wide = false }) {
  return new Promise((resolve) => {
    const error = h("div.banner.banner-error", { role: "alert", hidden: true });
    const form = h("form.dialog-body", { method: "dialog", novalidate: true },
      h("header.dialog-head", h("h2", title),
        h("button.icon-btn", { value: "cancel", formnovalidate: true, "aria-label": "Close" }, icon("x"))),
      ...body, error,
      h("footer.dialog-foot", ...actions.map((a) => h(`button.btn${a.primary ? ".btn-primary" : ""}${a.danger ? ".btn-danger" : ""}${!a.primary && !a.danger ? ".btn-ghost" : ""}`, {
        value: a.value, formnovalidate: a.value === "cancel" ? true : undefined,
      }, a.label))));
    const dialog = h(`dialog.dialog${wide ? ".dialog-wide" : ""}`, { "aria-label": title }, form);
    document.body.append(dialog);
    form.addEventListener("submit", async (event) => {
      const value = event.submitter?.value || "submit";
      if (value === "cancel" || !onSubmit) return; // closes with that value
      event.preventDefault();
      const buttons = form.querySelectorAll("button");
      buttons.forEach((b) => { b.disabled = true; });
      error.hidden = true;
      try {
        const result = await onSubmit(value, form);
        dialog.close(value);
        resolve(result === undefined ? value : result);
        dialog.remove();
      } catch (err) {
        error.textContent = err.message;
        error.hidden = false;
        const field = err.field && form.querySelector(`[name="${CSS.escape(err.field)}"]`);
        field?.focus();
      } finally {
        buttons.forEach((b) => { b.disabled = false; });
      }
    });
    dialog.addEventListener("close", () => {
      if (dialog.isConnected) {
        resolve(dialog.returnValue || "cancel");
        dialog.remove();
      }
    });
    dialog.showModal();
    const first = form.querySelector("input:not([type=hidden]), select, textarea");
    if (first) first.focus();
  });
}

export async function confirmDialog(title, message, { confirm = "Delete", danger = true } = {}) {
  const value = await modal({
    title,
    body: [h("p.dialog-text", message)],
    actions: [{ label: "Cancel", value: "cancel" }, { label: confirm, value: "ok", danger, primary: !danger }],
  });
  return value === "ok";
}

let fieldCount = 0;

/** A labelled form field; help text is linked with aria-describedby (not part of the
 * label, so the field's accessible name stays short). */
export function field(label, input, help = null) {
  fieldCount += 1;
  if (!input.id) input.id = `fld-${fieldCount}`;
  const helpEl = help ? h("small.muted", { id: `${input.id}-help` }, help) : null;
  if (helpEl) input.setAttribute("aria-describedby", helpEl.id);
  return h("div.field", h("label", { for: input.id }, label), input, helpEl);
}

/** An accessible on/off switch (a checkbox with role="switch"). */
export function toggle(checked, label, onchange) {
  const input = h("input", { type: "checkbox", role: "switch", "aria-label": label });
  input.checked = !!checked;
  input.addEventListener("change", () => onchange(input.checked, input));
  return h("label.switch", input, h("span.switch-track", h("span.switch-thumb")));
}

export function copyText(text) {
  if (navigator.clipboard?.writeText) return navigator.clipboard.writeText(text);
  const area = h("textarea", { style: { position: "fixed", opacity: "0" } });
  area.value = text;
  document.body.append(area);
  area.select();
  document.execCommand("copy");
  area.remove();
  return Promise.resolve();
}
