// Settings → Users (admins): list, add, change role, activate/deactivate, reset password.

import { get, patch, post } from "../api.js";
import { $, h, icon } from "../dom.js";
import { formatDate, relativeTime } from "../format.js";
import { banner, field, modal, toast } from "../ui.js";

const tbody = $("#users-table tbody");
const me = document.body.dataset.user;
let users = [];

function row(u) {
  const role = h("select", { "aria-label": `Role of ${u.username}`, disabled: u.username === me },
    h("option", { value: "user" }, "Member"), h("option", { value: "admin" }, "Administrator"));
  role.value = u.role;
  role.addEventListener("change", () => update(u, { role: role.value }, () => { role.value = u.role; }));
  return h("tr", { dataset: { id: u.id } },
    h("td", h("div.model-cell", h("strong", u.display_name || u.username), h("code", u.username))),
    h("td", role),
    h("td", u.is_active ? h("span.chip.chip-ok", "Active") : h("span.chip", "Deactivated")),
    h("td", formatDate(u.created_at)),
    h("td", u.last_login_at ? relativeTime(u.last_login_at) : h("span.muted", "never")),
    h("td.actions",
      h("button.btn.btn-sm.btn-ghost", { type: "button", onclick: () => resetPassword(u) }, icon("key"), "Password"),
      u.username === me ? null : h("button.btn.btn-sm.btn-ghost", { type: "button",
        onclick: () => update(u, { is_active: !u.is_active }) }, u.is_active ? "Deactivate" : "Activate")));
}

function render() {
  $("#users-table").setAttribute("aria-busy", "false");
  tbody.replaceChildren(...users.map(row));
}

async function update(u, body, undo) {
  try {
    const updated = await patch(`/api/users/${u.id}`, body);
    users = users.map((x) => (x.id === u.id ? updated : x));
    render();
    toast(`${u.username} updated`);
  } catch (err) {
    undo?.();
    toast(err.message, "error");
  }
}

async function resetPassword(u) {
  const password = h("input", { name: "password", type: "password", autocomplete: "new-password", minlength: 10 });
  await modal({
    title: `New password for ${u.username}`,
    body: [field("Password", password, "At least 10 characters. Tell the user over a safe channel.")],
    actions: [{ label: "Cancel", value: "cancel" }, { label: "Set password", value: "save", primary: true }],
    onSubmit: async () => {
      await patch(`/api/users/${u.id}`, { password: password.value });
      toast("Password changed");
    },
  });
}

async function add() {
  const username = h("input", { name: "username", required: true, autocomplete: "off" });
  const password = h("input", { name: "password", type: "password", autocomplete: "new-password" });
  const role = h("select", { name: "role" }, h("option", { value: "user" }, "Member"), h("option", { value: "admin" }, "Administrator"));
  await modal({
    title: "Add user",
    body: [field("Username", username), field("Password", password, "At least 10 characters."), field("Role", role)],
    actions: [{ label: "Cancel", value: "cancel" }, { label: "Add user", value: "add", primary: true }],
    onSubmit: async () => {
      const created = await post("/api/users", { username: username.value.trim(), password: password.value, role: role.value });
      users.push(created);
      render();
      toast(`${created.username} added`);
    },
  });
}

$("#add-user").addEventListener("click", add);
get("/api/users").then((list) => { users = list; render(); })
  .catch((err) => banner("#banner-slot", err.message, { title: "Could not load users" }));
