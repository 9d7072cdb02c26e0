// Settings → Leaderboard: the grades learned from feedback, per task; administrators
// leave models out of it (and out of Auto's choice) and take them back.

import { get, put } from "../api.js";
import { $, h } from "../dom.js";
import { formatCost, formatInt, formatMs } from "../format.js";
import { banner, toast } from "../ui.js";

const table = $("#leaderboard-table");
const tbody = $("#leaderboard-table tbody");
const task = $("#leaderboard-task");
const admin = table.dataset.admin === "true";
let excluded = [];

const percent = (x) => `${(x * 100).toFixed(x > 0 && x < 0.01 ? 1 : 0)}%`;

function row(r) {
  const usage = r.usage || {};
  const out = admin && r.excluded;
  return h("tr", { dataset: { model: r.model }, class: out ? "muted" : "" },
    h("td", h("strong", out ? r.model : `${r.rank}. ${r.model}`), out ? h("span.chip", "Left out") : null),
    h("td", h("div", formatInt(r.grade)),
      h("div.muted", { title: "95% of the time between these", style: { whiteSpace: "nowrap" } }, `likely ${formatInt(r.low)}–${formatInt(r.high)}`)),
    h("td", formatInt(r.votes)),
    h("td", usage.requests ? percent(usage.error_rate) : h("span.muted", "no calls")),
    h("td", usage.p50_ms != null ? formatMs(usage.p50_ms) : "—"),
    h("td", usage.cost_per_request != null ? formatCost(usage.cost_per_request) : "—"),
    admin ? h("td.actions", h("button.btn.btn-sm.btn-ghost", { type: "button", onclick: () => toggle(r.model) },
      out ? "Include" : "Leave out")) : null);
}

async function toggle(model) {
  const next = excluded.includes(model) ? excluded.filter((m) => m !== model) : [...excluded, model];
  try {
    excluded = (await put("/api/leaderboard/exclusions", { models: next })).excluded;
    toast(excluded.includes(model) ? "Left out of the leaderboard" : "Back on the leaderboard");
    await load();
  } catch (err) {
    banner("#banner-slot", err.message, { title: "Could not change the leaderboard" });
  }
}

async function load() {
  table.setAttribute("aria-busy", "true");
  try {
    const board = await get(`/api/leaderboard?task=${encodeURIComponent(task.value)}`);
    excluded = board.excluded || [];
    table.setAttribute("aria-busy", "false");
    if (!board.models.length) {
      const text = task.value === "all" ? "No feedback yet: grades appear once people rate answers or compare models."
        : "No feedback for this task yet.";
      tbody.replaceChildren(h("tr", h("td.empty", { colspan: admin ? 7 : 6 }, text)));
    } else {
      tbody.replaceChildren(...board.models.map(row));
    }
    $("#leaderboard-caption").textContent = board.votes
      ? `${formatInt(board.votes)} votes. Errors, wait and cost are from the last 30 days.` : "";
  } catch (err) {
    banner("#banner-slot", err.message, { title: "Could not load the leaderboard" });
  }
}

task.addEventListener("change", load);
load();
