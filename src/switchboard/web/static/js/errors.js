// The one place where an error from the server becomes a sentence for a person: what went
// wrong and what to click, never a CLI command, an API path or raw validation text. The
// server's error carries a stable `code` (and, for a field, `field` and pydantic's
// `reason`); the mapping below is keyed on those, and the server's own message (written
// for developers and the CLI) is used only when it reads as plain language.
// Pure: no DOM, unit-tested with node --test (tests/js/errors.test.mjs).

/** How the UI names a field, and what to say when it is empty. */
const FIELDS = {
  username: { label: "user name", empty: "Choose a user name." },
  password: { label: "password", empty: "Choose a password of at least 10 characters.",
    short: "Choose a longer password: at least 10 characters." },
  confirm: { label: "password confirmation", empty: "Type the password again to confirm it." },
  title: { label: "title", empty: "Give the conversation a title." },
  name: { label: "name", empty: "Give it a name." },
  display_name: { label: "display name", empty: "Give it a display name." },
  api_key: { label: "API key", empty: "Paste the API key." },
  base_url: { label: "address (base URL)", empty: "Enter the address of the provider's API." },
  kind: { label: "provider type", empty: "Choose the provider type." },
  model_sdk_id: { label: "model ID", empty: "Enter the model's ID as the provider names it." },
  text: { label: "message", empty: "Write a message first." },
  system_prompt: { label: "system prompt" },
  selected_model: { label: "default model", other: "That model cannot be used any more. Choose another default model in Preferences." },
  rating: { label: "rating" },
  temperature: { label: "temperature", other: "Choose a temperature between 0 and 2." },
  max_output_tokens: { label: "maximum answer length", other: "The maximum answer length must be a whole number above 0." },
  options: { label: "advanced settings", other: "One of the advanced settings (Preferences) is not accepted by this model. Check them and try again." },
  images: { label: "images" },
  pinned: { label: "pin", other: "You have pinned as many conversations as you can. Unpin one first." },
  expires_at: { label: "expiry date", other: "Choose an expiry date in the future." },
  role: { label: "role" },
  amount: { label: "amount", empty: "Enter an amount in US dollars.", other: "Enter an amount in US dollars, such as 25 or 12.50." },
  from: { label: "start date" },
  to: { label: "end date" },
};

/** By code, when the field alone does not say it. */
const CODES = {
  network: "Cannot reach the Switchboard server. Check your connection, then try again.",
  unauthorized: "Your session has ended. Log in again to continue.",
  forbidden: "Only an administrator can do this. Ask one of them for help.",
  permission_denied: "Only an administrator can do this. Ask one of them for help.",
  csrf_failed: "This page is out of date. Reload it, then try again.",
  throttled: "Too many attempts in a short time. Wait a minute, then try again.",
  payload_too_large: "That is too large to send. Attach fewer or smaller files, or shorten the message.",
  missing_api_key: "This provider has no API key yet. An administrator adds one in Settings → Providers.",
  model_not_found: "This model is not available any more. Choose another model in the model selector.",
  unknown_provider: "This provider does not exist any more. Choose another model in the model selector.",
  rate_limited: "The provider is busy or your quota is used up. Wait a moment, then try again.",
  overloaded: "The provider is overloaded right now. Try again in a moment, or choose another model.",
  provider_paused: "This provider failed several times in a row, so it is paused for a short while. Try again in a minute, or choose another model.",
  timeout: "The provider took too long to answer. Try again, or choose another model.",
  connection_error: "The provider could not be reached. Try again in a moment, or choose another model.",
  authentication_error: "The provider refused its API key. An administrator can check the key in Settings → Providers.",
  context_length_exceeded: "The conversation is too long for this model. Start a new chat, or choose a model that reads more.",
  too_many_answers: "Several answers are already being written for you. Wait for one to finish, or stop one, then send again.",
  in_progress_elsewhere: "This answer is still being written on another server. Reload the page in a moment to see it.",
  insufficient_quota: "Your spending limit is used up. New requests can be made when it starts again; an administrator can change it.",
  // a gateway rate limit (an administrator sets it): the server's sentence, naming the
  // limit and when to come back, is preferred; this is for when it cannot be shown
  rate_limit_exceeded: "You have sent too many messages in a short time. Wait a minute, then try again.",
};

/** Codes whose server sentence says what people need (how long to wait, which limit). */
const SAYS_WHEN = new Set(["throttled", "rate_limit_exceeded", "insufficient_quota"]);

/** A provider's failure (the server answers 502 for those, or names it in the stream):
 * the words must blame the provider, not Switchboard or the person's rights. */
const PROVIDER_FAILED = "The provider had a problem answering. Try again, or choose another model.";
const PROVIDER_CODES = {
  server_error: PROVIDER_FAILED,
  provider_error: PROVIDER_FAILED,
  stream_broken: "The provider's answer broke off. What arrived is kept; try again, or choose another model.",
  permission_denied: "The provider refused this request with its API key (the key may not have access to this model). Choose another model, or ask an administrator to check the key.",
  bad_request: "The provider did not accept this request. Try a shorter message or another model.",
  not_found: "The provider does not know this model any more. Choose another model.",
};

const BY_STATUS = {
  404: "It does not exist any more, or it is not yours. Reload the page to see what is there now.",
  409: "That clashes with something that already exists. Change it and try again.",
  422: "Check what you entered and try again.",
};

