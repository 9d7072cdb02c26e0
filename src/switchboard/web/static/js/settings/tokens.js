// Settings → API tokens: the user's own tokens; a new token is shown once, with a copy
// button; revoke.

import { del, get, post } from "../api.js";
import { $, h, icon } from "../dom.js";
import { formatDate, relativeTime } from "../format.js";
import { banner, confirmDialog, copyText, field, modal, toast } from "../ui.js";

const tbody = $("#tokens-table tbody");
let tokens = [];

function status(t) {
  if (t.revoked_at) return h("span.chip", "Revoked");
  if (!t.active) return h("span.chip.chip-warn", "Expired");
  return h("span.chip.chip-ok", "Active");
}

function render() {
  $("#tokens-table").setAttribute("aria-busy", "false");
  if (!tokens.length) {
    tbody.replaceChildren(h("tr", h("td.empty", { colspan: 7 }, "No tokens yet.")));
    return;
  }
  tbody.replaceChildren(...tokens.map((t) => h("tr", { dataset: { id: t.id } },
    h("td", h("strong", t.name)),
    h("td", h("code", t.hint || "sb-…")),
    h("td", formatDate(t.created_at)),
    h("td", t.last_used_at ? relativeTime(t.last_used_at) : h("span.muted", "never")),
    h("td", t.expires_at ? formatDate(t.expires_at) : h("span.muted", "never")),
    h("td", status(t)),
    h("td.actions", t.active && !t.revoked_at ? h("button.btn.btn-sm.btn-ghost", { type: "button", onclick: () => revoke(t) }, "Revoke") : null))));
}

async function load() {
  try {
    tokens = await get("/api/tokens");
    render();
  } catch (err) {
    banner("#banner-slot", err.message, { title: "Could not load tokens" });
  }
}

function reveal(token) {
  const box = $("#new-token");
  box.hidden = false;
  box.replaceChildren(h("div.token-reveal", { role: "status" },
    h("strong", "Copy your new token now: it will not be shown again."),
    h("div.row", h("code", token),
      h("button.btn", { type: "button", onclick: async () => { await copyText(token); toast("Token copied"); } }, icon("copy"), "Copy"))));
}

async function revoke(t) {
  if (!await confirmDialog(`Revoke ${t.name}?`, "Scripts using this token stop working at once.", { confirm: "Revoke" })) return;
  try {
    await del(`/api/tokens/${t.id}`);
    await load();
    toast("Token revoked");
  } catch (err) {
    toast(err.message, "error");
  }
}

async function add() {
  const name = h("input", { name: "name", required: true, placeholder: "e.g. laptop script" });
  const days = h("select", { name: "expires_in_days" },
    h("option", { value: "30" }, "30 days"), h("option", { value: "90" }, "90 days"),
    h("option", { value: "365" }, "1 year"), h("option", { value: "" }, "Never"));
  days.value = "90";
  await modal({
    title: "New API token",
    body: [field("Name", name), field("Expires", days)],
    actions: [{ label: "Cancel", value: "cancel" }, { label: "Create token", value: "add", primary: true }],
    onSubmit: async () => {
      const body = { name: name.value.trim() };
      if (days.value) body.expires_in_days = Number(days.value);
      const created = await post("/api/tokens", body);
      reveal(created.token);
      await load();
    },
  });
}

$("#add-token").addEventListener("click", add);
load();
