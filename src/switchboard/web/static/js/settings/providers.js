// Settings → Providers: a card per provider (logo, kind, base URL, masked key and its
// expiry, status light, Test connection, enable toggle, edit, delete) and the "Add
// provider" form.
//
// Two separate states (decision 0035): "Configure API key" is a provider that has no key
// yet (it works the moment one is saved: no enable step); "Disabled" is only ever an
// admin's switch, and the switch's label says which state it is in. A provider with a
// new key gets its models imported at once (the server answers with `discovery`).
//
// Keys (decision 0066): a provider can hold several keys, all serving, shared by weight.
// The card lists them (name, last four characters, expiry, whether it is switched on,
// requests in progress on this server, state in words) with "Add key", a switch per key
// and "Retire". The list is live (GET /api/providers/{id}/keys), loaded after the cards
// like the breaker states. Saving a key in the Edit form replaces every key with it.
//
// A key's expiry date is set together with the key (POST /api/providers/{id}/key takes
// {api_key, expires_at}): the API has no call that changes the date of a stored key, so
// the date field is enabled once a key is pasted. The date is a local calendar day; the
// key counts as expired from the start (local midnight) of that day.

import { ApiError, del, get, patch, post, put } from "../api.js";
import { providerBadge } from "../badges.js";
import { $, h, icon } from "../dom.js";
import { connectionCheck } from "../errors.js";
import { formatDate, relativeTime } from "../format.js";
import { banner, confirmDialog, field, modal, toast, toggle } from "../ui.js";

const grid = $("#providers");
let providers = [];
let kinds = null;
// Settles once the first provider list has arrived (or failed): "Add provider" suggests
// a name no provider has yet, so a click that beats the list waits for it.
let listArrived;
const listed = new Promise((resolve) => { listArrived = resolve; });

const EXPIRY_WARNING_DAYS = 14;

function statusOf(p) {
  const s = p.status || {};
  const expires = p.key?.expires_at ? new Date(p.key.expires_at) : null;
  const days = expires ? Math.ceil((expires - Date.now()) / 86400000) : null;
  if (days !== null && days <= 0) return { light: "error", label: "API key expired", detail: "Set a new key." };
  if (!p.configured) return { light: "warn", label: "Needs an API key", detail: "Add a key to use this provider.", needsKey: true };
  if (s.state === "error") {
    const said = connectionCheck({ message: s.error || "" });
    return { light: "error", label: "Error", detail: said.text, vendor: said.detail };
  }
  if (days !== null && days <= EXPIRY_WARNING_DAYS) return { light: "warn", label: `Key expires in ${days} day${days === 1 ? "" : "s"}` };
  if (s.state === "ok") return { light: "ok", label: `Connected${s.latency_ms !== null && s.latency_ms !== undefined ? ` · ${s.latency_ms} ms` : ""}` };
  return { light: "warn", label: "Not tested yet" };
}

// The circuit breakers of this server process (GET /api/providers/{id}/status): the
// provider's own and one per key. Said in people's words: a "paused" provider gets no
// requests for a while (they go to the fallback models) and is then tried with one.
function trafficOf(p) {
  const breakers = p.breakers || [];
  const worst = breakers.find((b) => b.state === "open") || breakers.find((b) => b.state === "half_open");
  if (!worst) return breakers.length ? { light: "ok", label: "Requests flowing normally" } : null;
  const named = worst.key_label || (p.keys || []).find((k) => String(k.id) === String(worst.key_id))?.label;
  const whose = worst.key_id ? `Its key ${named ? `“${named}”` : "one of its keys"}` : "This provider";
  if (worst.state === "half_open") {
    return { light: "warn", label: "Trying again", detail: `${whose} failed repeatedly; one request is being sent to see whether it works again.` };
  }
  const wait = worst.retry_in_seconds ? ` It is tried again in ${Math.ceil(worst.retry_in_seconds)} s.` : " It is tried again with the next request.";
  return { light: "error", label: "Paused after repeated failures",
    detail: `${whose} failed repeatedly, so requests go to fallback models for now.${wait}` };
}

