// THE escaper: every piece of model or user text that reaches innerHTML has been through
// escapeHtml first. unescapeHtml is its exact inverse, used only to re-tokenise text that
// is escaped again afterwards (highlight.js) or to check a link's scheme.

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const UNESCAPES = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'" };

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

export function unescapeHtml(text) {
  return String(text).replace(/&(amp|lt|gt|quot|#39);/g, (e) => UNESCAPES[e]);
}
