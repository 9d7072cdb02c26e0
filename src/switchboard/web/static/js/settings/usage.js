// Settings → Usage: totals, a stacked bar chart per day by provider (inline SVG built
// here), and tables per provider and per model. Data: GET /api/usage.
// The period (a 7/30/90-day preset or a custom from/to), the scope (admins: mine or
// everyone's) and the chart metric live in the URL query, so a reload or a shared link
// shows the same report: ?range=7 | ?from=2025-01-01&to=2025-01-31, &scope=all, &metric=.
// Everyone's usage (admins) adds a per-user table ("who spent what"). Figures that include
// estimated tokens (the provider reported none: stopped answers) are marked "≈".

import { get } from "../api.js";
import { chartWidth, dailyBars, dayLabel, drawDailyBars, drawLegend, redrawOnResize } from "../bar-chart.js";
import { axisTicks } from "../chart-scale.js";
import { $, $$, h } from "../dom.js";
import { formatCompact, formatCost, formatInt, formatMs } from "../format.js";
import { banner, clearBanner } from "../ui.js";

const PALETTE = ["#5b5bd6", "#10a37f", "#d97757", "#4285f4", "#f59e0b", "#ec4899", "#14b8a6", "#8b5cf6", "#64748b"];
const METRICS = {
  cost: { title: "Cost per day", value: (d) => Number(d.cost || 0), format: formatCost },
  tokens: { title: "Tokens per day", value: (d) => (d.input_tokens || 0) + (d.output_tokens || 0), format: formatCompact, integer: true },
  requests: { title: "Requests per day", value: (d) => d.requests || 0, format: formatInt, integer: true },
  errors: { title: "Errors per day", value: (d) => d.errors || 0, format: formatInt, integer: true },
};
const PRESETS = ["7", "30", "90"];
const DEFAULT_PRESET = "30";
const MAX_DAYS = 366; // the API's limit (services/usage_report.py)
const DAY_MS = 86400000;
let data = null;
let tip = null;
let requestSeq = 0;
let loadFailed = false;

const setChecked = (name, value) => {
  const input = $(`input[name="${name}"][value="${value}"]`);
  if (input) input.checked = true;
};

// Usage is counted in whole UTC days (the API's buckets), so "today" is the UTC date.
function isoDay(date) {
  return date.toISOString().slice(0, 10);
}
function parseDay(text) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text || "")) return null;
  const date = new Date(`${text}T00:00:00Z`);
  return Number.isNaN(date.getTime()) || isoDay(date) !== text ? null : date;
}
const addDays = (text, n) => isoDay(new Date(parseDay(text).getTime() + n * DAY_MS));
const spanDays = (from, to) => Math.round((parseDay(to) - parseDay(from)) / DAY_MS) + 1;

/** What is wrong with a custom period, in words that say how to fix it (or null). */
function rangeProblem(from, to) {
  if (!from || !to) return { field: from ? "to" : "from", message: "Choose both a start and an end date." };
  if (!parseDay(from)) return { field: "from", message: "The start date is not a valid date (YYYY-MM-DD)." };
  if (!parseDay(to)) return { field: "to", message: "The end date is not a valid date (YYYY-MM-DD)." };
  if (from > addDays(isoDay(new Date()), 1)) return { field: "from", message: "The start date is in the future: there is no usage to show yet." };
  if (from > to) return { field: "from", message: "The start date is after the end date: swap them or pick an earlier start." };
  if (spanDays(from, to) > MAX_DAYS) return { field: "from", message: `The period is ${spanDays(from, to)} days long; choose at most ${MAX_DAYS} days.` };
  return null;
}

/** The period and scope shown: from the URL (so a reload keeps them), else the defaults. */
function readQuery() {
  const q = new URLSearchParams(location.search);
  const scope = q.get("scope") === "all" && $('input[name="scope"][value="all"]') ? "all" : "me";
  const metric = METRICS[q.get("metric")] ? q.get("metric") : "cost";
  if (q.has("from") || q.has("to")) {
    const problem = rangeProblem(q.get("from"), q.get("to"));
    if (!problem) return { preset: "custom", from: q.get("from"), to: q.get("to"), scope, metric };
    banner("#banner-slot", `${problem.message} Showing the last ${DEFAULT_PRESET} days instead.`, { kind: "warn", title: "The period in the address is not valid" });
  }
  const preset = PRESETS.includes(q.get("range")) ? q.get("range") : DEFAULT_PRESET;
  return { preset, scope, metric };
}

function presetRange(days) {
  const to = isoDay(new Date());
  return { from: addDays(to, 1 - Number(days)), to };
}

const view = readQuery();
const rangeForm = $("#range-form");
const fromInput = $("#range-from");
const toInput = $("#range-to");
const rangeError = $("#range-error");
const refreshButton = $("#usage-refresh");

function currentRange() {
  return view.preset === "custom" ? { from: view.from, to: view.to } : presetRange(view.preset);
}

