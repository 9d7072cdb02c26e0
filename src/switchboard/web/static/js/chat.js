// The chat page: wires the sidebar, the model selector, the preferences dialog, the
// message list and the composer; streams answers from POST /api/chat/stream. Navigation
// between conversations uses history.pushState: no full-page reload while chatting.

import { ApiError, get, post, put, streamEvents } from "./api.js";
import { $, h, icon } from "./dom.js";
import { banner, clearBanner, copyText, toast } from "./ui.js";
import { createComposer } from "./chat/composer.js";
import { createConversationList } from "./chat/conversations.js";
import { AssistantView, userView } from "./chat/messages.js";
import { createModelPicker } from "./chat/model-picker.js";
import { applyTheme, createPreferencesDialog, normalizePrefs, savePreferences } from "./chat/preferences.js";
import { chatOptions, normalizeRegistry, resolveSelected, state } from "./chat/store.js";

const app = $("#app");
const messagesEl = $("#messages");
const scroller = $("#scroller");
const titleEl = $("#chat-title");
const BANNER = "#banner-slot";
let views = []; // AssistantView | null per rendered message, in order
let starting = null; // the page's start-up (models, preferences) until it has finished

// ---------------------------------------------------------------- model selection
const picker = createModelPicker({
  button: $("#model-button"),
  popover: $("#model-popover"),
  onSelect: selectModel,
});

async function selectModel(model) {
  const previous = state.selected;
  state.selected = model;
  renderModelChoice();
  try {
    await savePreferences({ ...state.prefs, selected_model: model.ref });
  } catch (err) {
    state.selected = previous;
    renderModelChoice();
    banner(BANNER, err.message, { title: "Could not save your model choice" });
  }
}

function renderModelChoice() {
  picker.renderButton();
  const model = state.selected;
  $("#composer-model").textContent = model
    ? (model.capabilities?.vision ? `${model.name} · can read images` : model.name) : "";
  composer.refresh();
}

// ---------------------------------------------------------------- messages
function isNearBottom() {
  return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 120;
}

function scrollToBottom(force = false) {
  if (force || isNearBottom()) scroller.scrollTop = scroller.scrollHeight;
}

const handlers = {
  onCopy: async (view) => {
    await copyText(view.text);
    toast("Copied to clipboard");
  },
  onRate: async (view, rating) => {
    try {
      const updated = await put(`/api/messages/${view.message.id}/rating`, { rating });
      view.message.rating = updated?.rating ?? rating;
      view.renderActions();
    } catch (err) {
      toast(err.message, "error");
    }
  },
  onRegenerate: (view) => regenerate(view),
};

function markLast() {
  const assistants = views.filter(Boolean);
  assistants.forEach((v, i) => v.setLast(i === assistants.length - 1 && !state.streaming));
}

function renderConversation() {
  messagesEl.replaceChildren();
  views = [];
  if (!state.messages.length) {
    messagesEl.append(welcome());
    return;
  }
  for (const message of state.messages) {
    if (message.role === "user") {
      messagesEl.append(userView(message));
      views.push(null);
    } else if (message.role === "assistant") {
      const view = new AssistantView(message, handlers);
      if (message.status === "error" || (message.status === "partial" && message.error && message.error !== "stopped")) {
        view.fail({ message: message.error || "The answer failed.", status: message.status });
      }
      messagesEl.append(view.el);
      views.push(view);
    }
  }
  markLast();
  requestAnimationFrame(() => scrollToBottom(true));
}

function welcome() {
  const suggestions = [
    ["Explain a concept", "like how HTTP streaming works", "Explain how HTTP streaming (Server-Sent Events) works, with an example."],
    ["Write some code", "a Python function to dedupe a list", "Write a Python function that removes duplicates from a list while keeping order."],
    ["Brainstorm", "names for a team chat bot", "Brainstorm ten short, friendly names for a team chat bot."],
    ["Summarise", "the pros and cons of SQLite", "What are the pros and cons of SQLite for a small web app? Answer as a table."],
  ];
  const onlyOffline = !state.registry.providers.some((p) => p.kind !== "offline" && p.configured);
  let hint = null;
  if (onlyOffline) {
    hint = h("div.banner.banner-info.hint", { role: "note" }, icon("sparkles"),
      h("div.banner-text",
        h("strong", "You're chatting with the built-in offline model"),
        h("span", state.isAdmin
          ? "It works without any key. Add a provider such as OpenAI, Anthropic, Mistral or Gemini to chat with real models."
          : "Ask an administrator to add a provider such as OpenAI or Anthropic to chat with real models.")),
      state.isAdmin ? h("a.btn.btn-sm.btn-primary", { href: "/settings/providers" }, "Add a provider") : null);
  }
  return h("div.welcome",
    h("span.brand-mark", icon("logo")),
    h("h1", "How can I help today?"),
    h("p", state.selected ? `You're talking to ${state.selected.name}.` : "Choose a model to start."),
    h("div.suggestions", suggestions.map(([title, sub, prompt]) => h("button.suggestion", {
      type: "button", onclick: () => send({ text: prompt, images: [], previews: [] }),
    }, h("strong", title), h("span", sub)))),
    hint);
}

