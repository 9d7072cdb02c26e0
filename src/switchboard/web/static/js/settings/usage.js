// Settings → Usage: totals, a stacked bar chart per day by provider (inline SVG built
// here), and tables per provider and per model. Data: GET /api/usage.

import { get } from "../api.js";
import { $, $$, h, svg } from "../dom.js";
import { formatCompact, formatCost, formatInt, formatMs } from "../format.js";
import { banner, clearBanner } from "../ui.js";

const PALETTE = ["#5b5bd6", "#10a37f", "#d97757", "#4285f4", "#f59e0b", "#ec4899", "#14b8a6", "#8b5cf6", "#64748b"];
const METRICS = {
  cost: { title: "Cost per day", value: (d) => Number(d.cost || 0), format: formatCost },
  tokens: { title: "Tokens per day", value: (d) => (d.input_tokens || 0) + (d.output_tokens || 0), format: formatCompact },
  requests: { title: "Requests per day", value: (d) => d.requests || 0, format: formatInt },
  errors: { title: "Errors per day", value: (d) => d.errors || 0, format: formatInt },
};
let data = null;
let tip = null;

const checked = (name) => $(`input[name="${name}"]:checked`)?.value;

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

async function load() {
  const days = Number(checked("range") || 30);
  const to = new Date();
  const from = new Date(Date.now() - (days - 1) * 86400000);
  const params = new URLSearchParams({ from: isoDay(from), to: isoDay(to), scope: checked("scope") || "me" });
  try {
    data = await get(`/api/usage?${params}`);
    clearBanner("#banner-slot");
    render();
  } catch (err) {
    banner("#banner-slot", err.message, { title: "Could not load usage" });
  }
}

function render() {
  const t = data.totals || {};
  const stat = (label, value, sub) => h("div.stat", h("span", label), h("strong", value), sub ? h("small", sub) : null);
  $("#usage-totals").replaceChildren(
    stat("Cost", formatCost(t.cost)),
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

function niceMax(value) {
  if (value <= 0) return 1;
  const exp = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((s) => s * exp >= value / 1) * exp;
  return step;
}

function chart() {
  const metric = METRICS[checked("metric") || "cost"];
  $("#chart-title").textContent = metric.title;
  const days = data.days || [];
  const names = providerNames();
  const colour = (name) => PALETTE[names.indexOf(name) % PALETTE.length];
  const W = 900, H = 260, left = 56, bottom = 26, top = 10, right = 8;
  const plotW = W - left - right, plotH = H - top - bottom;
  const totals = days.map((d) => metric.value(d));
  const max = niceMax(Math.max(0, ...totals));
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", role: "img",
    "aria-label": `${metric.title}, ${days.length} days` });
  for (let i = 0; i <= 4; i += 1) {
    const y = top + plotH - (plotH * i) / 4;
    root.append(svg("line", { x1: left, x2: W - right, y1: y, y2: y, class: "grid-line" }),
      svg("text", { x: left - 8, y: y + 4, "text-anchor": "end", class: "axis-label" }, metric.format((max * i) / 4)));
  }
  const slot = plotW / Math.max(days.length, 1);
  const barW = Math.max(2, Math.min(28, slot * 0.68));
  const labelEvery = Math.ceil(days.length / 10);
  days.forEach((day, i) => {
    const x = left + slot * i + (slot - barW) / 2;
    let y = top + plotH;
    const parts = names.map((name) => [name, metric.value(day.by_provider?.[name] || {})]).filter(([, v]) => v > 0);
    const sum = parts.reduce((a, [, v]) => a + v, 0);
    // a day whose per-provider split is unknown still gets its total bar
    if (!parts.length && totals[i] > 0) parts.push(["total", totals[i]]);
    for (const [name, value] of parts) {
      const hgt = (plotH * value) / max;
      y -= hgt;
      root.append(svg("rect", { x, y, width: barW, height: Math.max(hgt, 0.5), rx: 2, class: "bar",
        fill: name === "total" ? PALETTE[0] : colour(name) }));
    }
    const hit = svg("rect", { x: left + slot * i, y: top, width: slot, height: plotH, fill: "transparent" });
    hit.addEventListener("pointerenter", (event) => showTip(event, day, parts, sum || totals[i], metric));
    hit.addEventListener("pointermove", moveTip);
    hit.addEventListener("pointerleave", hideTip);
    root.append(hit);
    if (i % labelEvery === 0) {
      const label = new Date(`${day.day}T00:00:00`).toLocaleDateString(undefined, { month: "short", day: "numeric" });
      root.append(svg("text", { x: left + slot * i + slot / 2, y: H - 6, "text-anchor": "middle", class: "axis-label" }, label));
    }
  });
  if (!totals.some((v) => v > 0)) {
    root.append(svg("text", { x: left + plotW / 2, y: top + plotH / 2, "text-anchor": "middle", class: "empty-chart" }, `No ${metric.title.replace(" per day", "").toLowerCase()} in this period`));
  }
  $("#usage-chart").replaceChildren(root);
  $("#usage-legend").replaceChildren(...names.map((name) => h("span", h("i", { style: { background: colour(name) } }), name)));
}

function showTip(event, day, parts, total, metric) {
  hideTip();
  tip = h("div.chart-tip",
    h("strong", new Date(`${day.day}T00:00:00`).toLocaleDateString(undefined, { weekday: "short", month: "short", day: "numeric" })),
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
      h("td.num", h("div.bar-cell", { style: { justifyContent: "flex-end" } },
        maxCost ? h("span.mini", { style: { width: `${Math.round((40 * Number(r.cost || 0)) / maxCost)}px` } }) : null,
        formatCost(r.cost))),
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
}

for (const input of $$('input[name="range"], input[name="scope"]')) input.addEventListener("change", load);
for (const input of $$('input[name="metric"]')) input.addEventListener("change", () => data && chart());
load();
