// Settings → Features (administrators): each feature on for everyone, off for everyone
// (the kill switch), or on for some people — named people and roles, and a share of the
// others picked the same way every time.

import { get, put } from "../api.js";
import { $, h, icon } from "../dom.js";
import { formatDateTime } from "../format.js";
import { banner, field, modal, toast } from "../ui.js";
import { FEATURE_TITLES as TITLES } from "./feature-names.js";

const ROLE_WORDS = { admin: "administrators", user: "members" };
let flags = [];

const title = (f) => TITLES[f.name] || f.description;

/** The rule in words. */
function who(f) {
  if (f.mode === "on") return "Everyone";
  if (f.mode === "off") return h("strong", "Nobody (turned off)");
  const parts = [];
  if (f.percent) parts.push(`${f.percent}% of people`);
  if (f.users.length) parts.push(f.users.join(", "));
  if (f.roles.length) parts.push(`all ${f.roles.map((r) => ROLE_WORDS[r] || r).join(" and ")}`);
  return parts.length ? parts.join("; ") : "Nobody yet";
}

function row(f) {
  return h("tr", { dataset: { flag: f.name } },
    h("td", h("strong", title(f)), h("div.muted", f.description)),
    h("td", who(f)),
    h("td", f.updated_at ? `${formatDateTime(f.updated_at)} by ${f.updated_by}` : h("span.muted", "Never changed")),
    h("td.actions",
      h("button.btn.btn-sm.btn-ghost", { type: "button", onclick: () => edit(f) }, icon("pencil"), "Change")));
}

async function load() {
  try {
    flags = (await get("/api/flags")).flags;
    $("#flags-table").setAttribute("aria-busy", "false");
    $("#flags-table tbody").replaceChildren(...flags.map(row));
  } catch (err) {
    banner("#banner-slot", err.message, { title: "Could not load the features" });
  }
}

function choice(name, value, label, checked) {
  const input = h("input", { type: "radio", name, value });
  input.checked = checked;
  return h("label.radio", input, " ", label);
}

async function edit(f) {
  const modes = h("fieldset.field", h("legend", "Who has it"),
    choice("mode", "on", "Everyone", f.mode === "on"),
    choice("mode", "off", "Nobody — turn it off now", f.mode === "off"),
    choice("mode", "rollout", "Some people", f.mode === "rollout"));
  const percent = h("input", { name: "percent", inputmode: "numeric", autocomplete: "off",
    value: f.mode === "rollout" ? String(f.percent) : "", placeholder: "0" });
  const people = h("input", { name: "users", autocomplete: "off", value: f.users.join(", "),
    placeholder: "Names, separated by commas" });
  const admins = h("input", { type: "checkbox", name: "admins" });
  admins.checked = f.roles.includes("admin");
  const members = h("input", { type: "checkbox", name: "members" });
  members.checked = f.roles.includes("user");
  const some = h("div",
    field("Share of people (%)", percent, "The same people each time; raising it only adds people."),
    field("These people", people),
    h("label.checkbox", admins, " All administrators"),
    h("label.checkbox", members, " All members"));
  await modal({
    title: `${title(f)}`,
    body: [modes, some],
    actions: [{ label: "Cancel", value: "cancel" }, { label: "Save", value: "save", primary: true }],
    onSubmit: async () => {
      const mode = modes.querySelector("input:checked")?.value || "on";
      const body = { mode };
      if (mode === "rollout") {
        const text = percent.value.trim() || "0";
        if (!/^\d+$/.test(text) || Number(text) > 100) {
          const err = new Error("Share of people: write a whole number from 0 to 100.");
          err.field = "percent";
          throw err;
        }
        body.percent = Number(text);
        body.users = people.value.split(",").map((s) => s.trim()).filter(Boolean);
        body.roles = [admins.checked ? "admin" : null, members.checked ? "user" : null].filter(Boolean);
      }
      await put(`/api/flags/${encodeURIComponent(f.name)}`, body);
      await load();
      toast(mode === "off" ? `${title(f)} is off for everyone` : "Saved");
    },
  });
}

load();
