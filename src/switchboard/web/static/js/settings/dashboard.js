// Settings → Dashboard (admins): spend, requests, errors, speed and provider health at a
// glance. Data: GET /api/dashboard?days=N (figures from the daily roll-ups, so the page
// is as fast with a million calls as with ten). The period lives in the URL (?days=30)
// so a reload or a shared link shows the same; the figures refresh every 30 seconds
// while the page is visible.

import { get } from "../api.js";
import { axisTicks } from "../chart-scale.js";
import { $, $$, h, svg } from "../dom.js";
import { formatCost, formatInt, formatMs, relativeTime } from "../format.js";
import { banner, clearBanner } from "../ui.js";

const PERIODS = ["1", "7", "30", "90"];
const DEFAULT_PERIOD = "7";
const REFRESH_MS = 30000;
const COLOURS = { ok: "#10a37f", errors: "#e5484d" };

// What a failed call's code means, in words (the codes of spec/errors.py).
const ERROR_WORDS = {
  rate_limited: "rate limited by the provider",
  overloaded: "the provider was overloaded",
  server_error: "the provider had an internal error",
  timeout: "the provider took too long",
  connection_error: "could not reach the provider",
  authentication_error: "the provider refused the API key",
  permission_denied: "the key may not use this model",
  context_length_exceeded: "a conversation was too long for the model",
  stream_broken: "an answer was cut off",
  invalid_request: "the provider refused a request",
  bad_request: "the provider refused a request",
  model_not_found: "the provider does not know a model",
  not_found: "the provider does not know a model",
};
const BREAKER_WORDS = {
  closed: ["Healthy", "chip-ok"],
  half_open: ["Testing again", "chip-warn"],
  open: ["Paused after failures", "chip-danger"],
};
const STATUS_WORDS = { ok: "Connection works", error: "Connection test failed", unknown: "Not tested yet", removed: "Removed" };

const query = new URLSearchParams(location.search);
let days = PERIODS.includes(query.get("days")) ? query.get("days") : DEFAULT_PERIOD;
let data = null;
let seq = 0;
let failed = false;
let drawnWidth = 0;
const refreshButton = $("#dashboard-refresh");

const percent = (rate) => `${(100 * (rate || 0)).toFixed(rate && rate < 0.01 ? 2 : 1)}%`;
const stat = (label, value, sub) => h("div.stat", h("span", label), h("strong", value), sub ? h("small", sub) : null);

async function load() {
  const mine = ++seq;
  refreshButton.disabled = true;
  refreshButton.classList.add("spinning");
  try {
    const answer = await get(`/api/dashboard?days=${days}`);
    if (mine !== seq) return;
    data = answer;
    if (failed) clearBanner("#banner-slot");
    failed = false;
    render();
  } catch (err) {
    if (mine !== seq) return;
    failed = true;
    banner("#banner-slot", err.message, { title: "Could not load the dashboard" });
  } finally {
    if (mine === seq) {
      refreshButton.disabled = false;
      refreshButton.classList.remove("spinning");
      for (const el of $$("[aria-busy]")) el.setAttribute("aria-busy", "false");
    }
  }
}

function render() {
  const t = data.totals, s = data.spend, live = data.live;
  const period = days === "1" ? "today" : `the last ${days} days`;
  $("#dashboard-caption").textContent = `Figures for ${period} (UTC days) · updated ${new Date(data.generated_at).toLocaleTimeString()}`;
  $("#dashboard-spend").replaceChildren(
    stat("Spent today", formatCost(s.today)),
    stat("This month", formatCost(s.month)),
    stat("Month end (projected)", formatCost(s.projected_month), "at this month's pace so far"));
  $("#dashboard-totals").replaceChildren(
    stat("Requests", formatInt(t.requests), `${formatInt(live.requests_5_min)} in the last 5 minutes`),
    stat("Error rate", percent(t.error_rate), t.errors ? `${formatInt(t.errors)} failed` : "no failures"),
    stat("Typical time (p50)", formatMs(t.p50_ms)),
    stat("Slowest 5% (p95)", formatMs(t.p95_ms)),
    stat("Answers being written", formatInt(live.answers_in_progress)),
    suggestionStat(data.suggestions));
  chart();
  providers();
  models();
  users();
  budgets();
  openAlerts();
}