// ---------------------------------------------------------------- conversations
const conversations = createConversationList({
  list: $("#conv-list"),
  search: $("#conv-search"),
  onOpen: (id) => { closeDrawer(); openConversation(id); },
  onDeleted: (id) => { if (state.conversation?.id === id) newChat(); },
  onRenamed: (conv) => { if (state.conversation?.id === conv.id) setConversation(conv); },
});

function setConversation(conv) {
  state.conversation = conv;
  titleEl.textContent = conv?.title || "";
  document.title = conv?.title ? `${conv.title} · Switchboard` : "Switchboard";
}

async function openConversation(id, { push = true } = {}) {
  stopStreaming();
  clearBanner(BANNER);
  try {
    const data = await get(`/api/conversations/${id}`);
    const { messages = [], ...conv } = data;
    setConversation(conv);
    state.messages = messages;
    conversations.setActive(conv.id);
    if (push && location.pathname !== `/c/${conv.id}`) history.pushState({ id: conv.id }, "", `/c/${conv.id}`);
    renderConversation();
  } catch (err) {
    if (err.status === 404) {
      newChat({ push: false });
      banner(BANNER, "This conversation does not exist, or it belongs to someone else. Start a new chat instead.", { title: "Conversation not found" });
      history.replaceState(null, "", "/");
    } else {
      banner(BANNER, err.message, { title: "Could not open the conversation" });
    }
  }
  composer.focus();
}

function newChat({ push = true } = {}) {
  stopStreaming();
  clearBanner(BANNER);
  setConversation(null);
  state.messages = [];
  conversations.setActive(null);
  if (push && location.pathname !== "/") history.pushState(null, "", "/");
  renderConversation();
  closeDrawer();
  composer.focus();
}

// ---------------------------------------------------------------- streaming
function stopStreaming() {
  if (state.streaming) state.streaming.controller.abort();
}

function errorAction(err) {
  const code = `${err.code || ""}`.toLowerCase();
  if (/key|provider|config|auth/.test(code) && state.isAdmin) {
    return { label: "Open provider settings", href: "/settings/providers" };
  }
  if (/model/.test(code)) return { label: "Choose another model", onclick: () => picker.open() };
  return null;
}

async function send({ text, images, previews }, { regenerateView = null } = {}) {
  // A message sent while the page is still loading the models waits for them, instead
  // of being refused with "no model is available".
  if (starting) await starting;
  if (state.streaming) return;
  if (!state.selected) {
    banner(BANNER, "No model is available. Choose one in the model selector (top left).", { title: "Choose a model" });
    return;
  }
  clearBanner(BANNER);
  messagesEl.querySelector(".welcome")?.remove();

  const body = { model: state.selected.ref, text };
  if (state.conversation) body.conversation_id = state.conversation.id;
  if (images.length) body.images = images;
  const options = chatOptions();
  if (options) body.options = options;

  let userEl = null;
  if (regenerateView) {
    body.regenerate = true;
    const at = views.indexOf(regenerateView);
    regenerateView.el.remove();
    if (at >= 0) views.splice(at, 1);
  } else {
    userEl = userView({ text, parts: previews.map((p) => ({ type: "image", media_type: p.media_type, data: p.data })) });
    messagesEl.append(userEl);
    views.push(null);
  }
  const view = new AssistantView({ model: state.selected.ref, provider: state.selected.provider.name,
    kind: state.selected.provider.kind, status: "streaming" }, handlers);
  view.setStreaming(true);
  messagesEl.append(view.el);
  views.push(view);
  markLast();
  scrollToBottom(true);

  const controller = new AbortController();
  state.streaming = { controller, view };
  composer.setStreaming(true);
  let finished = false;
  try {
    for await (const { event, data } of streamEvents("/api/chat/stream", body, controller.signal)) {
      if (event === "start") {
        const isNew = !state.conversation || state.conversation.id !== data.conversation.id;
        setConversation(data.conversation);
        conversations.upsert(data.conversation);
        conversations.setActive(data.conversation.id);
        if (isNew && location.pathname !== `/c/${data.conversation.id}`) {
          history.pushState({ id: data.conversation.id }, "", `/c/${data.conversation.id}`);
        }
        if (data.user_message && userEl) userEl.dataset.id = data.user_message.id;
        view.message.id = data.assistant_message_id;
        view.el.dataset.id = data.assistant_message_id ?? "";
        view.setModel(data.model, data.provider, data.kind);
        if (data.warnings?.length) {
          banner(BANNER, data.warnings.join(" "), { kind: "warn", title: "The model ignored some settings" });
        }
      } else if (event === "delta") {
        view.appendText(data.text || "");
        scrollToBottom();
      } else if (event === "reasoning") {
        view.appendReasoning(data.text || "");
      } else if (event === "tool_call") {
        view.addToolCall(data);
      } else if (event === "done") {
        finished = true;
        view.setStreaming(false);
        view.finish(data.message);
        if (data.conversation) {
          setConversation(data.conversation);
          conversations.upsert(data.conversation);
          conversations.setActive(data.conversation.id);
        }
      } else if (event === "error") {
        finished = true;
        view.setStreaming(false);
        if (data.message_id) view.message.id = data.message_id;
        view.fail({ message: data.message, status: data.status || "error" });
        if (!data.retryable) {
          banner(BANNER, data.message, { title: "The provider returned an error", action: errorAction(data) });
        }
      }
    }
    if (!finished) {
      view.setStreaming(false);
      view.fail({ message: "The connection closed before the answer finished. Regenerate to try again.", status: "partial" });
    }
  } catch (err) {
    view.setStreaming(false);
    if (err.name === "AbortError") {
      view.stopped();
    } else if (err instanceof ApiError && !view.message.id) {
      // Refused before it started (bad model, missing key, validation): nothing was
      // saved, so take the optimistic messages back and give the text back.
      view.el.remove();
      views.splice(views.indexOf(view), 1);
      if (userEl) { userEl.remove(); views.pop(); composer.restore(text); }
      if (!messagesEl.querySelector(".msg")) renderConversation();
      banner(BANNER, err.message, { title: "Your message was not sent", action: errorAction(err) });
    } else {
      view.fail({ message: err.message || "The connection to the server was lost.", status: "partial" });
    }
  } finally {
    state.streaming = null;
    composer.setStreaming(false);
    markLast();
  }
}

