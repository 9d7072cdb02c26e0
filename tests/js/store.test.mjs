// The chat store (static/js/chat/store.js): dispatch/subscribe and model resolution.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chatOptions, createStore, describeRef, modelForChat, normalizeRegistry, resolveSelected } from "../../src/switchboard/web/static/js/chat/store.js";

test("subscribers hear each change once, and not a no-op", () => {
  const store = createStore((s, a) => (a.type === "inc" ? { n: s.n + 1 } : s), { n: 0 });
  const heard = [];
  const stop = store.subscribe((state, action) => heard.push([state.n, action.type]));
  store.dispatch({ type: "inc" });
  store.dispatch({ type: "noop" });
  store.dispatch({ type: "inc" });
  stop();
  store.dispatch({ type: "inc" });
  assert.deepEqual(heard, [[1, "inc"], [2, "inc"]]);
  assert.equal(store.getState().n, 3);
});

const registry = normalizeRegistry({
  default_model_ref: "acme:big",
  providers: [
    { id: 1, name: "nokey", kind: "openai", configured: false, models: [{ ref: "nokey:gpt", name: "GPT" }] },
    { id: 2, name: "acme", kind: "openai_compatible", configured: true, models: [
      { ref: "acme:big", name: "Big", price_input: 1 }, { ref: "acme:small", name: "Small" },
      { ref: "acme:embed", name: "Embed", type: "embedding" }] },
  ],
});

test("normalizeRegistry indexes models by ref and links their provider", () => {
  assert.equal(registry.byRef.get("acme:small").provider.name, "acme");
  assert.equal(registry.byRef.get("acme:big").price.input, 1);
  assert.equal(registry.defaultRef, "acme:big");
});

test("normalizeRegistry never offers an embedding model for chat", () => {
  assert.equal(registry.byRef.get("acme:embed"), undefined);
  assert.deepEqual(registry.providers[2].models.map((m) => m.ref), ["acme:big", "acme:small"]);
});

test("normalizeRegistry leaves out Auto and image models an admin turned off", () => {
  const data = { providers: [{ id: 2, name: "acme", kind: "openai", configured: true, models: [
    { ref: "acme:big", name: "Big" }, { ref: "acme:draw", name: "Draw", type: "image" }] }] };
  const all = normalizeRegistry(data);
  assert.ok(all.byRef.get("auto") && all.byRef.get("acme:draw"));
  const off = normalizeRegistry(data, { auto: false, images: false });
  assert.equal(off.byRef.get("auto"), undefined);
  assert.equal(off.byRef.get("acme:draw"), undefined);
  assert.deepEqual(off.providers.map((p) => p.name), ["acme"]);
  assert.deepEqual(off.providers[0].models.map((m) => m.ref), ["acme:big"]);
});

test("resolveSelected: first usable preference, else the default, else any usable model", () => {
  assert.equal(resolveSelected(registry, ["acme:small"]).ref, "acme:small");
  assert.equal(resolveSelected(registry, [null, "gone:x", "acme:small"]).ref, "acme:small");
  assert.equal(resolveSelected(registry, ["nokey:gpt"]).ref, "acme:big");
  assert.equal(resolveSelected(registry, []).ref, "acme:big");
  const noDefault = { ...registry, defaultRef: null };
  assert.equal(resolveSelected(noDefault, []).ref, "acme:big");
  const nothingUsable = normalizeRegistry({ providers: [registry.providers[1]] });
  assert.equal(resolveSelected(nothingUsable, ["nokey:gpt"]).ref, "nokey:gpt");
  assert.equal(resolveSelected(normalizeRegistry({}), []), null);
});

test("Auto is offered first when a model can answer, never chosen for the user", () => {
  assert.deepEqual(registry.providers[0].models.map((m) => m.ref), ["auto", "auto:cheap", "auto:best"]);
  assert.equal(registry.byRef.get("auto").auto, true);
  assert.equal(resolveSelected(registry, ["auto"]).ref, "auto");
  assert.equal(resolveSelected({ ...registry, defaultRef: null }, ["gone:x"]).ref, "acme:big");
  const nothingUsable = normalizeRegistry({ providers: [registry.providers[1]] });
  assert.equal(nothingUsable.byRef.get("auto"), undefined);
});

test("describeRef names a model that left the catalog from its ref", () => {
  assert.equal(describeRef("acme:big", "acme", "", registry).name, "Big");
  const gone = describeRef("old:model-x", "old", "openai", registry);
  assert.equal(gone.name, "model-x");
  assert.equal(gone.provider.name, "old");
});

test("chatOptions sends only what the user set", () => {
  assert.equal(chatOptions({ settings: {} }), undefined);
  assert.deepEqual(chatOptions({ settings: { advanced: { temperature: "0.5", max_output_tokens: "30", system_prompt: "  " } } }),
    { temperature: 0.5, max_output_tokens: 30 });
});

test("modelForChat: a conversation keeps its model; a new chat starts with the last used, else the default", () => {
  const opts = { lastUsedRef: "acme:small", defaultRef: "acme:big" };
  assert.equal(modelForChat(registry, { ...opts, conversationRef: "acme:big" }).ref, "acme:big");
  assert.equal(modelForChat(registry, { ...opts, conversationRef: "nokey:gpt" }).ref, "acme:small");
  assert.equal(modelForChat(registry, opts).ref, "acme:small");
  assert.equal(modelForChat(registry, { defaultRef: "acme:small" }).ref, "acme:small");
  assert.equal(modelForChat(registry, { lastUsedRef: "gone:x", defaultRef: "acme:small" }).ref, "acme:small");
  assert.equal(modelForChat(registry).ref, "acme:big");
});

test("image models are offered, but never chosen for a chat nobody pointed at them", () => {
  const withImages = normalizeRegistry({
    default_model_ref: null,
    providers: [{ id: 3, name: "paint", kind: "offline", configured: true, models: [
      { ref: "paint:draw", name: "Draw", type: "image" }, { ref: "paint:talk", name: "Talk" }] }],
  });
  assert.equal(withImages.byRef.get("paint:draw").type, "image");
  assert.equal(resolveSelected(withImages, []).ref, "paint:talk");
  assert.equal(resolveSelected(withImages, ["paint:draw"]).ref, "paint:draw");
});
