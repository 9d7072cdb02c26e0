// The chat page: wires the sidebar, the model selector, the preferences dialog, the
// message list and the composer; streams answers from POST /api/chat/stream. Navigation
// between conversations uses history.pushState: no full-page reload while chatting.
// The server writes an answer whatever the page does: a conversation opened while one of
// its answers is being written (a reload, a second tab) follows it to the end, and the
// stop button asks the server to stop it (every tab following it sees it stop).

import { get, patch, post, put } from "./api.js";
import { humanMessage } from "./errors.js";
import { $, h, icon } from "./dom.js";
import { banner, clearBanner, copyText, modal, toast } from "./ui.js";
import { createComposer } from "./chat/composer.js";
import { createConversationList } from "./chat/conversations.js";
import { initialState, reduce, savedKey, shownMessages, streamingKeys } from "./chat/answers.js";
import { AssistantView, autoReason, userView } from "./chat/messages.js";
import { conversationSettings } from "./chat/conversation-settings.js";
import { compareAnswers } from "./chat/compare.js";
import { canTakePictures, chooseImagesTo, pictureNote } from "./chat/image-choice.js";
import { featureOn } from "./features.js";
import { createModelPicker } from "./chat/model-picker.js";
import { createSuggestions } from "./chat/suggestions.js";
import { applyTheme, createPreferencesDialog, normalizePrefs } from "./chat/preferences.js";
import { chatOptions, createStore, describeRef, isAuto, modelForChat, normalizeRegistry, state } from "./chat/store.js";
import { SHORTCUTS, isTyping, shortcutFor } from "./chat/shortcuts.js";
import { decideToolCall, stopAnswer, streamAnswer } from "./chat/transport.js";
import { conversationSelection, offeredTools, requestTools, toggled, toolTitle, toolsLabel } from "./chat/tools.js";

const app = $("#app");
const messagesEl = $("#messages");
const scroller = $("#scroller");
const titleEl = $("#chat-title");
const BANNER = "#banner-slot";
let starting = null; // the page's start-up (models, preferences) until it has finished

// ---------------------------------------------------------------- model selection
// Up to three models suggested for what is being typed, from this user's own use
// (chat/suggestions.js), listed first in the picker.
const suggestions = createSuggestions({
  resolve: (ref) => state.registry.byRef.get(ref) || null,
  onChange: () => picker.refresh(),
});
const picker = createModelPicker({
  button: $("#model-button"),
  popover: $("#model-popover"),
  onSelect: selectModel,
  suggestions,
});

// The picker changes the model of this chat only (the conversation records it with its
// next turn) and this device's "last used" model for new chats; the default model in
// Preferences, which follows the user to every device, changes only there.
const LAST_USED = "sb-last-model";

function lastUsedRef() {
  try { return localStorage.getItem(LAST_USED); } catch { return null; }
}

function rememberLastUsed(ref) {
  try {
    if (ref) localStorage.setItem(LAST_USED, ref);
    else localStorage.removeItem(LAST_USED);
  } catch { /* private mode: new chats start with the default model */ }
}

function selectModel(model) {
  state.selected = model;
  rememberLastUsed(model.ref);
  renderModelChoice();
}

/** Choose the model this chat will use (see modelForChat) and show it. */
function resolveChatModel() {
  state.selected = modelForChat(state.registry, {
    conversationRef: state.conversation?.model ?? null,
    lastUsedRef: lastUsedRef(),
    defaultRef: state.prefs.selected_model,
  });
  renderModelChoice();
}

function renderModelChoice() {
  picker.renderButton();
  const model = state.selected;
  $("#composer-model").textContent = model
    ? (isAuto(model) ? `${model.name}: a model is chosen for each message`
      : model.capabilities?.vision ? `${model.name} · can read images` : model.name) : "";
  previewAuto();
  const line = messagesEl.querySelector(".welcome-model");
  if (line) line.replaceWith(welcomeModelLine());
  composer.refresh();
}