function writeQuery() {
  const q = new URLSearchParams();
  if (view.preset === "custom") { q.set("from", view.from); q.set("to", view.to); }
  else if (view.preset !== DEFAULT_PRESET) q.set("range", view.preset);
  if (view.scope === "all") q.set("scope", "all");
  if (view.metric !== "cost") q.set("metric", view.metric);
  const search = q.toString();
  history.replaceState(null, "", `${location.pathname}${search ? `?${search}` : ""}`);
}

function showControls() {
  setChecked("range", view.preset);
  setChecked("scope", view.scope);
  setChecked("metric", view.metric);
  const range = currentRange();
  fromInput.value = range.from;
  toInput.value = range.to;
  fromInput.max = toInput.max = isoDay(new Date(Date.now() + DAY_MS));
  rangeForm.hidden = view.preset !== "custom";
}

function showRangeError(problem) {
  for (const input of [fromInput, toInput]) input.removeAttribute("aria-invalid");
  rangeError.hidden = !problem;
  rangeError.textContent = problem ? problem.message : "";
  if (problem) {
    const input = problem.field === "to" ? toInput : fromInput;
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }
}

function caption(range) {
  const fmt = (text, year) => parseDay(text).toLocaleDateString(undefined, {
    month: "short", day: "numeric", year: year ? "numeric" : undefined, timeZone: "UTC" });
  const sameYear = range.from.slice(0, 4) === range.to.slice(0, 4);
  const days = spanDays(range.from, range.to);
  const who = view.scope === "all" ? "everyone" : "you";
  return `${fmt(range.from, !sameYear)} – ${fmt(range.to, true)} · ${days} day${days === 1 ? "" : "s"} · usage of ${who} (UTC days)`;
}

async function load() {
  const seq = ++requestSeq;
  const range = currentRange();
  const params = new URLSearchParams({ from: range.from, to: range.to, scope: view.scope });
  if (view.scope === "all") params.set("by", "user");
  refreshButton.disabled = true;
  refreshButton.classList.add("spinning");
  $("#main").setAttribute("aria-busy", "true");
  try {
    const answer = await get(`/api/usage?${params}`);
    if (seq !== requestSeq) return; // a newer request is on its way
    data = answer;
    if (loadFailed) clearBanner("#banner-slot");
    loadFailed = false;
    $("#range-caption").textContent = caption(data.range || range);
    render();
  } catch (err) {
    if (seq !== requestSeq) return;
    loadFailed = true;
    banner("#banner-slot", err.message, { title: "Could not load usage" });
  } finally {
    if (seq === requestSeq) {
      refreshButton.disabled = false;
      refreshButton.classList.remove("spinning");
      $("#main").setAttribute("aria-busy", "false");
    }
  }
}

/** A cost, marked "≈" when some of its calls' tokens were estimated. */
function costText(r) {
  return r.estimated ? `≈ ${formatCost(r.cost)}` : formatCost(r.cost);
}
const estimatedTitle = (r) => (r.estimated ? `${formatInt(r.estimated)} of these requests have estimated tokens: the provider did not report usage (stopped or interrupted answers)` : null);

function render() {
  const t = data.totals || {};
  const stat = (label, value, sub) => h("div.stat", h("span", label), h("strong", value), sub ? h("small", sub) : null);
  $("#usage-totals").replaceChildren(
    stat("Cost", costText(t), t.estimated ? `${formatInt(t.estimated)} estimated` : null),
    stat("Requests", formatInt(t.requests), t.errors ? `${formatInt(t.errors)} errors` : "no errors"),
    stat("Input tokens", formatCompact(t.input_tokens), t.cached_tokens ? `${formatCompact(t.cached_tokens)} cached` : null),
    stat("Output tokens", formatCompact(t.output_tokens), t.reasoning_tokens ? `${formatCompact(t.reasoning_tokens)} reasoning` : null),
    stat("Avg latency", formatMs(t.avg_latency_ms)));
  chart();
  tables();
}

function providerNames() {
  const names = new Set((data.by_provider || []).map((p) => p.provider));
  for (const day of data.days || []) Object.keys(day.by_provider || {}).forEach((n) => names.add(n));
  return [...names];
}

