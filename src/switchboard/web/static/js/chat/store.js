// Chat page state and the model catalog as the page sees it (from /api/model-registry).
// No DOM here (the page sets state.isAdmin at start), so the pure parts run under
// `node --test` (tests/js).

export const state = {
  isAdmin: false,
  // until /api/model-registry has answered (`loading`): the picker says so
  registry: { providers: [], byRef: new Map(), defaultRef: null, loading: true },
  prefs: { selected_model: null, settings: {} },
  selected: null,        // the model (with .provider) new messages go to
  conversation: null,    // ConversationView of the open conversation, or null (new chat)
};

/**
 * A minimal store: state changes only through dispatch(action) → reducer(state, action);
 * subscribers hear (state, action) after each change (not when the reducer returned the
 * same state). Views subscribe; nothing else writes the state.
 */
export function createStore(reducer, initial) {
  let current = initial;
  const listeners = new Set();
  return {
    getState: () => current,
    dispatch(action) {
      const next = reducer(current, action);
      if (next === current) return current;
      current = next;
      for (const listener of [...listeners]) listener(current, action);
      return current;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** A provider with no key (that needs one) cannot answer: its models are shown greyed. */
export function isConfigured(provider) {
  if (typeof provider.configured === "boolean") return provider.configured;
  return !!provider.has_api_key || provider.kind === "offline";
}

function priceOf(model) {
  const p = model.price || {};
  return {
    input: p.input ?? model.price_input ?? null,
    output: p.output ?? model.price_output ?? null,
    cached_input: p.cached_input ?? model.price_cached_input ?? null,
  };
}

/** Models the chat can offer: chat models answer in words, image models in pictures
 * (the message is what they draw). Embedding models turn text into vectors for other
 * programs and cannot answer a message, so the chat page never lists them. */
export const isChatModel = (model) => ["chat", "image"].includes(model?.type || "chat");
export const isImageModel = (model) => model?.type === "image";

/** The registry as the page uses it. `auto: false` leaves the Auto choices out and
 * `images: false` the image models (features an admin turned off: features.js). */
export function normalizeRegistry(data, { auto = true, images = true } = {}) {
  const byRef = new Map();
  const wanted = (m) => isChatModel(m) && (images || !isImageModel(m));
  const providers = (data?.providers || []).map((p) => {
    const provider = { ...p, configured: isConfigured(p) };
    provider.models = (p.models || []).filter(wanted).map((m) => {
      const model = { ...m, price: priceOf(m), capabilities: m.capabilities || {}, provider };
      byRef.set(model.ref, model);
      return model;
    });
    return provider;
  });
  if (auto && providers.some((p) => p.configured && p.models.length)) {
    const choices = autoProvider();
    for (const model of choices.models) byRef.set(model.ref, model);
    providers.unshift(choices);
  }
  return { providers, byRef, defaultRef: data?.default_model_ref || null };
}

/** "Auto": the server picks a model for each message by what it asks (its task type),
 * listed first in the picker as a provider of its own with three choices. */
export const AUTO_CHOICES = [
  ["auto", "Auto", "Picks a model for each message by what it asks"],
  ["auto:cheap", "Auto · cheapest", "The cheapest model that can answer the message"],
  ["auto:best", "Auto · best", "The most capable model for the message"],
];

export const isAuto = (model) => !!model?.auto;

function autoProvider() {
  const provider = { id: "auto", name: "auto", display_name: "Auto", kind: "auto",
    configured: true, models: [] };
  provider.models = AUTO_CHOICES.map(([ref, name, description]) => ({
    ref, name, model_sdk_id: description, auto: true, description, type: "chat",
    price: { input: null, output: null, cached_input: null },
    capabilities: { vision: true }, provider,
  }));
  return provider;
}

/** The model to use: the first of `preferred` (refs, most specific first) that can
 * answer, else the global default, else the first usable model. */
export function resolveSelected(registry, preferred = []) {
  const { byRef, defaultRef, providers } = registry;
  const usable = (m) => m && m.provider.configured;
  for (const ref of preferred) {
    const model = ref ? byRef.get(ref) : null;
    if (usable(model)) return model;
  }
  const fallback = byRef.get(defaultRef);
  if (usable(fallback)) return fallback;
  for (const p of providers) {
    const m = p.models.find((x) => usable(x) && !x.auto && !isImageModel(x));  // words by default
    if (m) return m;
  }
  return byRef.get(preferred.find(Boolean)) || fallback || null;
}

/**
 * The model a chat really uses. An open conversation continues with the model of its
 * latest turn; a new chat starts with the model last used on this device, else the
 * user's default model (Preferences), else the global default. A model that cannot
 * answer (gone, no key) is skipped, so what the page names is what will answer.
 */
export function modelForChat(registry, { conversationRef = null, lastUsedRef = null, defaultRef = null } = {}) {
  return resolveSelected(registry, conversationRef ? [conversationRef, lastUsedRef, defaultRef] : [lastUsedRef, defaultRef]);
}

/** Display info for a message's model ref, even when the model left the catalog. */
export function describeRef(ref, providerName, kind, registry = state.registry) {
  const model = ref ? registry.byRef.get(ref) : null;
  if (model) return { name: model.name, provider: model.provider };
  const provider = registry.providers.find((p) => p.name === providerName)
    || { name: providerName || (ref || "").split(":")[0] || "?", kind: kind || "" };
  const sdk = ref && ref.includes(":") ? ref.slice(ref.indexOf(":") + 1) : ref;
  return { name: sdk || "Unknown model", provider };
}

export function chatOptions(prefs) {
  const adv = prefs.settings?.advanced || {};
  const options = {};
  if (adv.temperature !== undefined && adv.temperature !== null && adv.temperature !== "") {
    options.temperature = Number(adv.temperature);
  }
  if (adv.max_output_tokens) options.max_output_tokens = Number(adv.max_output_tokens);
  if (adv.system_prompt && String(adv.system_prompt).trim()) options.system_prompt = adv.system_prompt;
  return Object.keys(options).length ? options : undefined;
}