// ---------------------------------------------------------------- messages
// Answers live in the store (chat/answers.js); each has one AssistantView, found by the
// answer's key. The DOM keeps the order; nothing else tracks it.
const store = createStore(reduce, initialState);
const views = new Map(); // answer key → AssistantView
const controllers = new Map(); // answer key → AbortController, while it streams
const stopWanted = new Set(); // answer keys stopped before the server named them
const resumed = new Set(); // answer keys followed after they started elsewhere
const pendingQuestions = new Map(); // answer key → its question's element, until saved
let nextKey = 0;

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
      store.dispatch({ type: "rated", key: view.answer.key, rating: updated?.rating ?? rating });
    } catch (err) {
      toast(err.message, "error");
    }
  },
  onRegenerate: (view) => regenerate(view),
  onVersion: (id) => showVersion(id),
  // A tool that asks first: the card changes when the server's "approval" event comes.
  onDecide: async (messageId, callId, approve) => {
    try {
      await decideToolCall(messageId, callId, approve);
    } catch (err) {
      toast("Your choice could not be sent. Try again in a moment.", "error");
      throw err;
    }
  },
  onCompare: !featureOn("comparison") ? null : async (view) => {
    if (controllers.size || !state.conversation) return;
    try {
      const voted = await compareAnswers({ message: view.message, registry: state.registry,
        conversationId: state.conversation.id, turn: turnSettings() });
      await reloadThread(); // the chosen answer is the conversation's now; the others its versions
      if (voted) toast("Thanks: your choice is now the answer, and counts for the leaderboard");
    } catch (err) {
      toast(err.message, "error");
    }
  },
};

// A saved question: edit it (a new version, answered again) or flip between its versions.
const userHandlers = {
  onEdit: (message, text) => editAndResend(message, text),
  onVersion: (id) => showVersion(id),
  busy: () => controllers.size > 0,
};

function markLast() {
  const nodes = messagesEl.querySelectorAll(".msg-assistant");
  const lastKey = nodes.length ? nodes[nodes.length - 1].dataset.key : null;
  const busy = controllers.size > 0;
  for (const [key, view] of views) view.setLast(key === lastKey && !busy);
}

store.subscribe((current, action) => {
  if (action.type === "reset") return; // renderConversation builds the views
  const answer = current.answers[action.key];
  const view = views.get(action.key);
  if (!answer) { // withdrawn
    view?.el.remove();
    views.delete(action.key);
    return;
  }
  if (view) view.update(answer);
  if (action.type === "server") onServerEvent(action.event, action.data, action.key);
  if (action.type === "server" && action.event === "delta") scrollToBottom();
});

/** What an answer's events mean for the rest of the page (the view renders itself). */
function onServerEvent(event, data, key) {
  if (event === "start") {
    const isNew = !state.conversation || state.conversation.id !== data.conversation.id;
    setConversation(data.conversation);
    conversations.upsert(data.conversation);
    conversations.setActive(data.conversation.id);
    if (isNew && location.pathname !== `/c/${data.conversation.id}`) {
      history.pushState({ id: data.conversation.id }, "", `/c/${data.conversation.id}`);
    }
    // the question as saved (its id: it can be edited; its versions, after an edit)
    const pending = pendingQuestions.get(key);
    if (pending && data.user_message) {
      const saved = userView(data.user_message, userHandlers);
      pending.replaceWith(saved);
      pendingQuestions.set(key, saved);
    }
    if (data.warnings?.length && !resumed.has(key)) {
      const notes = data.warnings.map((w) => pictureNote(w, (ref) => describeRef(ref, null, null).name));
      const others = data.warnings.filter((_, i) => !notes[i]);
      const words = [...notes.filter(Boolean), ...others].join(" ");
      if (others.length) banner(BANNER, words, { kind: "warn", title: "The model ignored some settings" });
      else banner(BANNER, words, { kind: "info", title: "About the pictures" });
    }
  } else if (event === "done" && data.conversation) {
    setConversation(data.conversation);
    conversations.upsert(data.conversation);
    conversations.setActive(data.conversation.id);
  } else if (event === "error" && !data.retryable) {
    banner(BANNER, humanMessage({ code: data.code, message: data.message }), { title: "The provider returned an error", action: errorAction(data) });
  }
}

