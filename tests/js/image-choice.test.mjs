// What happens to a picture for a model that cannot see (static/js/chat/image-choice.js,
// decision 0172): when pictures may be attached, which model the page names as reader,
// and that the page asks only when the preference says "ask".
import { test } from "node:test";
import assert from "node:assert/strict";
import { normalizeRegistry } from "../../src/switchboard/web/static/js/chat/store.js";
import { blind, canTakePictures, chooseImagesTo, likelyReader, pictureNote, readers } from "../../src/switchboard/web/static/js/chat/image-choice.js";

const registry = normalizeRegistry({
  providers: [
    { id: 1, name: "nokey", kind: "openai", configured: false, models: [
      { ref: "nokey:eye", name: "Eye", capabilities: { vision: true } }] },
    { id: 2, name: "acme", kind: "openai", configured: true, models: [
      { ref: "acme:text", name: "Text", capabilities: { vision: false } },
      { ref: "acme:unknown", name: "Unknown", capabilities: {} },
      { ref: "acme:seer", name: "Seer", capabilities: { vision: true } },
      { ref: "acme:seer2", name: "Seer 2", capabilities: { vision: true } },
      { ref: "acme:draw", name: "Draw", type: "image", capabilities: { vision: false } },
      { ref: "acme:retouch", name: "Retouch", type: "image", edits: true, capabilities: {} }] },
  ],
});
const model = (ref) => registry.byRef.get(ref);

test("only a model known not to see is blind; Auto never is", () => {
  assert.equal(blind(model("acme:text")), true);
  assert.equal(blind(model("acme:unknown")), false);
  assert.equal(blind(model("auto")), false);
  assert.equal(blind(model("acme:draw")), false); // an image model edits or refuses: never asked
});

test("readers are configured chat models known to see, in catalog order", () => {
  assert.deepEqual(readers(registry).map((m) => m.ref), ["acme:seer", "acme:seer2"]);
});

test("pictures may be attached when the model sees or another can read for it", () => {
  assert.equal(canTakePictures(model("acme:seer"), registry), true);
  assert.equal(canTakePictures(model("acme:text"), registry), true);
  assert.equal(canTakePictures(model("acme:unknown"), registry), false);
  assert.equal(canTakePictures(model("acme:draw"), registry), false);
  assert.equal(canTakePictures(model("acme:retouch"), registry), true); // an image model that edits
  const noReader = normalizeRegistry({ providers: [{ id: 2, name: "acme", kind: "openai", configured: true,
    models: [{ ref: "acme:text", name: "Text", capabilities: { vision: false } }] }] });
  assert.equal(canTakePictures(noReader.byRef.get("acme:text"), noReader), false);
});

test("the reader named: the user's vision model, else the admin's, else the first", () => {
  const prefs = (vision) => ({ settings: { task_models: vision ? { vision } : {} } });
  assert.equal(likelyReader(registry, prefs("acme:seer2"), "acme:seer").ref, "acme:seer2");
  assert.equal(likelyReader(registry, prefs(null), "acme:seer2").ref, "acme:seer2");
  assert.equal(likelyReader(registry, prefs("nokey:eye"), null).ref, "acme:seer");
});

test("no question unless the model is blind, there are pictures and the preference asks", async () => {
  const ask = { settings: { text_model_images: "ask" } };
  assert.equal(await chooseImagesTo({ model: model("acme:seer"), images: 1, prefs: ask, registry }), undefined);
  assert.equal(await chooseImagesTo({ model: model("acme:text"), images: 0, prefs: ask, registry }), undefined);
  for (const chosen of ["vision", "describe"]) {
    const prefs = { settings: { text_model_images: chosen } };
    assert.equal(await chooseImagesTo({ model: model("acme:text"), images: 2, prefs, registry }), undefined);
  }
});

test("the server's warnings about pictures, said with the models' names", () => {
  const nameOf = (ref) => model(ref)?.name || ref;
  assert.equal(pictureNote("read by acme:seer: acme:text cannot see images", nameOf),
    "Text can't see pictures, so Seer read them and answered this message.");
  assert.equal(pictureNote("images described by acme:seer: acme:text cannot see images", nameOf),
    "Text can't see pictures, so Seer described them for it.");
  assert.equal(pictureNote("temperature is not supported by this model", nameOf), null);
});
