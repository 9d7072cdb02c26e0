// Settings → Audit (administrators): who changed what, when and from where; filters, a
// check of the trail's seals, and a spreadsheet download of what the filters show.

import { get } from "../api.js";
import { $, h } from "../dom.js";
import { formatDateTime } from "../format.js";
import { banner, clearBanner, toast } from "../ui.js";
import { FEATURE_TITLES } from "./feature-names.js";

const WORDS = {
  "auth.login": "Signed in", "auth.login_failed": "Failed to sign in",
  "user.create": "Added a person", "user.update": "Changed a person",
  "token.create": "Created an API token", "token.revoke": "Revoked an API token",
  "provider.create": "Added a provider", "provider.update": "Changed a provider",
  "provider.delete": "Removed a provider", "provider.test": "Tested a provider",
  "provider.key.set": "Set a provider's key", "provider.key.add": "Added a provider key",
  "provider.key.update": "Changed a provider key", "provider.key.retire": "Retired a provider key",
  "provider.key.remove": "Removed a provider's key", "provider.key.failed": "A provider refused a key",
  "provider.models.import": "Imported models", "security.master_key.rotate": "Rotated the master key",
  "model.create": "Added a model", "model.update": "Changed a model", "model.delete": "Removed a model",
  "model.set_default": "Chose the default model", "model.fallbacks": "Changed a model's fallbacks",
  "budget.set": "Set a budget", "budget.create": "Set a budget", "budget.update": "Changed a budget",
  "budget.delete": "Removed a budget",
  "ratelimit.set": "Set rate limits", "ratelimit.remove": "Removed rate limits",
  "flag.set": "Changed a feature", "catalog.seed": "Set up the catalog",
  "audit.export": "Downloaded the audit trail", "audit.prune": "Deleted old audit entries",
};
const PAGE = 100;
let nextBefore = null;

const words = (action) => WORDS[action] || action.replaceAll(".", " ").replaceAll("_", " ");

function params() {
  const form = new FormData($("#audit-filters"));
  const q = new URLSearchParams();
  for (const [key, value] of form.entries()) {
    const text = String(value).trim();
    if (!text) continue;
    // dates are days in the reader's calendar; "until" includes that day
    if (key === "since") q.set(key, new Date(`${text}T00:00:00`).toISOString());
    else if (key === "until") q.set(key, new Date(new Date(`${text}T00:00:00`).getTime() + 86400000).toISOString());
    else q.set(key, text);
  }
  return q;
}

function row(e) {
  const about = e.target_type === "flag" ? FEATURE_TITLES[e.target_id] || e.target_id
    : e.details?.name || e.details?.username || e.target_id;
  return h("tr",
    h("td", formatDateTime(e.created_at)),
    h("td", e.actor),
    h("td", words(e.action)),
    h("td", about || h("span.muted", "—")),
    h("td", e.address || h("span.muted", "This server")));
}

async function load(more = false) {
  const q = params();
  q.set("limit", String(PAGE));
  if (more && nextBefore) q.set("before_id", String(nextBefore));
  $("#export").href = `/api/audit/export.csv?${params()}`;
  try {
    const page = await get(`/api/audit?${q}`);
    nextBefore = page.next_before_id;
    const rows = page.entries.map(row);
    const body = $("#audit-table tbody");
    if (more) body.append(...rows);
    else body.replaceChildren(...(rows.length ? rows : [h("tr", h("td.empty", { colspan: 5 }, "Nothing matches."))]));
    $("#audit-table").setAttribute("aria-busy", "false");
    $("#more").hidden = !nextBefore;
  } catch (err) {
    banner("#banner-slot", err.message, { title: "Could not load the audit trail" });
  }
}

async function verify() {
  clearBanner("#banner-slot");
  try {
    const v = await get("/api/audit/verify");
    if (v.ok) {
      banner("#banner-slot", `All ${v.checked.toLocaleString()} entries are intact.`,
        { kind: "info", title: "The trail checks out" });
    } else {
      const where = v.broken_id ? `entry number ${v.broken_seq}` : "the newest entries";
      banner("#banner-slot", `The trail was tampered with at ${where}: ${v.reason}.`,
        { title: "The trail does not check out" });
    }
  } catch (err) {
    toast(err.message, "error");
  }
}

$("#audit-filters").addEventListener("submit", (event) => { event.preventDefault(); load(); });
$("#more").addEventListener("click", () => load(true));
$("#verify").addEventListener("click", verify);
load();
