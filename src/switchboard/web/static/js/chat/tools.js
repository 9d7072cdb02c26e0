// The composer's tools menu as data: which tools the page offers (GET /api/tools: what
// this person may use) and which are switched on for the next messages. No DOM, no I/O.
//
// A tool starts switched on when the administrator made it "on in new chats"
// (default_on). The list may be missing (an older server, a failed request): then the
// menu is not shown and messages carry no tools.

/** The tools the page can offer, from GET /api/tools' body (anything else: none). */
export function offeredTools(body) {
  const data = Array.isArray(body?.data) ? body.data : [];
  return data.filter((t) => t && typeof t.name === "string" && t.policy !== "deny")
    .map((t) => ({ name: t.name, description: t.description || "", asks: t.policy === "ask", defaultOn: !!t.default_on }));
}

/** The names switched on at first. */
export const initialSelection = (tools) => new Set(tools.filter((t) => t.defaultOn).map((t) => t.name));

/** The names switched on for a conversation: the ones it remembers (its `tools`, saved
 * with each message and each change of the menu) that are still offered; a new chat, or
 * one that never chose, starts from the defaults. */
export function conversationSelection(conversation, tools) {
  if (!Array.isArray(conversation?.tools)) return initialSelection(tools);
  const offered = new Set(tools.map((t) => t.name));
  return new Set(conversation.tools.filter((n) => offered.has(n)));
}

/** The selection with `name` switched (a new Set: the old one is left as it was). */
export function toggled(selected, name) {
  const next = new Set(selected);
  if (next.has(name)) next.delete(name);
  else next.add(name);
  return next;
}

/** The chat request's `tools`: the switched-on names the page still offers, in the
 * menu's order (null when none: the field is left out). */
export function requestTools(selected, tools) {
  const names = tools.map((t) => t.name).filter((n) => selected.has(n));
  return names.length ? names : null;
}

/** The menu button's words. */
export function toolsLabel(selected, tools) {
  const on = tools.filter((t) => selected.has(t.name)).length;
  return on ? `Tools (${on})` : "Tools";
}

/** A tool's name as people read it ("fetch_url" → "Fetch url"; "server.tool" stays). */
export const toolTitle = (name) => name.includes(".") ? name : (name.charAt(0).toUpperCase() + name.slice(1)).replaceAll("_", " ");
