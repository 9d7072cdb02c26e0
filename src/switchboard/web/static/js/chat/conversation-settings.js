// The conversation settings dialog (chat header): its name, its own instructions (a system
// prompt that replaces the one in Preferences for this conversation only), and downloads
// of the conversation as Markdown or JSON.

import { h } from "../dom.js";
import { modal } from "../ui.js";

/** Which instructions a conversation uses, in words. */
export function instructionsSource(conversation, preference) {
  if (conversation?.system_prompt) return "This conversation uses its own instructions.";
  if (preference) return "This conversation uses the system prompt from your Preferences.";
  return "This conversation has no instructions: the model's defaults apply.";
}

/**
 * Open the dialog; resolves with the updated conversation after Save, else a falsy value.
 * `save(changes)` sends {title?, system_prompt?} (an empty prompt goes back to Preferences).
 */
export function conversationSettings(conversation, { preference, save }) {
  const title = h("input", { name: "title", maxlength: "200", value: conversation.title || "", required: true });
  const prompt = h("textarea", { name: "system_prompt", rows: "5", placeholder: preference || "e.g. Answer in French, briefly." });
  prompt.value = conversation.system_prompt || "";
  const source = h("small.muted.prompt-source", instructionsSource(conversation, preference));
  const download = (format, label) => h("a.btn.btn-sm", {
    href: `/api/conversations/${conversation.id}/export?format=${format}`, download: "",
  }, label);
  return modal({
    title: "Conversation settings",
    body: [
      h("label.field", h("span", "Name"), title),
      h("label.field", h("span", "Instructions for this conversation"), prompt,
        h("small.muted", "Replaces the system prompt from your Preferences in this conversation only. Leave empty to use your Preferences."),
        source),
      h("div.field", h("span", "Download"), h("div.export-actions",
        download("markdown", "Markdown"), download("json", "JSON"))),
    ],
    actions: [{ label: "Cancel", value: "cancel" }, { label: "Save", value: "save", primary: true }],
    onSubmit: async () => {
      const changes = {};
      const name = title.value.trim();
      if (name && name !== (conversation.title || "")) changes.title = name;
      const instructions = prompt.value.trim();
      if (instructions !== (conversation.system_prompt || "")) changes.system_prompt = instructions || null;
      if (!Object.keys(changes).length) return conversation;
      return save(changes);
    },
  });
}
