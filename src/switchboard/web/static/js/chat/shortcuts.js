// Keyboard shortcuts of the chat page: which key does what (pure, unit-tested), and the
// list the "?" overlay shows. Modified keys use Alt+Shift, which browsers leave to pages
// (Ctrl+Shift+letter is taken by Chrome and Firefox for their own windows and tools), and
// match the physical key (event.code): on a Mac, Option+Shift+N types a character.

export const SHORTCUTS = [
  { action: "newChat", keys: ["Alt", "Shift", "N"], label: "New chat" },
  { action: "focusComposer", keys: ["Shift", "Esc"], label: "Go to the message box", also: ["/"] },
  { action: "pickModel", keys: ["Alt", "Shift", "M"], label: "Choose a model" },
  { action: "copyLast", keys: ["Alt", "Shift", "C"], label: "Copy the last answer" },
  { action: "stop", keys: ["Esc"], label: "Stop the answer while it is written" },
  { action: "closeDrawer", keys: ["Esc"], label: "Close the conversation list (small screens)" },
  { action: "help", keys: ["?"], label: "Show these shortcuts", also: ["Ctrl", "/"] },
];

const ALT_SHIFT = { KeyN: "newChat", KeyM: "pickModel", KeyC: "copyLast" };

/**
 * The action for a keydown, or null to let the key do what it normally does.
 * `event`: {key, code, altKey, shiftKey, ctrlKey, metaKey}; `context`: {typing (focus
 * is in a text field), dialogOpen, drawerOpen, streaming}.
 */
export function shortcutFor(event, { typing = false, dialogOpen = false, drawerOpen = false, streaming = false } = {}) {
  const { key, code, altKey, shiftKey, ctrlKey, metaKey } = event;
  if (dialogOpen) return null; // the dialog handles its keys (Esc closes it)
  if (altKey && shiftKey && !ctrlKey && !metaKey && ALT_SHIFT[code]) return ALT_SHIFT[code];
  if (key === "Escape" && !altKey && !ctrlKey && !metaKey) {
    if (shiftKey) return "focusComposer";
    if (drawerOpen) return "closeDrawer";
    if (streaming) return "stop";
    return null;
  }
  if ((ctrlKey || metaKey) && !altKey && key === "/") return "help";
  if (typing || altKey || ctrlKey || metaKey) return null;
  if (key === "?") return "help";
  if (key === "/") return "focusComposer";
  return null;
}

/** True when keys typed now go into a text field (so "?" and "/" are text, not commands). */
export function isTyping(element) {
  if (!element) return false;
  if (element.isContentEditable) return true;
  const tag = element.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag !== "INPUT") return false;
  return !["checkbox", "radio", "button", "submit", "reset", "range", "file", "color"].includes(element.type);
}