/** Text written for developers or the CLI: commands, API paths, raw validation output. */
const TECHNICAL = /`|\/api\/|\/v1\/|--[a-z]|\bswitchboard [a-z]|\b(GET|POST|PUT|PATCH|DELETE) \/|String should|Input should|Field required|Value error|Extra inputs|\w+\.\d+\./;

/**
 * The plain-language part of a server message, or null when none is left: clauses and
 * parenthesised hints that talk in commands or API paths are dropped ("provider 'x' has no
 * models (add one with `switchboard models add`)" → "Provider 'x' has no models.").
 */
export function plainText(message) {
  if (!message || typeof message !== "string") return null;
  let text = message.replace(/\s*\([^()]*\)/g, (part) => (TECHNICAL.test(part) ? "" : part));
  text = text.split(/;\s+|:\s+(?=(?:use|run|add|change|set|see|try)\b)/i)
    .filter((clause) => !TECHNICAL.test(clause)).join("; ");
  text = text.replace(/,?\s+or\s+(with\s+)?`[^`]*`[^.;]*/g, "").trim();
  if (!text || TECHNICAL.test(text) || /^[\w.]+: /.test(text)) return null;
  text = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?…]$/.test(text) ? text : `${text}.`;
}

function fieldMessage(field, reason, message) {
  const key = String(field).split(".").pop();
  const info = FIELDS[key] || FIELDS[String(field).split(".")[0]];
  if (!info) return null;
  const emptyish = ["missing", "string_too_short", "too_short"].includes(reason)
    || /must not be empty|at least 1 character|is required/i.test(message || "");
  if (emptyish && reason === "string_too_short" && info.short && !/at least 1 character/.test(message || "")) return info.short;
  if (emptyish && info.empty) return info.empty;
  if (info.short && /at least \d+ characters/i.test(message || "")) return info.short;
  if (["string_too_long", "too_long"].includes(reason) || /longer than|too long/i.test(message || "")) {
    return `The ${info.label} is too long. Shorten it and try again.`;
  }
  if (info.other) return info.other;
  const plain = plainText(message);
  return plain && !/^(String|Input|Value)/.test(plain) ? plain : `Check the ${info.label} and try again.`;
}

/**
 * A person's sentence for an error {status, code, field, reason, message}.
 * `message` is the server's text; it is shown only if it reads as plain language.
 */
export function humanMessage({ status = 0, code = "", field = null, reason = null, message = "" } = {}) {
  if (field) {
    const byField = fieldMessage(field, reason, message);
    if (byField) return byField;
  }
  // the server's sentence says how long to wait, or which limit and when it starts again
  if (SAYS_WHEN.has(code) && plainText(message)) return plainText(message);
  if (status === 502 || (!status && PROVIDER_CODES[code])) {
    return CODES[code] && !PROVIDER_CODES[code] ? CODES[code] : (PROVIDER_CODES[code] || PROVIDER_FAILED);
  }
  if (CODES[code]) return CODES[code];
  if (status === 401) return CODES.unauthorized;
  if (status === 403) return CODES.forbidden;
  if (status === 413) return CODES.payload_too_large;
  if (status === 429) return CODES.throttled;
  if (status >= 500) return "The server had a problem. Try again in a moment.";
  const plain = plainText(message);
  if (plain) return plain;
  return BY_STATUS[status] || "That did not work. Try again, or reload the page.";
}

/** "Test connection" failures, said to the administrator who can fix them. */
const CHECK_CODES = {
  authentication_error: "The provider refused this API key. Edit the key and test again.",
  permission_denied: "The provider accepted the key but does not let it do this. Check the key's permissions with the provider, then test again.",
  connection_error: "Cannot reach the provider at this address. Check the base URL, then test again.",
  timeout: "The provider did not answer in time at this address. Check the base URL, or test again in a moment.",
  not_found: "Something answered at this address, but not the provider's API. Check the base URL, then test again.",
  rate_limited: "The provider is busy or this key's quota is used up. Wait a moment, then test again.",
  server_error: "The provider had a problem answering. Test again in a moment.",
};
const CHECK_BY_STATUS = { 401: "authentication_error", 403: "permission_denied", 404: "not_found", 429: "rate_limited" };

/**
 * The code a connection test's stored line stands for. The line is the server's own
 * (upstream/errors.py): "<provider>: HTTP <status> (<vendor type>): <vendor text>",
 * "<provider>: timed out …" or "<provider>: cannot connect …" / "connection failed …".
 * The HTTP status decides, not the vendor's type: OpenAI calls a wrong key
 * "invalid_request_error".
 */
export function checkCode(line) {
  const text = String(line || "");
  const http = /\bHTTP (\d{3})\b/.exec(text);
  if (http) {
    const status = Number(http[1]);
    return CHECK_BY_STATUS[status] || (status >= 500 ? "server_error" : null);
  }
  if (/timed out|timeout/i.test(text)) return "timeout";
  if (/cannot connect|connection failed|ConnectionError/i.test(text)) return "connection_error";
  return null;
}

/**
 * A failed "Test connection" in a person's words ({text}), with the provider's own line
 * kept as a secondary detail ({detail}) for whoever needs the exact reason.
 */
export function connectionCheck({ code = null, message = "" } = {}) {
  const known = CHECK_CODES[code] ? code : checkCode(message);
  const text = CHECK_CODES[known] || "The connection test failed. Check the provider's settings, then test again.";
  return { text, detail: message || null };
}
