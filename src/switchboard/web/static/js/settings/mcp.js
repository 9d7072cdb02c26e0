// Settings → MCP servers (administrators): add, change, switch on/off and remove tool
// servers; "Test" connects afresh and lists the server's tools. One tool's settings
// (available, on in new chats, when it runs) are in Settings → Tools, as for every tool.

import { del, get, patch, post } from "../api.js";
import { $, h, icon } from "../dom.js";
import { banner, confirmDialog, field, modal, toast, toggle } from "../ui.js";

const table = $("#mcp-table");
const tbody = $("#mcp-table tbody");
const POLICIES = { allow: "Run without asking", ask: "Ask the person first", deny: "Never offer it" };
let servers = [];

function policySelect(value, label) {
  const select = h("select", { "aria-label": label },
    ...Object.entries(POLICIES).map(([v, text]) => h("option", { value: v }, text)));
  select.value = value;
  return select;
}

function reachedBy(s) {
  return s.transport === "stdio"
    ? h("span", h("span.muted", "Program: "), h("code", s.command))
    : h("span", h("span.muted", "Address: "), h("code", s.url));
}

function row(s) {
  return h("tr", { dataset: { name: s.name } },
    h("td", h("strong", s.name)),
    h("td", reachedBy(s)),
    h("td", toggle(s.enabled, `${s.name} on`, (on, input) => setEnabled(s, on, input))),
    h("td", POLICIES[s.default_policy]),
    h("td", `${s.timeout_seconds} s`),
    h("td.actions",
      h("button.btn.btn-sm", { type: "button", onclick: () => test(s) }, icon("zap"), "Test"),
      h("button.btn.btn-sm.btn-ghost", { type: "button", onclick: () => edit(s) }, icon("pencil"), "Change"),
      h("button.btn.btn-sm.btn-ghost", { type: "button", onclick: () => remove(s) }, "Remove")));
}

function render() {
  table.setAttribute("aria-busy", "false");
  if (!servers.length) {
    tbody.replaceChildren(h("tr", h("td.empty", { colspan: 6 }, "No MCP servers yet: models use the built-in tools only.")));
    return;
  }
  tbody.replaceChildren(...servers.map(row));
}

async function load() {
  try {
    servers = (await get("/api/mcp-servers")).servers;
    render();
  } catch (err) {
    banner("#banner-slot", err.message, { title: "Could not load the MCP servers" });
  }
}

async function setEnabled(s, on, input) {
  try {
    await patch(`/api/mcp-servers/${encodeURIComponent(s.name)}`, { enabled: on });
    s.enabled = on;
    toast(on ? `${s.name} is on` : `${s.name} is off: its tools are not offered`);
  } catch (err) {
    input.checked = !on;
    toast(err.message, "error");
  }
}

/** "NAME=value" lines → {NAME: value}; blank lines are skipped. */
function pairsOf(text) {
  const out = {};
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (!trimmed) continue;
    const at = trimmed.indexOf("=");
    if (at < 1) throw Object.assign(new Error(`Write each value as NAME=value (“${trimmed.slice(0, 30)}” has no “=”).`), { field: "secrets" });
    out[trimmed.slice(0, at).trim()] = trimmed.slice(at + 1);
  }
  return out;
}

function secretHelp(s, kind) {
  const names = Object.keys((s && s[kind]) || {});
  const what = kind === "env" ? "Environment values for the program" : "Headers sent with every request, e.g. Authorization=Bearer …";
  return names.length ? `${what}. Stored encrypted. Saved now: ${names.join(", ")}; write one again to replace it, or NAME= to remove it.`
    : `${what}. One NAME=value per line, stored encrypted.`;
}

