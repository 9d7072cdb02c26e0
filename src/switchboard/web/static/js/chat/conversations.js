// The conversation list in the sidebar: pinned ones first, the others grouped by day;
// searchable on the server, with pin, rename (inline) and delete; "Load more" pages with
// ?before=<id> (the server sends the pinned ones with the first page only).

import { get, patch, del } from "../api.js";
import { clear, h, icon } from "../dom.js";
import { dayBucket } from "../format.js";
import { confirmDialog, toast } from "../ui.js";

export function createConversationList({ list, search, onOpen, onDeleted, onRenamed }) {
  let items = [];
  let nextBefore = null;
  let activeId = null;
  let query = "";
  let loading = 0;
  // A title being typed (rename) is an input in place of its row: a redraw would throw it
  // away (an answer ending, a search coming back, a conversation updated meanwhile). The
  // list is redrawn once the rename is over instead.
  let renaming = false;
  let redraw = false;

  async function load({ more = false } = {}) {
    const ticket = ++loading;
    const params = new URLSearchParams({ limit: "30" });
    if (query) params.set("q", query);
    if (more && nextBefore) params.set("before", String(nextBefore));
    try {
      const page = await get(`/api/conversations?${params}`);
      if (ticket !== loading) return; // a newer search won
      items = more ? items.concat(page.items || []) : (page.items || []);
      nextBefore = page.next_before ?? null;
      render();
    } catch (err) {
      if (ticket !== loading) return;
      clear(list).append(h("div.conv-empty", `Could not load conversations: ${err.message}`));
    }
  }

  function itemView(conv) {
    const title = conv.title || "New chat";
    const link = h("a", {
      href: `/c/${conv.id}`, title,
      "aria-current": conv.id === activeId ? "page" : undefined,
      onclick: (event) => {
        if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
        event.preventDefault();
        onOpen(conv.id);
      },
    }, title);
    const pinLabel = conv.pinned ? "Unpin" : "Pin";
    const row = h(`div.conv-item${conv.id === activeId ? ".active" : ""}${conv.pinned ? ".pinned" : ""}`, { dataset: { id: conv.id } },
      link,
      h("div.conv-actions",
        h("button.icon-btn.pin-btn", { type: "button", "aria-label": `${pinLabel} “${title}”`, title: pinLabel, "aria-pressed": String(!!conv.pinned), onclick: () => setPinned(conv, !conv.pinned) }, icon("pin")),
        h("button.icon-btn", { type: "button", "aria-label": `Rename “${title}”`, title: "Rename", onclick: () => startRename(row, conv) }, icon("pencil")),
        h("button.icon-btn", { type: "button", "aria-label": `Delete “${title}”`, title: "Delete", onclick: () => remove(conv) }, icon("trash"))));
    return row;
  }

  function render() {
    if (renaming) { redraw = true; return; }
    redraw = false;
    clear(list);
    if (!items.length) {
      list.append(h("div.conv-empty", query ? "No conversation matches." : "No conversations yet. Say hello!"));
      return;
    }
    let group = null;
    let bucket = null;
    for (const conv of items) {
      const b = conv.pinned ? "Pinned" : dayBucket(conv.updated_at || conv.created_at);
      if (b !== bucket) {
        bucket = b;
        group = h("div.conv-group", h("h3", b));
        list.append(group);
      }
      group.append(itemView(conv));
    }
    if (nextBefore) {
      list.append(h("button.btn.btn-ghost.btn-sm.conv-more", { type: "button", onclick: () => load({ more: true }) }, "Load more"));
    }
  }

  function startRename(row, conv) {
    const input = h("input", { value: conv.title || "", "aria-label": "Conversation title", maxlength: "200" });
    row.replaceChildren(input);
    input.focus();
    input.select();
    renaming = true;
    let done = false;
    const finish = async (save) => {
      if (done) return;
      done = true;
      renaming = false;
      if (redraw) render(); // what changed meanwhile (the new title follows if saved)
      const title = input.value.trim();
      if (save && title && title !== conv.title) {
        try {
          const updated = await patch(`/api/conversations/${conv.id}`, { title });
          upsert(updated, { moveToTop: false });
          onRenamed(updated);
          return;
        } catch (err) {
          toast(err.message, "error");
        }
      }
      render();
    };
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") { event.preventDefault(); finish(true); }
      if (event.key === "Escape") { event.preventDefault(); event.stopPropagation(); finish(false); }
    });
    input.addEventListener("blur", () => finish(true));
  }

  async function setPinned(conv, pinned) {
    try {
      const updated = await patch(`/api/conversations/${conv.id}`, { pinned });
      items = items.filter((c) => c.id !== conv.id);
      if (pinned) items.unshift(updated);
      else items.splice(firstUnpinned(), 0, updated);
      render();
      toast(pinned ? "Pinned to the top of the list" : "Unpinned");
    } catch (err) {
      toast(err.message, "error");
    }
  }

  /** Where the unpinned conversations start (pinned ones stay on top). */
  function firstUnpinned() {
    const at = items.findIndex((c) => !c.pinned);
    return at < 0 ? items.length : at;
  }

  async function remove(conv) {
    const ok = await confirmDialog("Delete conversation?",
      `“${conv.title || "New chat"}” and all its messages will be deleted. This cannot be undone.`);
    if (!ok) return;
    try {
      await del(`/api/conversations/${conv.id}`);
      items = items.filter((c) => c.id !== conv.id);
      render();
      onDeleted(conv.id);
      toast("Conversation deleted");
    } catch (err) {
      toast(err.message, "error");
    }
  }

  /** A conversation changed (an answer, a rename). While a search is shown, one the
   * search found stays in its results (moved up as in the whole list: an answer's end
   * used to take it out of them), and one it did not find is not added (it may not
   * match). */
  function upsert(conv, { moveToTop = true } = {}) {
    const at = items.findIndex((c) => c.id === conv.id);
    if (at >= 0 && !moveToTop) items[at] = { ...items[at], ...conv };
    else if (at >= 0 || !query) {
      const pinned = at >= 0 ? items[at].pinned : conv.pinned;
      if (at >= 0) items.splice(at, 1);
      items.splice(pinned ? 0 : firstUnpinned(), 0, { ...conv, pinned: !!pinned });
    }
    render();
  }

  function setActive(id) {
    activeId = id;
    render();
  }

  let timer = 0;
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => { query = search.value.trim(); load(); }, 200);
  });
  search.addEventListener("keydown", (event) => {
    // the first Esc clears the search (and only that); the next one closes the drawer
    if (event.key === "Escape" && search.value) { event.preventDefault(); search.value = ""; query = ""; load(); }
  });

  return { load, upsert, setActive, remove: (id) => { items = items.filter((c) => c.id !== id); render(); } };
}
