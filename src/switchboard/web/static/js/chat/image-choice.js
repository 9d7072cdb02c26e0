// A picture sent to a model that cannot see (decision 0172). The server never sends it
// to that model: a model that can see answers that one message, or describes the
// picture in words for the chosen model. Which of the two is the user's preference
// ("Pictures for a model that can't see them"); "ask" — the page's default — shows a
// dialog each time, and the answer is sent with the message as `images_to`.

import { get } from "../api.js";
import { h } from "../dom.js";
import { modal } from "../ui.js";
import { isImageModel } from "./store.js";

/** The preference's values, in the order the Preferences dialog lists them. */
export const IMAGE_CHOICES = ["ask", "vision", "describe"];

/** Known not to read pictures (the server's own rule: `vision` is false, not unknown). */
export const blind = (model) => model?.capabilities?.vision === false && !model?.auto && !isImageModel(model);

/** The configured chat models known to read pictures, in the catalog's order. */
export function readers(registry) {
  return registry.providers.filter((p) => p.configured)
    .flatMap((p) => p.models.filter((m) => !m.auto && !isImageModel(m) && m.capabilities.vision === true));
}

/** Pictures can be attached: the model reads them, or another model can read them for it. */
export function canTakePictures(model, registry) {
  if (!model) return false;
  if (isImageModel(model)) return model.edits === true; // a picture sent to it is an edit
  if (!blind(model)) return !!model.capabilities?.vision;
  return readers(registry).length > 0;
}

/**
 * The model the server will let read the pictures, as it chooses (services.captions):
 * the user's own model for the vision task, the administrator's, else the first that
 * can see. `adminRef`: the administrator's choice, if known.
 */
export function likelyReader(registry, prefs, adminRef = null) {
  const all = readers(registry);
  for (const ref of [prefs?.settings?.task_models?.vision, adminRef]) {
    const found = ref && all.find((m) => m.ref === ref);
    if (found) return found;
  }
  return all[0] || null;
}

async function adminVisionRef() {
  try {
    return (await get("/api/task-defaults"))?.defaults?.vision || null;
  } catch {
    return null; // only a name in a sentence: the server still decides
  }
}

/**
 * What to send as `images_to` for a message with `images` pictures to `model`:
 * undefined when there is nothing to decide (the model sees, no pictures, or the
 * preference already says), "vision" or "describe" when the user chose, null when
 * they cancelled (the message is not sent). `onAsk()` is called as the question opens.
 */
export async function chooseImagesTo({ model, images, prefs, registry, onAsk = null }) {
  if (!images || !blind(model)) return undefined;
  const preference = prefs?.settings?.text_model_images || "ask";
  if (preference !== "ask") return undefined;
  const reader = likelyReader(registry, prefs, await adminVisionRef());
  const readerName = reader ? reader.name : "a model that can see pictures";
  const pictures = images === 1 ? "the picture" : "the pictures";
  onAsk?.();
  const value = await modal({
    title: `${model.name} can't see pictures`,
    body: [h("p.dialog-text", `How should ${pictures} in this message be handled?`),
      h("ul.dialog-text.choice-notes",
        h("li", h("strong", `Send to ${readerName}`), `: ${readerName} reads ${pictures} and answers this message; your chat stays with ${model.name}.`),
        h("li", h("strong", "Describe in words"), `: ${readerName} writes a description of ${pictures} and ${model.name} answers from it.`)),
      h("p.muted", "You can choose one for every time in Preferences.")],
    actions: [{ label: "Cancel", value: "cancel" },
      { label: "Describe in words", value: "describe" },
      { label: `Send to ${readerName}`, value: "vision", primary: true }],
    wide: true, // three buttons, one with a model's name, on one line
  });
  return value === "vision" || value === "describe" ? value : null;
}

// The server's words when a model that can see stood in (services/chat.py): refs, for
// logs and API callers. The page says the same with the models' names.
const READ_FOR = /^read by (\S+): (\S+) cannot see images$/;
const DESCRIBED_FOR = /^images described by (\S+): (\S+) cannot see images$/;

/** A turn warning about pictures in plain words (`nameOf`: a ref's display name), or
 * null for any other warning. */
export function pictureNote(warning, nameOf) {
  let match = READ_FOR.exec(warning);
  if (match) return `${nameOf(match[2])} can't see pictures, so ${nameOf(match[1])} read them and answered this message.`;
  match = DESCRIBED_FOR.exec(warning);
  if (match) return `${nameOf(match[2])} can't see pictures, so ${nameOf(match[1])} described them for it.`;
  return null;
}