function chart() {
  const metric = METRICS[view.metric] || METRICS.cost;
  $("#chart-title").textContent = metric.title;
  const days = data.days || [];
  const names = providerNames();
  const colour = (name) => PALETTE[names.indexOf(name) % PALETTE.length];
  const box = $("#usage-chart");
  const totals = days.map((d) => metric.value(d));
  const stacks = days.map((day, i) => {
    const parts = names.map((name) => [name, metric.value(day.by_provider?.[name] || {})]).filter(([, v]) => v > 0);
    // a day whose per-provider split is unknown still gets its total bar
    if (!parts.length && totals[i] > 0) parts.push(["total", totals[i]]);
    return parts;
  });
  // The drawing is as wide as its box (re-drawn on resize): a fixed viewBox stretched to
  // a phone's width squeezed the axis labels.
  const drawn = dailyBars({
    width: chartWidth(box), height: 260, left: 56, days,
    ticks: axisTicks(Math.max(0, ...totals), { integer: !!metric.integer, format: metric.format }),
    parts: (day, i) => stacks[i].map(([name, value]) => ({ value, minHeight: 0.5,
      attrs: { class: "bar", fill: name === "total" ? PALETTE[0] : colour(name) } })),
    hasData: totals.some((v) => v > 0),
    empty: `No ${metric.title.replace(" per day", "").toLowerCase()} in this period`,
  });
  drawDailyBars(box, drawn, {
    label: `${metric.title}, ${days.length} days`,
    onBar: (hit, bar) => {
      const i = bar.index;
      const sum = stacks[i].reduce((a, [, v]) => a + v, 0);
      hit.addEventListener("pointerenter", (event) => showTip(event, bar.day, stacks[i], sum || totals[i], metric));
      hit.addEventListener("pointermove", moveTip);
      hit.addEventListener("pointerleave", hideTip);
    },
  });
  drawLegend($("#usage-legend"), names.map((name) => [name, colour(name)]));
}

function showTip(event, day, parts, total, metric) {
  hideTip();
  tip = h("div.chart-tip",
    h("strong", dayLabel(day.day, { weekday: "short", month: "short", day: "numeric" })),
    h("div", `Total: ${metric.format(total)}`),
    parts.filter(([n]) => n !== "total").map(([name, v]) => h("div", `${name}: ${metric.format(v)}`)));
  document.body.append(tip);
  moveTip(event);
}
function moveTip(event) {
  if (!tip) return;
  tip.style.left = `${Math.min(event.clientX + 14, window.innerWidth - tip.offsetWidth - 8)}px`;
  tip.style.top = `${event.clientY + 14}px`;
}
function hideTip() { tip?.remove(); tip = null; }

function tables() {
  const rows = (items, first) => {
    const maxCost = Math.max(0, ...items.map((r) => Number(r.cost || 0)));
    return items.map((r) => h("tr",
      first(r),
      h("td.num", formatInt(r.requests)),
      h("td.num", r.errors ? h("span.chip.chip-danger", formatInt(r.errors)) : "0"),
      h("td.num", formatCompact(r.input_tokens)),
      h("td.num", formatCompact(r.output_tokens)),
      h("td.num", { title: estimatedTitle(r) }, h("div.bar-cell", { style: { justifyContent: "flex-end" } },
        maxCost ? h("span.mini", { style: { width: `${Math.round((40 * Number(r.cost || 0)) / maxCost)}px` } }) : null,
        costText(r))),
      h("td.num", formatMs(r.avg_latency_ms))));
  };
  const head = (first) => h("thead", h("tr", h("th", first), ["Requests", "Errors", "Input", "Output", "Cost", "Latency"].map((x) => h("th.num", x))));
  const empty = h("tbody", h("tr", h("td.empty", { colspan: 7 }, "Nothing yet")));
  const byProvider = data.by_provider || [];
  $("#by-provider").replaceChildren(head("Provider"),
    byProvider.length ? h("tbody", rows(byProvider, (r) => h("td", h("strong", r.provider)))) : empty.cloneNode(true));
  const byModel = data.by_model || [];
  $("#by-model").replaceChildren(head("Model"),
    byModel.length ? h("tbody", rows(byModel, (r) => h("td", h("div.model-cell", h("strong", r.model), h("code", r.provider))))) : empty.cloneNode(true));
  const byUser = data.by_user || [];
  $("#by-user-panel").hidden = !data.by_user;
  $("#by-user").replaceChildren(head("User"),
    byUser.length ? h("tbody", rows(byUser, (r) => h("td", r.username ? h("strong", r.username) : h("span.muted", { title: "Calls from the command line, or by a user who has since been deleted" }, "No account")))) : empty.cloneNode(true));
}

for (const input of $$('input[name="range"]')) {
  input.addEventListener("change", () => {
    if (input.value === "custom") {
      // keep showing the current period until the custom one is applied
      rangeForm.hidden = false;
      showRangeError(null);
      fromInput.focus();
      return;
    }
    view.preset = input.value;
    showRangeError(null);
    showControls();
    writeQuery();
    load();
  });
}
rangeForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const problem = rangeProblem(fromInput.value, toInput.value);
  showRangeError(problem);
  if (problem) return;
  Object.assign(view, { preset: "custom", from: fromInput.value, to: toInput.value });
  writeQuery();
  load();
});
for (const input of $$('input[name="scope"]')) {
  input.addEventListener("change", () => { view.scope = input.value; writeQuery(); load(); });
}
for (const input of $$('input[name="metric"]')) {
  input.addEventListener("change", () => { view.metric = input.value; writeQuery(); if (data) chart(); });
}
refreshButton.addEventListener("click", load);
redrawOnResize($("#usage-chart"), () => data, chart);
showControls();
load();