function renderConversation(loaded, { keepScroll = false } = {}) {
  const messages = shownMessages(loaded);
  const scrolled = scroller.scrollTop;
  messagesEl.replaceChildren();
  views.clear();
  store.dispatch({ type: "reset", messages });
  if (!messages.length) {
    messagesEl.append(welcome());
    return;
  }
  const { answers } = store.getState();
  for (const message of messages) {
    if (message.role === "user") {
      messagesEl.append(userView(message, userHandlers));
    } else if (message.role === "assistant") {
      const answer = answers[savedKey(message.id)];
      const view = new AssistantView(answer, handlers);
      views.set(answer.key, view);
      messagesEl.append(view.el);
    }
  }
  markLast();
  if (keepScroll) scroller.scrollTop = scrolled;
  else requestAnimationFrame(() => scrollToBottom(true));
  // answers the server is still writing (this page was reloaded, or another tab asked)
  // Resumable answers turned off by an admin: the server would refuse to follow them.
  if (featureOn("resumable_streams")) {
    for (const key of streamingKeys(store.getState())) follow(key, answers[key].message.id);
  }
}

/** Show another version of a message (and the newest answers that follow it). */
async function showVersion(messageId) {
  if (controllers.size || !state.conversation) return;
  try {
    const { messages = [], ...conv } = await put(`/api/conversations/${state.conversation.id}/version`, { message_id: messageId });
    setConversation(conv);
    renderConversation(messages, { keepScroll: true });
  } catch (err) {
    toast(err.message, "error");
  }
}

/** Reload the open conversation's thread as saved (after an edit that was refused). */
async function reloadThread() {
  if (!state.conversation) return;
  try {
    const { messages = [], ...conv } = await get(`/api/conversations/${state.conversation.id}`);
    setConversation(conv);
    renderConversation(messages, { keepScroll: true });
  } catch { /* the banner already explains what went wrong */ }
}

function welcome() {
  const suggestions = [
    ["Explain a concept", "like how HTTP streaming works", "Explain how HTTP streaming (Server-Sent Events) works, with an example."],
    ["Write some code", "a Python function to dedupe a list", "Write a Python function that removes duplicates from a list while keeping order."],
    ["Brainstorm", "names for a team chat bot", "Brainstorm ten short, friendly names for a team chat bot."],
    ["Summarise", "the pros and cons of SQLite", "What are the pros and cons of SQLite for a small web app? Answer as a table."],
  ];
  const onlyOffline = !state.registry.providers.some((p) => p.kind !== "offline" && p.kind !== "auto" && p.configured);
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
    welcomeModelLine(),
    h("div.suggestions", suggestions.map(([title, sub, prompt]) => h("button.suggestion", {
      type: "button", onclick: () => send({ text: prompt, images: [], previews: [] }),
    }, h("strong", title), h("span", sub)))),
    hint);
}

/** The empty chat names the model that will answer (kept current by renderModelChoice). */
function welcomeModelLine() {
  const model = state.selected;
  if (!model) return h("p.welcome-model", "Choose a model to start.");
  const provider = model.provider.name;
  if (!model.provider.configured) {
    return h("p.welcome-model", `${model.name} (${provider}) cannot answer yet: its provider has no API key. Choose another model.`);
  }
  return h("p.welcome-model", "You're talking to ", h("strong", model.name), ` (${provider}).`);
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
  $("#conv-settings-button").hidden = !conv;
}

/** The model-written title of a new conversation arrives after its first answer. */
function onTitle({ conversation_id: id, title }) {
  if (!title) return;
  if (state.conversation?.id === id) setConversation({ ...state.conversation, title });
  conversations.upsert({ ...(state.conversation?.id === id ? state.conversation : { id }), title }, { moveToTop: false });
}

/** Open conversation `id`. `leaving`: false at the page's start-up, where there is
 * nothing to leave (an Enter pressed while the page loaded is kept for this conversation). */
async function openConversation(id, { push = true, leaving = true } = {}) {
  if (leaving) stopListening();
  clearBanner(BANNER);
  beginOpening();
  const mine = ++navigation;
  try {
    const data = await get(`/api/conversations/${id}`);
    if (mine !== navigation) return; // left for another conversation or a new chat meanwhile
    const { messages = [], ...conv } = data;
    setConversation(conv);
    selectConversationTools();
    resolveChatModel();
    if (conv.model && state.selected && state.selected.ref !== conv.model) {
      banner(BANNER, `This conversation used ${describeRef(conv.model, conv.provider).name}, which cannot answer any more. New messages go to ${state.selected.name}.`,
        { kind: "warn", title: "Its model is not available" });
    }
    conversations.setActive(conv.id);
    if (push && location.pathname !== `/c/${conv.id}`) history.pushState({ id: conv.id }, "", `/c/${conv.id}`);
    renderConversation(messages);
  } catch (err) {
    if (mine !== navigation) return;
    if (err.status === 404) {
      newChat({ push: false });
      banner(BANNER, "This conversation does not exist, or it belongs to someone else. Start a new chat instead.", { title: "Conversation not found" });
      history.replaceState(null, "", "/");
    } else {
      banner(BANNER, err.message, { title: "Could not open the conversation" });
    }
  } finally {
    endOpening();
  }
  composer.focus();
}