function regenerate(view) {
  if (state.streaming || !state.conversation) return;
  send({ text: "", images: [], previews: [] }, { regenerateView: view });
}

// ---------------------------------------------------------------- composer & chrome
const composer = createComposer({
  form: $("#composer"),
  textarea: $("#prompt"),
  sendButton: $("#send"),
  attachButton: $("#attach"),
  fileInput: $("#file-input"),
  tray: $("#attachments"),
  box: $("#composer-box"),
  onSend: (message) => send(message),
  onStop: stopStreaming,
  canAttach: () => !!state.selected?.capabilities?.vision,
});

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && state.streaming && !document.querySelector("dialog[open]")) {
    event.preventDefault();
    stopStreaming();
  }
});

messagesEl.addEventListener("click", async (event) => {
  const button = event.target.closest(".copy-code");
  if (!button) return;
  const code = button.closest(".code-block")?.querySelector("code");
  await copyText(code?.textContent || "");
  button.textContent = "Copied";
  setTimeout(() => { button.textContent = "Copy"; }, 1500);
});

scroller.addEventListener("scroll", () => {
  $(".chat-header").classList.toggle("scrolled", scroller.scrollTop > 4);
}, { passive: true });

function openDrawer() {
  app.classList.add("drawer-open");
  $("#backdrop").hidden = false;
  $("#open-sidebar").setAttribute("aria-expanded", "true");
  $("#conv-search").focus();
}
function closeDrawer() {
  if (!app.classList.contains("drawer-open")) return;
  app.classList.remove("drawer-open");
  $("#backdrop").hidden = true;
  $("#open-sidebar").setAttribute("aria-expanded", "false");
}
$("#open-sidebar").addEventListener("click", openDrawer);
$("#close-sidebar").addEventListener("click", closeDrawer);
$("#backdrop").addEventListener("click", closeDrawer);
$("#new-chat").addEventListener("click", () => newChat());
$("#new-chat-header").addEventListener("click", () => newChat());
$("#logout").addEventListener("click", async () => {
  try { await post("/api/session/logout"); } catch { /* already logged out */ }
  location.assign("/login");
});

const prefsDialog = createPreferencesDialog({
  onSaved: () => {
    state.selected = resolveSelected();
    renderModelChoice();
  },
});
$("#prefs-button").addEventListener("click", () => prefsDialog.open());

window.addEventListener("popstate", () => {
  const m = /^\/c\/(\d+)$/.exec(location.pathname);
  if (m) openConversation(Number(m[1]), { push: false });
  else newChat({ push: false });
});

// ---------------------------------------------------------------- start
async function start() {
  const conversationId = Number(app.dataset.conversation) || null;
  conversations.load();
  try {
    const [registry, prefs] = await Promise.all([
      get("/api/model-registry"),
      get("/api/me/preferences").catch(() => null),
    ]);
    state.registry = normalizeRegistry(registry);
    state.prefs = normalizePrefs(prefs);
    applyTheme(state.prefs.settings.theme);
  } catch (err) {
    banner(BANNER, err.message, { title: "Could not load the models" });
  }
  state.selected = resolveSelected();
  renderModelChoice();
  if (conversationId) await openConversation(conversationId, { push: false });
  else renderConversation();
  composer.focus();
}

starting = start().finally(() => { starting = null; });