// What each key state means to the person reading the card.
const KEY_STATES = {
  active: { light: "ok", label: "In use" },
  disabled: { light: "warn", label: "Switched off" },
  failed: { light: "error", label: "Refused by the provider", detail: "The provider said this key is not valid, so it is no longer used. Switch it back on once it works again." },
  expired: { light: "error", label: "Expired" },
};

function keyRow(p, k) {
  const state = KEY_STATES[k.state] || KEY_STATES.active;
  const expired = k.expires_at && new Date(k.expires_at) <= Date.now();
  const tail = k.masked.replace(/^\u2026/, "");
  return h("li.key-row", { dataset: { label: k.label, state: k.state } },
    h("div.key-main",
      h(`span.light.light-${state.light}`, { "aria-hidden": "true" }),
      h("span.key-name", { title: k.label }, k.label),
      h("span.key-mask", { "aria-label": tail ? `key ending in ${tail}` : "key" }, k.masked),
      h("span.spacer"),
      toggle(k.enabled && !k.failed_at, `Use key ${k.label}`, (on, input) => setKeyEnabled(p, k, on, input)),
      h("button.icon-btn", { type: "button", title: "Retire this key", "aria-label": `Retire key ${k.label}`,
        onclick: () => retireKey(p, k) }, icon("trash"))),
    h("small.key-info.muted", { title: state.detail || "" },
      h("span.key-state", state.label),
      k.expires_at ? ` · ${expired ? "expired" : "expires"} ${formatDate(k.expires_at)}` : null,
      k.in_flight ? ` · ${k.in_flight} request${k.in_flight === 1 ? "" : "s"} in progress` : null,
      k.weight !== 1 ? ` · share ${k.weight}` : null));
}

function keysSection(p) {
  if (!p.keys) return null;
  return h("section.pcard-keys", { "aria-label": `Keys of ${p.name}` },
    h("div.pcard-keys-head", h("h4", p.keys.length === 1 ? "1 key" : `${p.keys.length} keys`),
      h("button.btn.btn-sm.btn-ghost.add-key", { type: "button", onclick: () => addKey(p) }, icon("plus"), "Add key")),
    p.keys.length ? h("ul.key-list", p.keys.map((k) => keyRow(p, k)))
      : h("p.muted.key-empty", p.configured ? "No stored key: the key from the server's environment is used." : "No key yet."));
}

