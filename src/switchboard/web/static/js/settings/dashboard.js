// Settings → Dashboard (admins): spend, requests, errors, speed and provider health at a
// glance. Data: GET /api/dashboard?days=N (figures from the daily roll-ups, so the page
// is as fast with a million calls as with ten). The period lives in the URL (?days=30)
// so a reload or a shared link shows the same; the figures refresh every 30 seconds
// while the page is visible.

import { get } from "../api.js";
import { chartWidth, dailyBars, drawDailyBars, drawLegend, redrawOnResize } from "../bar-chart.js";
import { axisTicks } from "../chart-scale.js";
import { $, $$, h } from "../dom.js";
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
  const box = $("#dashboard-chart");
  const drawn = dailyBars({
    width: chartWidth(box), height: 220, left: 48, days: rows,
    ticks: axisTicks(Math.max(0, ...rows.map((d) => d.requests)), { integer: true, format: formatInt }),
    parts: (day) => {
      const title = `${day.day}: ${formatInt(day.requests)} requests, ${formatInt(day.errors)} failed, ${formatCost(day.cost)}`;
      const ok = { value: day.requests - day.errors, attrs: { fill: COLOURS.ok }, title };
      return day.errors > 0 ? [ok, { value: day.errors, attrs: { fill: COLOURS.errors }, title }] : [ok];
    },
    hasData: rows.some((d) => d.requests > 0),
    empty: "No requests in this period",
  });
  drawDailyBars(box, drawn, { label: `Requests per day, ${rows.length} days` });
  drawLegend($("#dashboard-legend"), [["Answered", COLOURS.ok], ["Failed", COLOURS.errors]]);
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
redrawOnResize($("#dashboard-chart"), () => data, chart);
load();