// Until a conversation is shown (the page's start-up counts as one opening), the page
// cannot know whether one of its answers is still being written: the composer keeps an
// Enter pressed meanwhile (chat/send-gate.js) instead of letting send() find out too late.
let opening = 0;

// Each opening and each new chat takes the next number; a conversation whose load comes
// back after the person moved on (clicked New chat or another conversation meanwhile)
// sees a newer number and is not shown over what they chose.
let navigation = 0;

function beginOpening() {
  if (opening++ === 0) composer.setOpening(true);
}

function endOpening() {
  if (--opening === 0) composer.setOpening(false);
}

function newChat({ push = true } = {}) {
  navigation += 1;
  stopListening();
  clearBanner(BANNER);
  setConversation(null);
  selectConversationTools();
  resolveChatModel();
  conversations.setActive(null);
  if (push && location.pathname !== "/") history.pushState(null, "", "/");
  renderConversation([]);
  closeDrawer();
  composer.focus();
}

// ---------------------------------------------------------------- streaming
/** The stop button: the server stops the answers this page is showing being written. */
function stopStreaming() {
  const { answers } = store.getState();
  for (const key of controllers.keys()) {
    const id = answers[key]?.message?.id;
    if (id) requestStop(id);
    else stopWanted.add(key); // stopped as soon as the server names it (onStart)
  }
}

function requestStop(id) {
  stopAnswer(id).catch((err) => toast(err.message, "error"));
}

/** Leaving a conversation: stop listening; its answers go on being written and saved. */
function stopListening() {
  for (const controller of controllers.values()) controller.abort();
  controllers.clear();
  stopWanted.clear();
  resumed.clear();
  composer.dropQueued(); // an Enter kept for this conversation is not sent to the next
  composer.setStreaming(false);
}

/** Follow answer `id` (shown as `key`) that the server is writing, to its end. */
async function follow(key, id) {
  if (controllers.has(key)) return;
  const controller = new AbortController();
  controllers.set(key, controller);
  resumed.add(key);
  composer.setStreaming(true);
  markLast();
  try {
    await streamAnswer({ key, messageId: id, signal: controller.signal, dispatch: store.dispatch, onTitle });
  } finally {
    if (controllers.get(key) === controller) controllers.delete(key);
    composer.setStreaming(controllers.size > 0);
    markLast();
  }
}

function errorAction(err) {
  const code = `${err.code || ""}`.toLowerCase();
  if (/key|provider|config|auth/.test(code) && state.isAdmin) {
    return { label: "Open provider settings", href: "/settings/providers" };
  }
  if (/model/.test(code)) return { label: "Choose another model", onclick: () => picker.open() };
  return null;
}