function card(p) {
  const status = statusOf(p);
  const traffic = trafficOf(p);
  const checked = p.status?.checked_at ? `checked ${relativeTime(p.status.checked_at)}` : null;
  const testButton = p.configured
    ? h("button.btn.btn-sm", { type: "button", onclick: () => test(p, testButton) }, icon("zap"), "Test connection")
    : h("button.btn.btn-sm.btn-primary.configure-key", { type: "button", onclick: () => edit(p, { focusKey: true }) }, icon("key"), "Configure API key");
  const keyText = p.key ? p.key.masked : (p.configured ? "Not needed" : "Not set");
  const unlisted = p.allow_unlisted_models !== false;
  const el = h(`article.pcard${p.enabled ? "" : ".disabled"}`, {
    id: `provider-${p.id}`, "aria-label": `Provider ${p.name}`, dataset: { name: p.name },
  },
  h("div.pcard-head", providerBadge(p, "lg"),
    h("div.pcard-title", h("h3", p.name), h("p", p.display_name || p.kind)),
    p.enabled ? null : h("span.chip", "Disabled"),
    p.enabled && !p.configured ? h("span.chip.chip-warn", "Configure API key") : null),
  h("dl",
    h("dt", "Status"),
    h("dd.status-line", h(`span.light.light-${status.light}`, { "aria-hidden": "true" }),
      h("span.status-label", status.label), checked ? h("small.muted", `· ${checked}`) : null),
    status.detail && status.light === "error" ? [h("dt", h("span.sr-only", "Last error")), h("dd.status-error", status.detail,
      status.vendor ? h("small.status-vendor.muted", { title: status.vendor }, `Details: ${status.vendor}`) : null)] : null,
    traffic ? [h("dt", "Requests"), h("dd.traffic-line", h(`span.light.light-${traffic.light}`, { "aria-hidden": "true" }),
      h("span.traffic-label", traffic.label), traffic.detail ? h("small.traffic-detail.muted", ` ${traffic.detail}`) : null)] : null,
    h("dt", "Kind"), h("dd", h("code", p.kind)),
    h("dt", "Base URL"), h("dd", { title: p.base_url || "" }, p.base_url ? h("code", p.base_url) : h("span.muted", "Default")),
    h("dt", "API key"), h("dd.key-line", h("span.key-mask", { "aria-label": p.key ? `key ending in ${p.key.last4 || ""}` : keyText }, keyText),
      p.key?.expires_at ? h("small.key-expiry.muted", { title: new Date(p.key.expires_at).toLocaleString() },
        `· ${new Date(p.key.expires_at) <= Date.now() ? "expired" : "expires"} ${formatDate(p.key.expires_at)}`) : null),
    h("dt", "Models"), h("dd", h("a", { href: `/settings/models?provider=${p.id}` }, `${p.model_count ?? 0} model${p.model_count === 1 ? "" : "s"}`)),
    h("dt", "Other models"), h("dd.unlisted-line", { title: unlisted
      ? "Model names that are not in this provider's list are passed on to it (new models work before anyone adds them)."
      : "Only the models in this provider's list can be used." },
    unlisted ? "Allowed (names not in the list are passed on)" : "Not allowed (only listed models)")),
  keysSection(p),
  h("div.pcard-foot",
    testButton,
    // The switch keeps one accessible name (its state is its checked state); the words
    // beside it say which state it is in.
    h("label.enable-label", toggle(p.enabled, `Enable ${p.name}`, (on, input) => setEnabled(p, on, input)),
      h("span.enable-text", p.enabled ? "Enabled" : "Disabled")),
    h("span.spacer"),
    h("button.btn.btn-sm.import-models", { type: "button", title: `Fetch the model list of ${p.name}`, "aria-label": `Import models of ${p.name}`, onclick: () => importModels(p) }, icon("download"), "Import models"),
    h("button.icon-btn", { type: "button", title: "Edit", "aria-label": `Edit ${p.name}`, onclick: () => edit(p) }, icon("pencil")),
    h("button.icon-btn", { type: "button", title: "Delete", "aria-label": `Delete ${p.name}`, onclick: () => remove(p) }, icon("trash"))));
  return el;
}

function render() {
  grid.setAttribute("aria-busy", "false");
  if (!providers.length) {
    grid.replaceChildren(h("div.empty-state", "No providers yet. Add one to start chatting with real models."));
    return;
  }
  grid.replaceChildren(...providers.map(card));
}

async function load() {
  try {
    providers = await get("/api/config/providers");
    render();
  } catch (err) {
    grid.replaceChildren();
    banner("#banner-slot", err.message, { title: "Could not load providers" });
    return;
  } finally {
    listArrived();
  }
  await loadTraffic();
}

// Breaker states are live (per server process), so they are not part of the cached
// provider list: each card asks for its own, after the list is shown.
async function loadTraffic() {
  const states = await Promise.all(providers.map((p) => Promise.all([
    get(`/api/providers/${p.id}/status`).then((s) => s.breakers || [], () => null),
    get(`/api/providers/${p.id}/keys`).then((k) => k.keys, () => null),
  ]).then(([breakers, keys]) => [p.id, breakers, keys])));
  let changed = false;
  for (const [id, breakers, keys] of states) {
    const p = providers.find((x) => x.id === id);
    if (p && breakers) { p.breakers = breakers; changed = true; }
    if (p && keys) { p.keys = keys; changed = true; }
  }
  if (changed) render();
}

