// Settings → Tools (administrators): which tools people may use, which are on in a new
// chat, and whether a tool runs at once, asks the person first, or never runs.

import { get, patch } from "../api.js";
import { $, h } from "../dom.js";
import { banner, toast, toggle } from "../ui.js";

/** The built-in tools in people's words (their own descriptions are written for models). */
const BUILTIN = {
  datetime: ["Date and time", "Tells the model today's date and the time in any time zone."],
  calculator: ["Calculator", "Does arithmetic exactly instead of guessing."],
  fetch_url: ["Read a web page", "Opens a public web page and reads its text. Pages on your own network are refused."],
  search_conversations: ["Search past chats", "Finds what a person discussed before, in their own chats only."],
  generate_image: ["Create images", "Draws a picture with the image model, so any model can answer with one. Pictures are charged like any other."],
};
const POLICIES = [["allow", "Runs at once"], ["ask", "Asks first"], ["deny", "Never runs"]];
let tools = [];

function label(t) {
  return BUILTIN[t.name]?.[0] ?? t.name;
}

function about(t) {
  const text = BUILTIN[t.name]?.[1] ?? t.description;
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
}

function origin(t) {
  if (t.source === "builtin") return "Built in";
  return t.source.startsWith("mcp:") ? `Server “${t.source.slice(4)}”` : t.source;
}

function policySelect(t) {
  const select = h("select", { "aria-label": `When a model uses ${label(t)}` },
    ...POLICIES.map(([value, text]) => h("option", { value, selected: t.policy === value }, text)));
  select.addEventListener("change", () => update(t, { policy: select.value }, null, select));
  return select;
}

function row(t) {
  return h(`tr${t.enabled ? "" : ".is-disabled"}`, { dataset: { tool: t.name } },
    h("td", h("div.model-cell", h("strong", label(t)), h("span.muted", about(t)))),
    h("td", h("span.chip", origin(t))),
    h("td", toggle(t.enabled, `Let people use ${label(t)}`, (on, input) => update(t, { enabled: on }, input))),
    h("td", toggle(t.default_on, `${label(t)} on in new chats`, (on, input) => update(t, { default_on: on }, input))),
    h("td", policySelect(t)));
}

function render() {
  $("#tools-table").setAttribute("aria-busy", "false");
  $("#tools-table tbody").replaceChildren(...(tools.length ? tools.map(row)
    : [h("tr", h("td.empty", { colspan: 5 }, "No tools are available on this server."))]));
}

async function load() {
  try {
    tools = (await get("/api/tools?all=true")).data;
    render();
  } catch (err) {
    banner("#banner-slot", err.message, { title: "Could not load the tools" });
  }
}

async function update(t, body, input, select) {
  try {
    const updated = await patch(`/api/tools/${encodeURIComponent(t.name)}`, body);
    tools = tools.map((x) => (x.name === t.name ? updated : x));
    render();
    toast(`${label(t)}: saved`);
  } catch (err) {
    if (input) input.checked = !input.checked;
    if (select) select.value = t.policy;
    toast(err.message, "error");
  }
}

load();
