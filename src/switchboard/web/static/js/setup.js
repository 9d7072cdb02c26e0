// First run: create the admin with the one-time setup token, then open the chat (the
// offline model is ready; the chat page shows a hint to add a provider).

import { post } from "./api.js";
import { $ } from "./dom.js";

const form = $("#setup-form");
const error = $("#setup-error");

function fail(message, field) {
  error.textContent = message;
  error.hidden = false;
  if (field) $(`#${field}`)?.focus();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const username = $("#username").value.trim();
  const password = $("#password").value;
  if (!username) return fail("Choose a username for the admin account.", "username");
  if (password.length < 10) return fail("The password needs at least 10 characters.", "password");
  if (password !== $("#confirm").value) return fail("The two passwords differ: type the same password twice.", "confirm");
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  error.hidden = true;
  try {
    await post("/api/setup", { token: form.dataset.token, username, password });
    location.assign("/");
  } catch (err) {
    fail(err.message, err.field === "password" || err.field === "username" ? err.field : null);
    button.disabled = false;
  }
});