/** The provider (its summary: configured, key) and its keys again, after a key change. */
async function reloadKeys(p) {
  try {
    const [summary, keys] = await Promise.all([get(`/api/config/providers/${p.id}`),
      get(`/api/providers/${p.id}/keys`)]);
    replace({ ...summary, keys: keys.keys });
  } catch (err) {
    toast(err.message, "error");
  }
}

async function setKeyEnabled(p, k, on, input) {
  try {
    await patch(`/api/providers/${p.id}/keys/${k.id}`, { enabled: on });
    toast(on ? `Key “${k.label}” of ${p.name} is in use again` : `Key “${k.label}” of ${p.name} switched off`);
  } catch (err) {
    input.checked = !on;
    toast(err.message, "error");
    return;
  }
  await reloadKeys(p);
}

async function retireKey(p, k) {
  const others = (p.keys || []).filter((x) => x.id !== k.id && x.state === "active").length;
  const warning = others ? `Requests already using it finish normally; new ones use the other key${others === 1 ? "" : "s"}.`
    : `It is the last key in use: ${p.name} cannot answer until a new key is added.`;
  if (!await confirmDialog(`Retire key “${k.label}”?`, `The key ending in ${k.masked.replace(/^\u2026/, "")} is removed from ${p.name}. ${warning}`, { confirm: "Retire key" })) return;
  try {
    await del(`/api/providers/${p.id}/keys/${k.id}`);
    toast(`Key “${k.label}” of ${p.name} retired`);
  } catch (err) {
    toast(err.message, "error");
    return;
  }
  await reloadKeys(p);
}

async function addKey(p) {
  const label = input("label", { placeholder: "e.g. 2027 key", maxlength: 100 });
  const apiKey = input("api_key", { type: "password", autocomplete: "off", placeholder: "Paste the API key", required: true });
  const expires = expiryInput(apiKey);
  const weight = input("weight", { type: "number", min: 1, max: 1000, value: 1 });
  await modal({
    title: `Add a key to ${p.name}`,
    wide: true,
    body: [h("p.muted", "The new key is used beside the keys already here. To replace a key without interrupting anyone, add the new one, then retire the old one."),
      h("div.form-grid",
        field("Name", label, "Optional. Helps tell the keys apart."), field("API key", apiKey, "Stored encrypted; only the last four characters are ever shown."),
        field("Key expires on", expires, EXPIRY_HELP),
        field("Share", weight, "How many requests it takes compared with the other keys (2 takes twice as many as 1)."))],
    actions: [{ label: "Cancel", value: "cancel" }, { label: "Add key", value: "add", primary: true }],
    onSubmit: async () => {
      const key = apiKey.value.trim();
      if (!key) throw new ApiError(422, "Paste the API key to add.", "validation_failed", "api_key");
      const body = { api_key: key, weight: Number(weight.value) || 1 };
      if (label.value.trim()) body.label = label.value.trim();
      const expiresAt = expiryValue(expires);
      if (expiresAt) body.expires_at = expiresAt;
      const added = await post(`/api/providers/${p.id}/keys`, body);
      toast(`Key “${added.label}” added to ${p.name}`);
    },
  });
  await reloadKeys(p);
}

function replace(updated) {
  const at = providers.findIndex((p) => p.id === updated.id);
  if (at >= 0) providers[at] = { ...providers[at], ...updated };
  else providers.push(updated);
  render();
}

async function test(p, button) {
  button.disabled = true;
  button.replaceChildren(icon("refresh"), "Testing…");
  try {
    const result = await post(`/api/providers/${p.id}/test`);
    replace({ ...p, status: result.status && typeof result.status === "object" ? result.status : {
      state: result.ok ? "ok" : "error", latency_ms: result.latency_ms, error: result.ok ? null : result.message,
      checked_at: new Date().toISOString() } });
    if (result.ok) toast(`${p.name}: ${result.message || "connection works"}`);
    else toast(`${p.name}: ${connectionCheck({ code: result.code, message: result.message }).text}`, "error");
  } catch (err) {
    toast(err.message, "error");
    await load();
  }
}

