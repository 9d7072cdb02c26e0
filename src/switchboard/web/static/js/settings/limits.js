// Settings → Rate limits (administrators): the limits of each role, and of the people and
// API tokens that have limits of their own. Numbers are per minute; "No limit" is 0 on the
// wire and an empty field means "as the role / the server's default".

import { del, get, put } from "../api.js";
import { $, h, icon } from "../dom.js";
import { banner, confirmDialog, field, modal, toast } from "../ui.js";

const ROLES = { user: "Members", admin: "Administrators" };
const NAMES = ["requests_per_minute", "tokens_per_minute", "concurrent"];
const LABELS = { requests_per_minute: "Requests a minute", tokens_per_minute: "Tokens a minute",
  concurrent: "Answers at once" };
const number = new Intl.NumberFormat();
let data = null;
let users = [];

/** One limit in words: a number, "No limit", or what it falls back to. */
function shown(value, fallback = "As their role") {
  if (value === null || value === undefined) return h("span.muted", fallback);
  return value === 0 ? "No limit" : number.format(value);
}

function whom(o) {
  return o.scope === "user" ? o.name : `API token “${o.name}” of ${o.owner || "someone"}`;
}

function roleRow(role) {
  const r = data.roles[role];
  return h("tr", { dataset: { role } },
    h("td", h("strong", ROLES[role]), r.override ? h("span.chip", "Changed here") : null),
    ...NAMES.map((n) => h("td", shown(r.effective[n]))),
    h("td.actions",
      h("button.btn.btn-sm.btn-ghost", { type: "button", onclick: () => editRole(role) }, icon("pencil"), "Change"),
      r.override ? h("button.btn.btn-sm.btn-ghost", { type: "button", onclick: () => resetRole(role) }, "Use the defaults") : null));
}

function overrideRow(o) {
  const fallback = o.scope === "token" ? "As its owner" : "As their role";
  return h("tr", { dataset: { scope: o.scope, id: o.user_id ?? o.token_id } },
    h("td", h("strong", whom(o))),
    ...NAMES.map((n) => h("td", shown(o[n], fallback))),
    h("td.actions",
      h("button.btn.btn-sm.btn-ghost", { type: "button", onclick: () => editOverride(o) }, icon("pencil"), "Change"),
      h("button.btn.btn-sm.btn-ghost", { type: "button", onclick: () => removeOverride(o) }, "Remove")));
}

function render() {
  $("#limits-off").hidden = data.enabled;
  $("#roles-table").setAttribute("aria-busy", "false");
  $("#roles-table tbody").replaceChildren(...Object.keys(ROLES).map(roleRow));
  $("#overrides-table").setAttribute("aria-busy", "false");
  $("#overrides-table tbody").replaceChildren(...(data.overrides.length ? data.overrides.map(overrideRow)
    : [h("tr", h("td.empty", { colspan: 5 }, "Nobody has limits of their own: everyone has their role's."))]));
}

async function load() {
  try {
    data = await get("/api/limits");
    render();
  } catch (err) {
    banner("#banner-slot", err.message, { title: "Could not load the rate limits" });
  }
}

/** Three fields; empty = inherit (null), "0" = no limit. */
function inputs(values, placeholders) {
  return NAMES.map((n) => h("input", { name: n, inputmode: "numeric", autocomplete: "off",
    value: values?.[n] ?? "", placeholder: placeholders[n] }));
}

function read(fields) {
  const body = {};
  for (const input of fields) {
    const text = input.value.trim().replace(/[\s,._']/g, "");
    if (!text) { body[input.name] = null; continue; }
    if (!/^\d+$/.test(text) || Number(text) > 2147483647) {
      const err = new Error(`${LABELS[input.name]}: write a whole number, 0 for no limit, or leave it empty.`);
      err.field = input.name;
      throw err;
    }
    body[input.name] = Number(text);
  }
  return body;
}

async function ask(title, values, placeholders, help, save) {
  const fields = inputs(values, placeholders);
  await modal({
    title,
    body: [...fields.map((f) => field(LABELS[f.name], f)), h("p.muted", help)],
    actions: [{ label: "Cancel", value: "cancel" }, { label: "Save", value: "save", primary: true }],
    onSubmit: async () => {
      await save(read(fields));
      await load();
      toast("Limits saved");
    },
  });
}

function defaults(values, empty) {
  return Object.fromEntries(NAMES.map((n) => [n, values[n] === 0 ? `${empty}: no limit`
    : `${empty}: ${number.format(values[n])}`]));
}

function editRole(role) {
  const r = data.roles[role];
  return ask(`Limits for ${ROLES[role].toLowerCase()}`, r.override, defaults(r.configured, "Default"),
    "Leave a field empty to use the server's default. 0 means no limit.",
    (body) => put(`/api/limits/roles/${role}`, body));
}

function editOverride(o) {
  const base = o.scope === "token" ? null : data.roles[users.find((u) => u.id === o.user_id)?.role || "user"].effective;
  const placeholders = base ? defaults(base, "As their role") : Object.fromEntries(NAMES.map((n) => [n, "As its owner"]));
  const path = o.scope === "user" ? `/api/limits/users/${o.user_id}` : `/api/limits/tokens/${o.token_id}`;
  return ask(`Limits for ${whom(o)}`, o, placeholders, "Leave a field empty to keep the usual limit. 0 means no limit.",
    (body) => put(path, body));
}

async function resetRole(role) {
  if (!await confirmDialog(`Use the defaults for ${ROLES[role].toLowerCase()}?`,
    "The limits set in the server's configuration apply again.", { confirm: "Use the defaults", danger: false })) return;
  try {
    await del(`/api/limits/roles/${role}`);
    await load();
    toast("Defaults restored");
  } catch (err) {
    toast(err.message, "error");
  }
}

async function removeOverride(o) {
  if (!await confirmDialog(`Remove the limits of ${whom(o)}?`,
    o.scope === "token" ? "Only its owner's limits apply again." : "Their role's limits apply again.",
    { confirm: "Remove" })) return;
  try {
    await del(o.scope === "user" ? `/api/limits/users/${o.user_id}` : `/api/limits/tokens/${o.token_id}`);
    await load();
    toast("Limits removed");
  } catch (err) {
    toast(err.message, "error");
  }
}

async function add() {
  const taken = new Set(data.overrides.filter((o) => o.scope === "user").map((o) => o.user_id));
  const who = h("select", { name: "who" }, ...users.filter((u) => !taken.has(u.id))
    .map((u) => h("option", { value: String(u.id) }, u.display_name || u.username)));
  if (!who.options.length) {
    toast("Everyone already has limits of their own: change them in the list.");
    return;
  }
  const fields = inputs(null, defaults(data.roles.user.effective, "As their role"));
  await modal({
    title: "Limit a person",
    body: [field("Person", who), ...fields.map((f) => field(LABELS[f.name], f)),
      h("p.muted", "Leave a field empty to keep their role's limit. 0 means no limit.")],
    actions: [{ label: "Cancel", value: "cancel" }, { label: "Save", value: "save", primary: true }],
    onSubmit: async () => {
      await put(`/api/limits/users/${who.value}`, read(fields));
      await load();
      toast("Limits saved");
    },
  });
}

$("#add-limit").addEventListener("click", add);
Promise.all([load(), get("/api/users").then((list) => { users = list; }).catch(() => {})]);