async function send({ text, images, previews, files = [], imagesTo = undefined }, { regenerateView = null, editOf = null } = {}) {
  // A message sent while the page is still loading the models waits for them, instead
  // of being refused with "no model is available".
  if (starting) await starting;
  if (controllers.size) { // an answer turned out to be running: the text is not lost
    composer.restore(text, files);
    return;
  }
  if (!state.selected) {
    banner(BANNER, "No model is available. Choose one in the model selector (top left).", { title: "Choose a model" });
    return;
  }
  clearBanner(BANNER);
  messagesEl.querySelector(".welcome")?.remove();

  const body = { model: state.selected.ref, text };
  rememberLastUsed(state.selected.ref);
  if (!regenerateView && !editOf) suggestions.sent(state.selected.ref); // the hit rate
  if (state.conversation) body.conversation_id = state.conversation.id;
  if (images.length) body.images = images;
  if (imagesTo) body.images_to = imagesTo; // the user's answer to "can't see pictures"
  if (files.length) body.files = files.map(({ filename, media_type, data, file }) => (file ? { filename, media_type, file } : { filename, media_type, data }));
  Object.assign(body, turnSettings());

  let userEl = null;
  const key = `new${++nextKey}`;
  if (regenerateView) {
    body.regenerate = true;
    store.dispatch({ type: "withdraw", key: regenerateView.answer.key });
  } else {
    if (editOf) {
      // the edited question starts a new branch: what followed it leaves the view (it
      // stays saved, one click away through the question's versions)
      body.edit_of = editOf.id;
      dropFrom(messagesEl.querySelector(`.msg-user[data-id="${editOf.id}"]`));
    }
    userEl = userView({ text, parts: [
      ...previews.map((p) => ({ type: "image", media_type: p.media_type, data: p.data, file: p.file })),
      ...files.map((f) => ({ type: "file", filename: f.filename })),
    ] });
    messagesEl.append(userEl);
    pendingQuestions.set(key, userEl);
  }
  const { ref, provider } = state.selected;
  store.dispatch({ type: "begin", key, model: ref, provider: provider.name, kind: provider.kind });
  const view = new AssistantView(store.getState().answers[key], handlers);
  views.set(key, view);
  messagesEl.append(view.el);

  const controller = new AbortController();
  controllers.set(key, controller);
  composer.setStreaming(true);
  markLast();
  scrollToBottom(true);
  try {
    const onStart = (id) => { if (stopWanted.delete(key)) requestStop(id); };
    const onEnded = () => {
      if (controllers.get(key) === controller) controllers.delete(key);
      composer.setStreaming(controllers.size > 0);
    };
    await streamAnswer({ key, body, signal: controller.signal, dispatch: store.dispatch, onTitle, onStart, onEnded });
  } catch (err) {
    // Refused before it started (bad model, missing key, validation): nothing was
    // saved, so the answer is withdrawn; take the user's message back and give the text back.
    (pendingQuestions.get(key) || userEl)?.remove();
    composer.dropQueued(); // a message typed after this one waits for the user to read why
    if (userEl && !editOf) composer.restore(text, files);
    if (editOf) reloadThread(); // the earlier branch is still the one saved
    else if (!messagesEl.querySelector(".msg")) renderConversation([]);
    banner(BANNER, err.message, { title: "Your message was not sent", action: errorAction(err) });
  } finally {
    pendingQuestions.delete(key);
    stopWanted.delete(key);
    if (controllers.get(key) === controller) controllers.delete(key);
    composer.setStreaming(controllers.size > 0);
    markLast();
  }
}

/** What a turn sent now carries besides its text and model: the options of Preferences
 * and the tools switched on in the menu (a comparison's answers are asked the same way). */
function turnSettings() {
  const settings = {};
  const options = chatOptions(state.prefs);
  if (options) settings.options = options;
  const tools = requestTools(toolsMenu.selected, toolsMenu.tools);
  if (tools) settings.tools = tools;
  return settings;
}

/** Remove `el` and every message after it from the view (and their answers from the store). */
function dropFrom(el) {
  let node = el;
  while (node) {
    const next = node.nextElementSibling;
    if (node.dataset.key) store.dispatch({ type: "withdraw", key: node.dataset.key });
    node.remove();
    node = next;
  }
}

/** An edited question is sent again with its attachments (a new version keeps them). */
function editAndResend(message, text) {
  if (controllers.size || !state.conversation) return;
  const parts = message.parts || [];
  // a picture kept in the file store goes again by its reference, never re-uploaded
  const images = parts.filter((p) => p.type === "image" && (p.data || p.file?.sha256))
    .map((p) => (p.file?.sha256 ? { media_type: p.media_type, file: p.file.sha256 } : { media_type: p.media_type, data: p.data }));
  const previews = parts.filter((p) => p.type === "image");
  // an attached file kept on the server goes again by its reference too
  const files = parts.filter((p) => p.type === "file" && (p.data || p.file?.sha256))
    .map(({ filename, media_type, data, file }) => (file?.sha256
      ? { filename: filename || "file", media_type, file: file.sha256 }
      : { filename: filename || "file", media_type, data }));
  send({ text, images, previews, files }, { editOf: message });
}

function regenerate(view) {
  if (controllers.size || !state.conversation) return;
  send({ text: "", images: [], previews: [] }, { regenerateView: view });
}