async function setEnabled(p, on, input) {
  try {
    replace(await put(`/api/config/providers/${p.id}`, { enabled: on }));
    const ready = on && p.configured;
    toast(!on ? `${p.name} disabled: its models left the selector`
      : ready ? `${p.name} enabled: its models are in the selector` : `${p.name} enabled: add its API key to use its models`);
  } catch (err) {
    input.checked = !on;
    toast(err.message, "error");
  }
}

async function importModels(p) {
  try {
    const result = await post(`/api/config/providers/${p.id}/import-models`);
    toast(`${p.name}: ${result.imported} new, ${result.updated} updated model${result.updated === 1 ? "" : "s"}`);
    await load();
  } catch (err) {
    banner("#banner-slot", err.message, { title: `Could not import the models of ${p.name}` });
  }
}

async function remove(p) {
  if (!await confirmDialog(`Delete ${p.name}?`, `The provider ${p.name}, its key and its models will be removed.`)) return;
  try {
    await del(`/api/config/providers/${p.id}`);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 409) { toast(err.message, "error"); return; }
    const cascade = await confirmDialog(`${p.name} is in use`, `${err.message} Delete it anyway, with everything that depends on it?`, { confirm: "Delete everything" });
    if (!cascade) return;
    try { await del(`/api/config/providers/${p.id}?cascade=true`); } catch (e) { toast(e.message, "error"); return; }
  }
  providers = providers.filter((x) => x.id !== p.id);
  render();
  toast(`${p.name} deleted`);
}