/** How often the model picker's suggestions were taken (none shown: said so). */
function suggestionStat(found) {
  if (!found || !found.shown) return stat("Suggested models taken", "–", "none shown yet");
  return stat("Suggested models taken", percent(found.hit_rate),
    `${formatInt(found.taken)} of ${formatInt(found.shown)} messages sent with suggestions`);
}

function chart() {
  const rows = data.days || [];
  const W = Math.max(280, Math.round($("#dashboard-chart").clientWidth || 900)), H = 220;
  const left = 48, bottom = 26, top = 10, right = 8;
  drawnWidth = W;
  const plotW = W - left - right, plotH = H - top - bottom;
  const ticks = axisTicks(Math.max(0, ...rows.map((d) => d.requests)), { integer: true, format: formatInt });
  const max = ticks[ticks.length - 1].value || 1;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", role: "img",
    "aria-label": `Requests per day, ${rows.length} days` });
  for (const tick of ticks) {
    const y = top + plotH - (plotH * tick.value) / max;
    root.append(svg("line", { x1: left, x2: W - right, y1: y, y2: y, class: "grid-line" }),
      svg("text", { x: left - 8, y: y + 4, "text-anchor": "end", class: "axis-label value-label" }, tick.label));
  }
  const slot = plotW / Math.max(rows.length, 1);
  const barW = Math.max(2, Math.min(28, slot * 0.68));
  const labelEvery = Math.max(1, Math.ceil(rows.length / Math.max(2, Math.floor(plotW / 64))));
  rows.forEach((day, i) => {
    const x = left + slot * i + (slot - barW) / 2;
    const okH = (plotH * (day.requests - day.errors)) / max, errH = (plotH * day.errors) / max;
    const base = top + plotH;
    const title = `${day.day}: ${formatInt(day.requests)} requests, ${formatInt(day.errors)} failed, ${formatCost(day.cost)}`;
    root.append(svg("rect", { x, y: base - okH, width: barW, height: Math.max(okH, 0), rx: 2, fill: COLOURS.ok }, svg("title", title)));
    if (errH > 0) root.append(svg("rect", { x, y: base - okH - errH, width: barW, height: errH, rx: 2, fill: COLOURS.errors }, svg("title", title)));
    if (i % labelEvery === 0) {
      const label = new Date(`${day.day}T00:00:00Z`).toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
      root.append(svg("text", { x: left + slot * i + slot / 2, y: H - 6, "text-anchor": "middle", class: "axis-label" }, label));
    }
  });
  if (!rows.some((d) => d.requests > 0)) {
    root.append(svg("text", { x: left + plotW / 2, y: top + plotH / 2, "text-anchor": "middle", class: "empty-chart" }, "No requests in this period"));
  }
  $("#dashboard-chart").replaceChildren(root);
  $("#dashboard-legend").replaceChildren(
    h("span", h("i", { style: { background: COLOURS.ok } }), "Answered"),
    h("span", h("i", { style: { background: COLOURS.errors } }), "Failed"));
}

const empty = (cols, text) => h("tbody", h("tr", h("td.empty", { colspan: cols }, text)));
const head = (...cols) => h("thead", h("tr", cols.map((c, i) => h(i ? "th.num" : "th", c))));

