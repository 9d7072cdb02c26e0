// Settings → Budgets: everyone sees the budgets that limit them (spent, what requests in
// progress may still cost, the limit, when it starts again); administrators see every
// budget and add, change and remove them.

import { del, get, post } from "../api.js";
import { $, h, icon } from "../dom.js";
import { formatCost, formatDateTime } from "../format.js";
import { banner, confirmDialog, field, modal, toast } from "../ui.js";

const table = $("#budgets-table");
const tbody = $("#budgets-table tbody");
const admin = table.dataset.admin === "true";
const PERIODS = { day: "Daily", week: "Weekly", month: "Monthly" };
let budgets = [];
let users = [];

/** Whom a budget limits, in words ("Everyone", "ada", "API token “ci”"). */
function whom(b) {
  if (b.scope === "global") return "Everyone";
  if (b.scope === "user") return b.label.replace(/^user '(.*)'$/, "$1");
  const name = /\('(.*)'\)$/.exec(b.label);
  return name ? `API token “${name[1]}”` : "An API token";
}

function used(b) {
  const share = Number(b.amount) > 0 ? (Number(b.spent) + Number(b.reserved)) / Number(b.amount) : 0;
  const meter = h("meter", { min: 0, max: 1, low: 0.8, high: 0.99, optimum: 0, value: Math.min(share, 1),
    "aria-label": `${Math.round(share * 100)}% used` });
  return h("td", h("div.model-cell", h("span", formatCost(b.spent)), meter));
}

function row(b) {
  const over = Number(b.remaining) <= 0;
  const kind = b.soft ? h("span.chip.chip-warn", "Warning only")
    : over ? h("span.chip.chip-danger", "Limit reached") : h("span.chip.chip-ok", "Limit");
  return h("tr", { dataset: { id: b.id } },
    h("td", h("strong", whom(b))),
    h("td", PERIODS[b.period] || b.period),
    h("td", kind),
    used(b),
    h("td", Number(b.reserved) > 0 ? formatCost(b.reserved) : h("span.muted", "none")),
    h("td", formatCost(b.amount)),
    h("td", formatDateTime(b.resets_at)),
    admin ? h("td.actions",
      h("button.btn.btn-sm.btn-ghost", { type: "button", onclick: () => edit(b) }, icon("pencil"), "Change"),
      h("button.btn.btn-sm.btn-ghost", { type: "button", onclick: () => remove(b) }, "Remove")) : null);
}

function render() {
  table.setAttribute("aria-busy", "false");
  if (!budgets.length) {
    const text = admin ? "No budgets yet: requests are not limited by cost." : "No spending limits apply to you.";
    tbody.replaceChildren(h("tr", h("td.empty", { colspan: admin ? 8 : 7 }, text)));
    return;
  }
  tbody.replaceChildren(...budgets.map(row));
}

async function load() {
  try {
    const found = await get(admin ? "/api/budgets" : "/api/me/budgets");
    budgets = found.budgets;
    $("#budgets-zone").textContent = `Days, weeks (from Monday) and months follow the ${found.timezone} calendar.`;
    render();
  } catch (err) {
    banner("#banner-slot", err.message, { title: "Could not load budgets" });
  }
}

async function save(body) {
  await post("/api/budgets", body);
  await load();
  toast("Budget saved");
}

function amountInput(value = "") {
  return h("input", { name: "amount", inputmode: "decimal", required: true, value, placeholder: "e.g. 25", autocomplete: "off" });
}

async function edit(b) {
  const amount = amountInput(String(Number(b.amount)));
  await modal({
    title: `${PERIODS[b.period]} budget for ${whom(b)}`,
    body: [field("Amount in US dollars", amount)],
    actions: [{ label: "Cancel", value: "cancel" }, { label: "Save", value: "save", primary: true }],
    onSubmit: () => save({ scope: b.scope, user_id: b.user_id ?? undefined, api_token_id: b.api_token_id ?? undefined,
      period: b.period, soft: b.soft, amount: amount.value.trim() }),
  });
}

async function add() {
  if (!users.length) users = await get("/api/users").catch(() => []);
  const who = h("select", { name: "who" }, h("option", { value: "" }, "Everyone together"),
    ...users.map((u) => h("option", { value: String(u.id) }, u.display_name || u.username)));
  const period = h("select", { name: "period" }, h("option", { value: "day" }, "Each day"),
    h("option", { value: "week" }, "Each week"), h("option", { value: "month" }, "Each month"));
  period.value = "month";
  const amount = amountInput();
  const kind = h("select", { name: "kind" }, h("option", { value: "hard" }, "Stop new requests when it is used up"),
    h("option", { value: "soft" }, "Only warn when it is used up"));
  await modal({
    title: "New budget",
    body: [field("For", who), field("Period", period), field("Amount in US dollars", amount),
      field("When it is used up", kind)],
    actions: [{ label: "Cancel", value: "cancel" }, { label: "Add budget", value: "add", primary: true }],
    onSubmit: () => save({ scope: who.value ? "user" : "global", user_id: who.value ? Number(who.value) : undefined,
      period: period.value, soft: kind.value === "soft", amount: amount.value.trim() }),
  });
}

async function remove(b) {
  if (!await confirmDialog(`Remove the ${PERIODS[b.period].toLowerCase()} budget for ${whom(b)}?`,
    "Requests are no longer limited by it.", { confirm: "Remove" })) return;
  try {
    await del(`/api/budgets/${b.id}`);
    await load();
    toast("Budget removed");
  } catch (err) {
    toast(err.message, "error");
  }
}

if (admin) $("#add-budget").addEventListener("click", add);
load();