// ---------------------------------------------------------------- Auto's pick, as the user types
// With Auto selected, the composer names the model Auto would choose for what is typed
// (asked at most every 400 ms, only the latest answer shown); picking another model in
// the selector before sending overrides it.
const PREVIEW_DELAY_MS = 400;
const PREVIEW_MAX_CHARS = 20000;
let previewTimer = 0;
let previewSeq = 0;

function previewAuto() {
  clearTimeout(previewTimer);
  const model = state.selected;
  const text = $("#prompt").value.trim();
  if (!isAuto(model)) return;
  if (!text && !composer.hasImages()) {  // nothing typed (or just sent): say what Auto is
    previewSeq++;
    $("#composer-model").textContent = `${model.name}: a model is chosen for each message`;
    return;
  }
  previewTimer = setTimeout(async () => {
    const seq = ++previewSeq;
    try {
      const pick = await post("/api/auto/preview", {
        prompt: text.slice(0, PREVIEW_MAX_CHARS), model: model.ref,
        images: composer.hasImages() ? 1 : 0,
      });
      if (seq !== previewSeq || state.selected !== model) return;
      const line = $("#composer-model");
      line.textContent = autoReason(pick);
      line.title = line.textContent;
    } catch {
      /* the preview is a hint: the message is still sent and Auto chooses then */
    }
  }, PREVIEW_DELAY_MS);
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
  queuedNote: $("#composer-queued"),
  onSend: (message) => { send(message); queueMicrotask(onDraft); },
  onStop: stopStreaming,
  canAttach: () => canTakePictures(state.selected, state.registry),
  confirmSend: async (message, { asking } = {}) => {
    const choice = await chooseImagesTo({ model: state.selected, images: message.images.length,
      prefs: state.prefs, registry: state.registry, onAsk: asking });
    if (choice === null) return false;
    if (choice) message.imagesTo = choice;
    return true;
  },
});
/** The draft changed (typed, or cleared by sending): Auto's pick and the suggestions follow. */
function onDraft() {
  previewAuto();
  suggestions.update($("#prompt").value, composer.hasImages() ? 1 : 0);
}
$("#prompt").addEventListener("input", onDraft);

// ---------------------------------------------------------------- tools menu
// The tools the model may use in the next messages (GET /api/tools; the pure part is
// chat/tools.js). No list (an older server, an error): no menu, no tools sent.
const toolsMenu = { tools: [], selected: new Set() };

function renderToolsMenu() {
  const button = $("#tools-button");
  const menu = $("#tools-menu");
  button.hidden = !toolsMenu.tools.length;
  $("#tools-label").textContent = toolsLabel(toolsMenu.selected, toolsMenu.tools);
  menu.replaceChildren(...toolsMenu.tools.map((tool) => h("label.tools-item", { title: tool.description },
    h("input", { type: "checkbox", checked: toolsMenu.selected.has(tool.name),
      onchange: () => { toolsMenu.selected = toggled(toolsMenu.selected, tool.name); renderToolsMenu(); rememberTools(); } }),
    h("span", toolTitle(tool.name)),
    tool.asks ? h("small.muted", "asks first") : null)));
}

async function loadTools() {
  try {
    toolsMenu.tools = offeredTools(await get("/api/tools"));
  } catch {
    toolsMenu.tools = [];
  }
  selectConversationTools();
}

/** The menu as the open conversation left it (a new chat: the defaults). */
function selectConversationTools() {
  toolsMenu.selected = conversationSelection(state.conversation, toolsMenu.tools);
  renderToolsMenu();
}

/** The open conversation remembers its tools (a new chat: with its first message). */
function rememberTools() {
  const conv = state.conversation;
  if (!conv) return;
  const tools = toolsMenu.tools.map((t) => t.name).filter((n) => toolsMenu.selected.has(n));
  conv.tools = tools;
  patch(`/api/conversations/${conv.id}`, { tools })
    .catch(() => toast("Your choice of tools could not be saved for this conversation.", "error"));
}

$("#tools-button").addEventListener("click", () => {
  const menu = $("#tools-menu");
  menu.hidden = !menu.hidden;
  $("#tools-button").setAttribute("aria-expanded", String(!menu.hidden));
});
document.addEventListener("click", (event) => {
  if (!event.target.closest?.(".tools-anchor")) {
    $("#tools-menu").hidden = true;
    $("#tools-button").setAttribute("aria-expanded", "false");
  }
});