/** "YYYY-MM-DD" of a Date in the browser's time zone (what <input type=date> holds). */
function localDay(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The "Key expires on" date field: enabled only while a key is being pasted (the date
 * is stored with the key), never a past day. */
function expiryInput(keyInput, current = null) {
  const tomorrow = new Date();
  tomorrow.setDate(tomorrow.getDate() + 1);
  const future = current && new Date(current) > Date.now();
  const el = input("expires_at", { type: "date", min: localDay(tomorrow),
    value: future ? localDay(new Date(current)) : undefined });
  const sync = () => { el.disabled = !keyInput.value.trim(); };
  keyInput.addEventListener("input", sync);
  sync();
  return el;
}

/** The field's date as an ISO time (local midnight), null when empty; refused when not
 * in the future, naming the field (the server checks it again). */
function expiryValue(el) {
  if (!el.value) return null;
  const when = new Date(`${el.value}T00:00:00`);
  if (Number.isNaN(when.getTime())) {
    throw new ApiError(422, "The expiry date is not a valid date.", "validation_failed", "expires_at");
  }
  if (when <= Date.now()) {
    throw new ApiError(422, "The expiry date must be in the future: pick a later day, or leave it empty if the key does not expire.", "validation_failed", "expires_at");
  }
  return when.toISOString();
}

const EXPIRY_HELP = "Optional. Shown as a warning on this card two weeks before; leave empty if the key does not expire.";

function input(name, attrs = {}) {
  return h("input", { name, id: `f-${name}`, ...attrs });
}

async function edit(p, { focusKey = false } = {}) {
  const name = input("name", { value: p.name, required: true });
  const baseUrl = input("base_url", { value: p.base_url || "", placeholder: "Default for this kind", type: "url" });
  const imageUrl = input("image_url", { value: p.image_url || "", placeholder: "https://… (optional)", type: "url" });
  const apiKey = input("api_key", { type: "password", autocomplete: "off",
    placeholder: p.key ? `${p.key.masked} — leave empty to keep` : "Paste the API key" });
  const expires = expiryInput(apiKey, p.key?.expires_at);
  const unlisted = h("input", { type: "checkbox", name: "allow_unlisted_models", id: "f-allow_unlisted_models" });
  unlisted.checked = p.allow_unlisted_models !== false;
  const removeKey = p.key ? h("button.btn.btn-sm.btn-ghost", { type: "button", onclick: async () => {
    try {
      replace(await del(`/api/providers/${p.id}/key`));
      toast("Key removed");
      removeKey.remove();
      apiKey.placeholder = "Paste the API key";
      expires.value = "";
    } catch (err) { toast(err.message, "error"); }
  } }, icon("trash"), "Remove key") : null;
  const pending = modal({
    title: `Edit ${p.name}`,
    wide: true,
    body: [h("div.form-grid",
      field("Name", name), field("Logo URL", imageUrl),
      h("div.span-2", field("Base URL", baseUrl)),
      field("API key", apiKey, (p.keys || []).length > 1
        ? `Saving a key here replaces all ${p.keys.length} keys with it; use "Add key" on the card to add one beside them.`
        : "Stored encrypted; only the last four characters are ever shown."),
      field("Key expires on", expires, p.key ? "Set with a new key: paste the key to change or clear its date." : EXPIRY_HELP),
      h("div.span-2.check-field", unlisted, h("label", { for: unlisted.id }, "Allow models not in the catalog"),
        h("small.muted", "When on, a model name that is not in this provider's list is passed on to it, so new models work at once. Turn off to allow only the listed models.")),
      removeKey ? h("div.span-2", removeKey) : null)],
    actions: [{ label: "Cancel", value: "cancel" }, { label: "Save", value: "save", primary: true }],
    onSubmit: async () => {
      const body = {};
      if (name.value.trim() !== p.name) body.name = name.value.trim();
      if (baseUrl.value.trim() !== (p.base_url || "")) body.base_url = baseUrl.value.trim() || null;
      if (imageUrl.value.trim() !== (p.image_url || "")) body.image_url = imageUrl.value.trim() || null;
      if (unlisted.checked !== (p.allow_unlisted_models !== false)) body.allow_unlisted_models = unlisted.checked;
      const key = apiKey.value.trim();
      const expiresAt = key ? expiryValue(expires) : undefined;
      if (Object.keys(body).length || !key) replace(await put(`/api/config/providers/${p.id}`, body));
      if (key) {
        const saved = await post(`/api/providers/${p.id}/key`, { api_key: key, expires_at: expiresAt });
        replace(saved);
        reportDiscovery(saved);
      }
      toast(`${body.name || p.name} saved`);
    },
  });
  if (focusKey) apiKey.focus();
  await pending;
}

/** `base`, or `base-2`, `base-3`… : the first name no provider has yet (names are unique
 * regardless of case), so the "Add provider" form never suggests one that would fail. */
function freeName(base) {
  if (!base) return base;
  const taken = new Set(providers.map((p) => p.name.toLowerCase()));
  let name = base;
  for (let n = 2; taken.has(name.toLowerCase()); n += 1) name = `${base}-${n}`;
  return name;
}

/** What the model import that follows a new key found (`discovery` in the answer). */
function reportDiscovery(answer) {
  const found = answer?.discovery;
  if (!found) return;
  if (found.ok) {
    toast(found.added ? `${answer.name}: ${found.added} model${found.added === 1 ? "" : "s"} found` : `${answer.name}: no new models found`);
  } else {
    banner("#banner-slot", `${answer.name} was saved with its key, but its model list could not be fetched: ${found.message}. Use "Import models" on its card to try again.`,
      { title: `Could not fetch the models of ${answer.name}` });
  }
}

async function add() {
  await listed;
  if (!kinds) {
    try { kinds = await get("/api/kinds"); } catch (err) { toast(err.message, "error"); return; }
  }
  const kind = h("select", { name: "kind", id: "f-kind", required: true },
    h("optgroup", { label: "Providers" }, kinds.kinds.map((k) => h("option", { value: `kind:${k.kind}` }, k.display_name))),
    kinds.presets.length ? h("optgroup", { label: "OpenAI-compatible presets" },
      kinds.presets.map((pr) => h("option", { value: `preset:${pr.name}` }, pr.display_name))) : null);
  const name = input("name", { required: true, placeholder: "e.g. openai-work" });
  const baseUrl = input("base_url", { type: "url" });
  const apiKey = input("api_key", { type: "password", autocomplete: "off", placeholder: "Paste the API key" });
  const imageUrl = input("image_url", { type: "url", placeholder: "https://… (optional)" });
  const expires = expiryInput(apiKey);
  let autoName = "";
  const choice = () => {
    const [type, id] = kind.value.split(/:(.*)/s);
    return type === "preset"
      ? { preset: kinds.presets.find((p) => p.name === id) }
      : { kind: kinds.kinds.find((k) => k.kind === id) };
  };
  const sync = () => {
    const { preset, kind: k } = choice();
    const info = preset || k;
    baseUrl.placeholder = (preset ? preset.base_url : k?.default_base_url) || "https://…";
    const suggested = freeName((preset ? preset.name : k?.kind || "").replace(/_/g, "-"));
    if (!name.value || name.value === autoName) { name.value = suggested; autoName = suggested; }
    const needsKey = preset ? true : k?.requires_api_key;
    apiKey.placeholder = needsKey === false ? "Optional for this kind" : "Paste the API key";
    const keyHelp = document.getElementById(`${apiKey.id}-help`);
    if (keyHelp) keyHelp.textContent = info?.api_key_env ? `Falls back to $${info.api_key_env} when empty.` : "Stored encrypted.";
  };
  const keyField = field("API key", apiKey, " ");
  kind.addEventListener("change", sync);
  const compat = kinds.kinds.find((k) => k.kind === "openai");
  if (compat) kind.value = "kind:openai";
  sync();
  await modal({
    title: "Add provider",
    wide: true,
    body: [h("div.form-grid",
      field("Kind", kind), field("Name", name, "Unique; used in model references like name:model."),
      h("div.span-2", field("Base URL", baseUrl, "Leave empty for the kind's default.")),
      keyField, field("Key expires on", expires, EXPIRY_HELP),
      h("div.span-2", field("Logo URL", imageUrl)))],
    actions: [{ label: "Cancel", value: "cancel" }, { label: "Add provider", value: "add", primary: true }],
    onSubmit: async () => {
      const { preset, kind: k } = choice();
      const body = { name: name.value.trim(), kind: preset ? preset.kind : k.kind };
      if (!body.name) throw new ApiError(422, "Give the provider a name.", "validation_failed", "name");
      if (preset) body.preset = preset.name;
      if (baseUrl.value.trim()) body.base_url = baseUrl.value.trim();
      if (apiKey.value.trim()) body.api_key = apiKey.value.trim();
      if (imageUrl.value.trim()) body.image_url = imageUrl.value.trim();
      const expiresAt = body.api_key ? expiryValue(expires) : null;
      let created = await post("/api/config/providers", body);
      if (expiresAt) {
        // The create call takes no expiry: store the key again with its date.
        try {
          created = await post(`/api/providers/${created.id}/key`, { api_key: body.api_key, expires_at: expiresAt });
        } catch (err) {
          banner("#banner-slot", `${err.message} Edit the provider to set the date again.`, { title: `${created.name} was added without its key's expiry date` });
        }
      }
      providers.push(created);
      render();
      toast(`${created.name} added`);
      reportDiscovery(created);
      document.getElementById(`provider-${created.id}`)?.scrollIntoView({ block: "center", behavior: "smooth" });
    },
  });
}

$("#add-provider").addEventListener("click", add);

async function start() {
  grid.replaceChildren(h("div.skeleton"), h("div.skeleton"), h("div.skeleton"));
  await load();
  const m = /^#provider-(\d+)$/.exec(location.hash);
  const target = m && providers.find((p) => p.id === Number(m[1]));
  if (target) {
    const el = document.getElementById(`provider-${target.id}`);
    el.classList.add("highlight");
    el.scrollIntoView({ block: "center" });
    if (!target.configured) edit(target, { focusKey: true });
  }
}

start();