async function edit(s = null) {
  const name = h("input", { name: "name", required: true, value: s?.name || "", placeholder: "e.g. files", autocomplete: "off",
    pattern: "[a-z][a-z0-9_-]*", maxlength: 32, disabled: s ? true : undefined });
  const how = h("select", { name: "how", disabled: s ? true : undefined },
    h("option", { value: "stdio" }, "Start a program on this server"),
    h("option", { value: "http" }, "Connect to an address"));
  how.value = s?.transport || "stdio";
  const command = h("input", { name: "command", value: s?.command || "", placeholder: "e.g. npx -y @modelcontextprotocol/server-everything", autocomplete: "off" });
  const url = h("input", { name: "url", type: "url", value: s?.url || "", placeholder: "e.g. http://127.0.0.1:8000/mcp", autocomplete: "off" });
  const secrets = h("textarea", { name: "secrets", rows: 3, autocomplete: "off", spellcheck: "false" });
  const commandField = field("Program and its arguments", command, "As you would type it in a terminal; quote arguments that contain spaces.");
  const urlField = field("Address", url);
  const secretsField = field("Secret values", secrets, secretHelp(s, how.value === "stdio" ? "env" : "headers"));
  const policy = policySelect(s?.default_policy || "ask", "New tools");
  const timeout = h("input", { name: "timeout_seconds", type: "number", min: 1, max: 600, value: String(s?.timeout_seconds || 30) });
  const sync = () => {
    commandField.hidden = how.value !== "stdio";
    urlField.hidden = how.value !== "http";
    secretsField.querySelector("small").textContent = secretHelp(s, how.value === "stdio" ? "env" : "headers");
  };
  how.addEventListener("change", sync);
  sync();
  await modal({
    title: s ? `Change ${s.name}` : "Add an MCP server",
    wide: true,
    body: [field("Name", name, "Lower-case letters, digits, - or _. Its tools are called name.tool."), field("How to reach it", how),
      commandField, urlField, secretsField, field("When a model calls a tool nobody has reviewed", policy),
      field("Time limit per call, in seconds", timeout)],
    actions: [{ label: "Cancel", value: "cancel" }, { label: s ? "Save" : "Add server", value: "save", primary: true }],
    onSubmit: async () => {
      const values = pairsOf(secrets.value);
      const kind = how.value === "stdio" ? "env" : "headers";
      const body = { default_policy: policy.value, timeout_seconds: Number(timeout.value) || 30 };
      if (how.value === "stdio") body.command = command.value.trim();
      else body.url = url.value.trim();
      if (s) {
        const changes = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v === "" ? null : v]));
        if (Object.keys(changes).length) body[kind] = changes;
        await patch(`/api/mcp-servers/${encodeURIComponent(s.name)}`, body);
      } else {
        body.name = name.value.trim();
        body[kind] = values;
        await post("/api/mcp-servers", body);
      }
      await load();
      toast(s ? "Server saved" : "Server added: test it to see its tools");
    },
  });
}

async function remove(s) {
  if (!await confirmDialog(`Remove ${s.name}?`, "Its tools are no longer offered to models.", { confirm: "Remove" })) return;
  try {
    await del(`/api/mcp-servers/${encodeURIComponent(s.name)}`);
    if ($("#mcp-tools").dataset.server === s.name) $("#mcp-tools").hidden = true;
    await load();
    toast("Server removed");
  } catch (err) {
    toast(err.message, "error");
  }
}

function toolRow(t) {
  return h("tr", { dataset: { tool: t.name } },
    h("td", h("code", t.public_name)),
    h("td", (t.description || "").split("\n")[0] || h("span.muted", "No description")));
}

async function test(s) {
  const section = $("#mcp-tools");
  section.hidden = false;
  section.dataset.server = s.name;
  $("#mcp-tools-title").textContent = `Tools of ${s.name}`;
  const status = $("#mcp-tools-status");
  const body = $("#mcp-tools-table tbody");
  status.textContent = `Connecting to ${s.name}…`;
  body.replaceChildren();
  try {
    const report = await post(`/api/mcp-servers/${encodeURIComponent(s.name)}/test`);
    if (!report.ok) {
      status.textContent = `Could not connect to ${s.name} (after ${report.elapsed_ms} ms): ${report.error || "no answer"}.`;
      status.className = "banner banner-error";
      return;
    }
    status.className = "muted";
    const n = report.tools.length;
    status.textContent = `Connected in ${report.elapsed_ms} ms. ${n === 1 ? "1 tool" : `${n} tools`}.`;
    body.replaceChildren(...report.tools.map(toolRow));
  } catch (err) {
    status.className = "banner banner-error";
    status.textContent = err.message;
  }
}

$("#add-server").addEventListener("click", () => edit());
load();