// ---------------------------------------------------------------- keyboard shortcuts
const shortcutActions = {
  newChat: () => newChat(),
  focusComposer: () => { closeDrawer(); composer.focus(); },
  pickModel: () => { closeDrawer(); picker.open(); },
  copyLast: async () => {
    const nodes = messagesEl.querySelectorAll(".msg-assistant");
    const view = nodes.length ? views.get(nodes[nodes.length - 1].dataset.key) : null;
    if (!view || !view.text) { toast("There is no answer to copy yet."); return; }
    await copyText(view.text);
    toast("Last answer copied to the clipboard");
  },
  stop: stopStreaming,
  closeDrawer: () => { closeDrawer(); $("#open-sidebar").focus(); },
  help: showShortcuts,
};

function showShortcuts() {
  const mac = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);
  const keyName = (k) => (mac ? { Alt: "⌥ Option", Ctrl: "⌘", Shift: "⇧ Shift" }[k] : null) || k;
  const combo = (keys) => h("span.keys", keys.map((k, i) => [i ? " + " : null, h("kbd", keyName(k))]).flat().filter(Boolean));
  const rows = SHORTCUTS.map((s) => h("tr",
    h("th", { scope: "row" }, s.label),
    h("td", combo(s.keys), s.also ? [" or ", combo(s.also)] : null)));
  modal({
    title: "Keyboard shortcuts",
    body: [h("table.shortcuts", h("tbody", rows))],
    actions: [{ label: "Done", value: "cancel", primary: true }],
  });
}

document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.isComposing) return;
  const action = shortcutFor(event, {
    typing: isTyping(document.activeElement),
    dialogOpen: !!document.querySelector("dialog[open]"),
    drawerOpen: app.classList.contains("drawer-open"),
    streaming: controllers.size > 0,
  });
  if (!action) return;
  event.preventDefault();
  shortcutActions[action]();
});
$("#shortcuts-button").addEventListener("click", showShortcuts);

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
  onSaved: ({ defaultChanged }) => {
    // a new default is what new chats on this device start with from now on
    if (defaultChanged) rememberLastUsed(null);
    if (!state.conversation) resolveChatModel();
  },
});
// Opened while the page still loads the user's preferences, it waits for them: filled
// from the defaults it would show (and save) someone else's settings; it threw instead
// (no `advanced` yet) and the click was lost.
$("#prefs-button").addEventListener("click", async () => {
  if (starting) await starting;
  prefsDialog.open();
});

// This conversation's name, instructions and downloads (chat/conversation-settings.js).
$("#conv-settings-button").addEventListener("click", async () => {
  if (starting) await starting; // the conversation the page opened with is still loading
  if (!state.conversation) return;
  const updated = await conversationSettings(state.conversation, {
    preference: state.prefs.settings?.advanced?.system_prompt || "",
    save: (changes) => patch(`/api/conversations/${state.conversation.id}`, changes),
  });
  if (updated && typeof updated === "object") {
    setConversation({ ...state.conversation, ...updated });
    conversations.upsert(updated, { moveToTop: false });
  }
});

window.addEventListener("popstate", () => {
  const m = /^\/c\/(\d+)$/.exec(location.pathname);
  if (m) openConversation(Number(m[1]), { push: false });
  else newChat({ push: false });
});

// ---------------------------------------------------------------- start
async function start() {
  state.isAdmin = document.body.dataset.role === "admin";
  const conversationId = Number(app.dataset.conversation) || null;
  conversations.load();
  loadTools();
  try {
    const [registry, prefs] = await Promise.all([
      get("/api/model-registry"),
      get("/api/me/preferences").catch(() => null),
    ]);
    state.registry = normalizeRegistry(registry, {
      auto: featureOn("auto_model"), images: featureOn("image_generation") });
    state.prefs = normalizePrefs(prefs);
    applyTheme(state.prefs.settings.theme);
  } catch (err) {
    state.registry = { ...state.registry, loading: false };
    banner(BANNER, err.message, { title: "Could not load the models" });
  }
  resolveChatModel();
  picker.refresh(); // opened while they loaded: the models, not "Loading models…"
  if (conversationId) await openConversation(conversationId, { push: false, leaving: false });
  else renderConversation([]);
  composer.focus();
}

beginOpening(); // ended once the page has started: a send kept meanwhile goes then
starting = start().finally(() => { starting = null; endOpening(); });
