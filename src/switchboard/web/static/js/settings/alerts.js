// Settings → Alerts (admins): the alerts open now, what is watched (each rule on or off,
// its threshold), where alerts are sent (e-mail, a webhook, a Slack-compatible chat
// channel; each with a test message), and what was resolved or could not be sent.
// Data: /api/alerts, /api/alerts/rules, /api/alerts/channels. The server checks the
// rules every half minute; "Check now" runs a round at once.

import { del, get, patch, post, put } from "../api.js";
import { $, $$, h, icon } from "../dom.js";
import { formatInt, relativeTime } from "../format.js";
import { banner, clearBanner, confirmDialog, field, modal, toast, toggle } from "../ui.js";

const KIND_WORDS = { email: "E-mail", webhook: "Webhook (JSON)", slack: "Slack-compatible chat" };
let rules = [];
let channels = [];

const empty = (cols, text) => h("tbody", h("tr", h("td.empty", { colspan: cols }, text)));
const head = (...cols) => h("thead", h("tr", cols.map((c) => h("th", { scope: "col" }, c))));

/** A rule's threshold as a person reads it, and how to edit it. */
const UNITS = {
  share: { label: "Percent", show: (v) => `${Math.round(v * 100)}%`, toInput: (v) => Math.round(v * 100), fromInput: (v) => v / 100 },
  ms: { label: "Seconds", show: (v) => `${(v / 1000).toFixed(1)} s`, toInput: (v) => v / 1000, fromInput: (v) => v * 1000 },
  days: { label: "Days", show: (v) => (v === 1 ? "1 day" : `${v} days`), toInput: (v) => v, fromInput: (v) => v },
  rows: { label: "Waiting records", show: (v) => `${formatInt(v)} waiting records`, toInput: (v) => v, fromInput: (v) => v },
  count: { label: "Times", show: (v) => (v === 1 ? "once" : `${v} times`), toInput: (v) => v, fromInput: (v) => v },
};

function when(rule) {
  const unit = UNITS[rule.unit] || UNITS.count;
  const parts = [rule.unit === "days" ? `${unit.show(rule.threshold)} before it expires`
    : rule.unit === "count" ? (rule.threshold === 1 ? "each time" : `after ${unit.show(rule.threshold)}`)
      : `at ${unit.show(rule.threshold)}`];
  if (rule.window_seconds) parts.push(`within ${Math.round(rule.window_seconds / 60)} minutes`);
  if (rule.min_requests) parts.push(`once there are ${formatInt(rule.min_requests)} requests`);
  return parts.join(", ");
}

function renderOpen(list) {
  $("#alerts-open").replaceChildren(head("Alert", "Since", "What happened"),
    list.length ? h("tbody", list.map((a) => h("tr",
      h("td", h("span.chip.chip-danger", a.title)), h("td", relativeTime(a.opened_at)), h("td", a.message))))
      : empty(3, "Nothing needs attention right now"));
}

function renderRecent(list) {
  $("#alerts-recent").replaceChildren(head("Alert", "Resolved", "What happened"),
    list.length ? h("tbody", list.map((a) => h("tr",
      h("td", h("span.chip.chip-ok", a.title)), h("td", relativeTime(a.resolved_at)), h("td", a.message))))
      : empty(3, "No alert was resolved yet"));
}

function renderFailed(list) {
  $("#alerts-failed").replaceChildren(head("Channel", "Message", "Tries", "Problem"),
    list.length ? h("tbody", list.map((d) => h("tr",
      h("td", h("strong", d.channel)), h("td", d.event === "opened" ? "New alert" : "Alert resolved"),
      h("td", d.status === "failed" ? `${d.attempts}, gave up` : `${d.attempts}, trying again ${relativeTime(d.next_at)}`),
      h("td", d.error))))
      : empty(4, "Every message was delivered"));
}

function renderRules() {
  $("#alerts-rules").replaceChildren(head("Rule", "On", "When", ""),
    h("tbody", rules.map((r) => h("tr",
      h("td", h("strong", r.title)),
      h("td", toggle(r.enabled, `Watch: ${r.title}`, (on, input) => saveRule(r, { enabled: on }, input))),
      h("td", when(r)),
      h("td.actions", h("button.btn.btn-sm.btn-ghost", { type: "button", onclick: () => editRule(r) }, icon("pencil"), "Change"))))));
}

function renderChannels() {
  $("#alerts-channels").replaceChildren(head("Channel", "Kind", "On", "Sends to", ""),
    channels.length ? h("tbody", channels.map((c) => h("tr",
      h("td", h("strong", c.name)), h("td", KIND_WORDS[c.kind] || c.kind),
      h("td", toggle(c.enabled, `Send alerts to ${c.name}`, (on, input) => saveChannel(c, { enabled: on }, input))),
      h("td", c.kind === "email" ? c.settings.to.join(", ") : h("span.muted", `address ending ${c.secret_hint || "—"}`)),
      h("td.actions",
        h("button.btn.btn-sm.btn-ghost", { type: "button", onclick: () => sendTest(c) }, "Send a test"),
        h("button.btn.btn-sm.btn-ghost", { type: "button", onclick: () => removeChannel(c) }, "Remove")))))
      : empty(5, "Alerts show on this page and the dashboard only. Add a channel to get them by e-mail or in chat."));
}

async function load() {
  try {
    const [found, r, c] = await Promise.all([get("/api/alerts"), get("/api/alerts/rules"), get("/api/alerts/channels")]);
    rules = r.rules;
    channels = c.channels;
    renderOpen(found.open);
    renderRecent(found.resolved);
    renderFailed(found.failed_deliveries);
    renderRules();
    renderChannels();
    clearBanner("#banner-slot");
  } catch (err) {
    banner("#banner-slot", err.message, { title: "Could not load alerts" });
  } finally {
    for (const el of $$("[aria-busy]")) el.setAttribute("aria-busy", "false");
  }
}

