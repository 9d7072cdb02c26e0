// Login page: POST /api/session/login, then go where the user was heading (a local path).

import { post } from "./api.js";
import { $ } from "./dom.js";

const form = $("#login-form");
const error = $("#login-error");

function safeNext(value) {
  return value && value.startsWith("/") && !value.startsWith("//") && !value.includes("\\") ? value : "/";
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const username = $("#username").value.trim();
  const password = $("#password").value;
  if (!username || !password) {
    error.textContent = "Enter your username and password.";
    error.hidden = false;
    (username ? $("#password") : $("#username")).focus();
    return;
  }
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  error.hidden = true;
  try {
    await post("/api/session/login", { username, password });
    location.assign(safeNext(form.dataset.next));
  } catch (err) {
    error.textContent = err.status === 401
      ? "Wrong username or password. Check them and try again."
      : err.message;
    error.hidden = false;
    $("#password").select();
    button.disabled = false;
  }
});