function providers() {
  const rows = data.providers || [];
  $("#dashboard-providers").replaceChildren(
    h("thead", h("tr", h("th", "Provider"), h("th", "State"), h("th.num", "Requests"), h("th.num", "Error rate"), h("th.num", "p95"), h("th", "Last failure"))),
    rows.length ? h("tbody", rows.map((p) => {
      const [words, chip] = BREAKER_WORDS[p.breaker] || BREAKER_WORDS.closed;
      const state = !p.enabled && p.status !== "removed" ? h("span.chip", "Turned off")
        : p.breaker !== "closed" ? h(`span.chip.${chip}`, words)
          : h(`span.chip.${p.status === "error" ? "chip-danger" : p.status === "ok" ? "chip-ok" : ""}`, STATUS_WORDS[p.status] || p.status);
      const last = p.last_error ? `${ERROR_WORDS[p.last_error.code] || "a call failed"}, ${relativeTime(p.last_error.at)}` : "none in the last day";
      return h("tr", h("td", h("strong", p.provider)), h("td", state), h("td.num", formatInt(p.requests)),
        h("td.num", p.errors ? h("span.chip.chip-danger", percent(p.error_rate)) : "0%"),
        h("td.num", formatMs(p.p95_ms)), h("td", last));
    })) : empty(6, "No providers yet"));
}

function models() {
  const rows = data.top_models || [];
  $("#dashboard-models").replaceChildren(head("Model", "Requests", "Error rate", "p95", "Cost"),
    rows.length ? h("tbody", rows.map((m) => h("tr",
      h("td", h("div.model-cell", h("strong", m.model), h("code", m.provider))),
      h("td.num", formatInt(m.requests)), h("td.num", percent(m.error_rate)),
      h("td.num", formatMs(m.p95_ms)), h("td.num", formatCost(m.cost))))) : empty(5, "No requests in this period"));
}

function users() {
  const rows = data.top_users || [];
  $("#dashboard-users").replaceChildren(head("User", "Requests", "Cost"),
    rows.length ? h("tbody", rows.map((u) => h("tr",
      h("td", u.username ? h("strong", u.username) : h("span.muted", { title: "Calls from the command line, or by a user who has since been deleted" }, "No account")),
      h("td.num", formatInt(u.requests)), h("td.num", formatCost(u.cost))))) : empty(3, "No requests in this period"));
}

function budgets() {
  const rows = data.budgets || [];
  $("#dashboard-budgets").replaceChildren(head("Budget", "Used", "Spent", "Limit", "Starts again"),
    rows.length ? h("tbody", rows.map((b) => h("tr",
      h("td", h("strong", b.label), b.soft ? h("small.muted", " (warning only)") : null),
      h("td.num", h(`span.chip.${b.used >= 1 ? "chip-danger" : "chip-warn"}`, percent(b.used))),
      h("td.num", formatCost(b.spent)), h("td.num", formatCost(b.amount)),
      h("td.num", relativeTime(b.resets_at))))) : empty(5, "Every budget is below 80% of its limit"));
}

function openAlerts() {
  const rows = data.alerts || [];
  $("#dashboard-alerts").replaceChildren(h("thead", h("tr", h("th", "Alert"), h("th", "Since"), h("th", "What happened"))),
    rows.length ? h("tbody", rows.map((a) => h("tr",
      h("td", h("span.chip.chip-danger", a.title)), h("td", relativeTime(a.opened_at)), h("td", a.message))))
      : empty(3, "Nothing needs attention right now"));
}

for (const input of $$('input[name="days"]')) {
  input.checked = input.value === days;
  input.addEventListener("change", () => {
    days = input.value;
    history.replaceState(null, "", days === DEFAULT_PERIOD ? location.pathname : `${location.pathname}?days=${days}`);
    load();
  });
}
refreshButton.addEventListener("click", load);
setInterval(() => { if (document.visibilityState === "visible") load(); }, REFRESH_MS);
new ResizeObserver(([entry]) => {
  const width = Math.round(entry.contentRect.width);
  if (data && width && width !== drawnWidth) { drawnWidth = width; chart(); }
}).observe($("#dashboard-chart"));
load();