async function saveRule(rule, change, input) {
  try {
    await put(`/api/alerts/rules/${rule.kind}`, change);
    toast(change.enabled === false ? `No longer watching: ${rule.title}` : "Saved");
    await load();
  } catch (err) {
    if (input) input.checked = !input.checked;
    toast(err.message, "error");
  }
}

async function editRule(rule) {
  const unit = UNITS[rule.unit] || UNITS.count;
  const threshold = h("input", { name: "threshold", type: "number", step: "any", min: 0, required: true, value: String(unit.toInput(rule.threshold)) });
  const body = [field(unit.label, threshold, `Default: ${unit.show(rule.default.threshold)}`)];
  const windowInput = h("input", { name: "window_seconds", type: "number", min: 1, max: 60, value: String(Math.round((rule.window_seconds || 300) / 60)) });
  const minimum = h("input", { name: "min_requests", type: "number", min: 1, value: String(rule.min_requests || 20) });
  if (rule.window_seconds) body.push(field("Over the last (minutes)", windowInput));
  if (rule.min_requests) body.push(field("Only once there are this many requests", minimum));
  await modal({
    title: rule.title, body,
    actions: [{ label: "Cancel", value: "cancel" }, { label: "Save", value: "save", primary: true }],
    onSubmit: async () => {
      const change = { threshold: unit.fromInput(Number(threshold.value)) };
      if (rule.window_seconds) change.window_seconds = Math.round(Number(windowInput.value) * 60);
      if (rule.min_requests) change.min_requests = Math.round(Number(minimum.value));
      await put(`/api/alerts/rules/${rule.kind}`, change);
      await load();
      toast("Saved");
    },
  });
}

async function saveChannel(channel, change, input) {
  try {
    await patch(`/api/alerts/channels/${channel.id}`, change);
    await load();
  } catch (err) {
    if (input) input.checked = !input.checked;
    toast(err.message, "error");
  }
}

async function sendTest(channel) {
  try {
    const answer = await post(`/api/alerts/channels/${channel.id}/test`, {});
    if (answer.sent) toast(`A test message went to ${channel.name}`);
    else toast(`The test message did not arrive: ${answer.error}`, "error");
  } catch (err) {
    toast(err.message, "error");
  }
}

async function removeChannel(channel) {
  if (!await confirmDialog(`Remove ${channel.name}?`, "Alerts will no longer be sent there.", { confirm: "Remove" })) return;
  try {
    await del(`/api/alerts/channels/${channel.id}`);
    await load();
    toast("Channel removed");
  } catch (err) {
    toast(err.message, "error");
  }
}

async function addChannel() {
  const name = h("input", { name: "name", required: true, placeholder: "e.g. On-call e-mail", autocomplete: "off" });
  const kind = h("select", { name: "kind" }, Object.entries(KIND_WORDS).map(([v, w]) => h("option", { value: v }, w)));
  const address = h("input", { name: "secret", type: "url", placeholder: "https://…", autocomplete: "off" });
  const host = h("input", { name: "settings.host", placeholder: "smtp.example.com", autocomplete: "off" });
  const port = h("input", { name: "settings.port", type: "number", value: "587", min: 1, max: 65535 });
  const security = h("select", { name: "settings.security" }, h("option", { value: "starttls" }, "Upgrade to an encrypted connection (STARTTLS)"),
    h("option", { value: "tls" }, "Encrypted from the start (TLS)"), h("option", { value: "none" }, "Not encrypted"));
  const sender = h("input", { name: "settings.from", type: "email", placeholder: "switchboard@example.com" });
  const to = h("input", { name: "settings.to", placeholder: "ops@example.com, lead@example.com" });
  const username = h("input", { name: "settings.username", autocomplete: "off" });
  const password = h("input", { name: "password", type: "password", autocomplete: "new-password" });
  const webFields = h("div", field("Address", address, "The incoming-webhook address the chat tool or receiver gave you. It is stored encrypted."));
  const mailFields = h("div", field("Mail server", host), field("Port", port), field("Connection", security),
    field("Sender address", sender), field("Send to", to, "One or more addresses, separated by commas"),
    field("User name (optional)", username), field("Password (optional)", password, "Stored encrypted."));
  const show = () => { mailFields.hidden = kind.value !== "email"; webFields.hidden = kind.value === "email"; };
  kind.addEventListener("change", show);
  kind.value = "slack";
  show();
  await modal({
    title: "New channel", wide: true,
    body: [field("Name", name), field("Kind", kind), webFields, mailFields],
    actions: [{ label: "Cancel", value: "cancel" }, { label: "Add channel", value: "add", primary: true }],
    onSubmit: async () => {
      const body = { name: name.value.trim(), kind: kind.value };
      if (kind.value === "email") {
        body.settings = { host: host.value.trim(), port: Number(port.value), security: security.value,
          from: sender.value.trim(), to: to.value.split(/[\s,;]+/).filter(Boolean), username: username.value.trim() };
        if (password.value) body.secret = password.value;
      } else {
        body.secret = address.value.trim();
      }
      await post("/api/alerts/channels", body);
      await load();
      toast("Channel added");
    },
  });
}

$("#add-channel").addEventListener("click", addChannel);
$("#alerts-check").addEventListener("click", async () => {
  try {
    const done = await post("/api/alerts/evaluate", {});
    toast(done.ran ? `Checked: ${done.opened} new, ${done.resolved} resolved` : "Another server is checking right now");
    await load();
  } catch (err) {
    toast(err.message, "error");
  }
});
setInterval(() => { if (document.visibilityState === "visible") load(); }, 30000);
load();
