// The model selector in the chat header: models grouped by provider (logo or badge),
// a search box and a provider filter, capability badges, prices per million tokens,
// greyed models of providers without a key (with a "Configure API key" action), the
// global default marked. Keyboard: arrows move, Enter picks, Esc closes.
// Above them, up to three models suggested for what is being typed, from the user's own
// use, each with its reason (chat/suggestions.js); hidden while searching or filtering.

import { providerBadge } from "../badges.js";
import { $$, clear, h, icon } from "../dom.js";
import { capabilityBadges, priceLabel } from "./caps.js";
import { TASK_WORDS } from "./messages.js";
import { isImageModel, state } from "./store.js";

export function createModelPicker({ button, popover, onSelect, suggestions = null }) {
  let query = "";
  let providerFilter = null;
  let search = null;
  let list = null;

  function renderButton() {
    const model = state.selected;
    const badgeSlot = button.querySelector("#model-button-badge");
    const name = button.querySelector("#model-button-name");
    clear(badgeSlot);
    if (model) {
      badgeSlot.append(providerBadge(model.provider, "sm"));
      name.textContent = model.name;
      button.setAttribute("aria-label", `Model: ${model.name} (${model.provider.display_name || model.provider.name}). Change model`);
    } else {
      name.textContent = state.registry.providers.length ? "Choose a model" : "No models available";
      button.setAttribute("aria-label", "Choose a model");
    }
  }

  function matches(model) {
    if (providerFilter !== null && model.provider.id !== providerFilter) return false;
    if (!query) return true;
    const hay = `${model.name} ${model.model_sdk_id} ${model.provider.name} ${model.provider.display_name || ""}`.toLowerCase();
    return query.split(/\s+/).every((word) => hay.includes(word));
  }

  function modelRow(model, reason = null) {
    const configured = model.provider.configured;
    const selected = state.selected?.ref === model.ref;
    const price = priceLabel(model.price);
    return h(`button.model-row${reason ? ".suggested-row" : ""}`, {
      // a suggestion is the same model again: it is never "the" selected row, and it
      // is found by data-suggested (data-ref stays unique to the catalog's row)
      type: "button", role: "option", "aria-selected": selected && !reason ? "true" : "false",
      disabled: !configured, dataset: reason ? { suggested: model.ref } : { ref: model.ref },
      title: configured ? model.model_sdk_id : `${model.provider.display_name || model.provider.name} has no API key yet`,
      onclick: () => {
        close();
        if (reason) suggestions?.take(model.ref);
        onSelect(model);
      },
    },
    h("span.mname", h("span", model.name),
      model.is_default ? h("span.default-tag", { title: "Global default model" }, icon("star"), "Default") : null,
      selected ? icon("check", "check") : null),
    price ? h("span.mprice", price) : null,
    reason
      ? h("span.msub", h("span.mreason", reason))
      : h("span.msub", h("span.msdk", model.model_sdk_id), capabilityBadges(model.capabilities)));
  }

  // The suggestions for the draft's task type, first; only on the full list (a search
  // or a provider filter says the user is looking for something else).
  function renderSuggested() {
    const { task, items } = suggestions?.current() || { items: [] };
    if (!items.length || query || providerFilter !== null) return;
    list.append(h("div.picker-group.picker-suggested", { role: "group", "aria-label": "Suggested for you" },
      h("div.picker-group-head", icon("sparkles"),
        h("span.group-name", `Suggested for ${TASK_WORDS[task] || "this message"}`, h("small", "from what you use"))),
      items.map(({ model, reason }) => modelRow(model, reason))));
    suggestions.markShown();
  }

  function groupHead(provider) {
    const label = provider.display_name && provider.display_name !== provider.name
      ? h("small", provider.display_name) : null;
    let action = null;
    if (!provider.configured) {
      action = state.isAdmin
        ? h("a.btn.btn-sm", { href: `/settings/providers#provider-${provider.id}` }, icon("key"), "Configure API key")
        : h("span.chip.chip-warn", { title: "Ask an administrator to add this provider's API key" }, "No API key");
    }
    return h("div.picker-group-head", providerBadge(provider, "sm"),
      h("span.group-name", provider.name, label), action);
  }

  // Chat models first, grouped by provider; then a section of image models, which
  // answer a message with pictures drawn from it.
  function renderSection(kind) {
    let count = 0;
    for (const provider of state.registry.providers) {
      const models = provider.models.filter((m) => matches(m) && isImageModel(m) === (kind === "image"));
      if (!models.length) continue;
      if (kind === "image" && !count) {
        list.append(h("div.picker-section-head", { id: "picker-image-models" }, icon("image"), "Image models",
          h("small", "Answer with pictures drawn from your message")));
      }
      count += models.length;
      list.append(h("div.picker-group", { role: "group", "aria-label": kind === "image" ? `${provider.name} image models` : provider.name },
        groupHead(provider), models.map((model) => modelRow(model))));
    }
    return count;
  }

  function renderList() {
    clear(list);
    renderSuggested();
    const count = renderSection("chat") + renderSection("image");
    if (!count) {
      list.append(h("div.picker-empty", state.registry.loading ? "Loading models…"
        : state.registry.providers.length ? "No model matches your search."
          : "No models are enabled yet."));
    }
  }

  function renderFilters() {
    const chip = (label, id, badge) => h(`button.filter-chip${id === null ? ".all" : ""}`, {
      type: "button", "aria-pressed": providerFilter === id ? "true" : "false",
      onclick: () => { providerFilter = id; renderList(); },
    }, badge, label);
    return h("div.picker-filters", { role: "toolbar", "aria-label": "Filter by provider" },
      chip("All", null, null),
      state.registry.providers.map((p) => chip(p.name, p.id, providerBadge(p, "xs"))));
  }

  function build() {
    search = h("input", {
      type: "search", placeholder: "Search models", "aria-label": "Search models",
      autocomplete: "off", value: query,
    });
    search.addEventListener("input", () => { query = search.value.trim().toLowerCase(); renderList(); });
    list = h("div.picker-list", { role: "listbox", "aria-label": "Models" });
    const filters = h("div", renderFilters());
    popover.replaceChildren(h("div.picker-top", search, filters), list);
    renderList();
  }

  function refreshFilters() {
    const filters = popover.querySelector(".picker-top > div");
    if (filters) filters.replaceChildren(renderFilters());
  }

  function isOpen() { return !popover.hidden; }

  function open() {
    build();
    popover.hidden = false;
    button.setAttribute("aria-expanded", "true");
    search.focus();
    // the suggestions are at the top: the list stays there when there are some
    if (!popover.querySelector(".picker-suggested")) {
      popover.querySelector('[aria-selected="true"]')?.scrollIntoView({ block: "nearest" });
    }
  }

  function close({ focus = false } = {}) {
    if (!isOpen()) return;
    popover.hidden = true;
    button.setAttribute("aria-expanded", "false");
    if (focus) button.focus();
  }

  button.addEventListener("click", () => (isOpen() ? close() : open()));
  document.addEventListener("pointerdown", (event) => {
    if (isOpen() && !popover.contains(event.target) && !button.contains(event.target)) close();
  });
  popover.addEventListener("click", (event) => {
    if (event.target.closest(".filter-chip")) refreshFilters();
  });
  popover.addEventListener("keydown", (event) => {
    if (event.key === "Escape") { event.preventDefault(); event.stopPropagation(); close({ focus: true }); return; }
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    event.preventDefault();
    const rows = $$(".model-row:not(:disabled)", popover);
    if (!rows.length) return;
    const at = rows.indexOf(document.activeElement);
    const next = event.key === "ArrowDown" ? Math.min(at + 1, rows.length - 1) : at - 1;
    if (next < 0) search.focus(); else rows[next].focus();
  });
  popover.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target === search) {
      event.preventDefault();
      popover.querySelector(".model-row:not(:disabled)")?.click();
    }
  });

  /** The suggestions or the models changed: redraw the list if it is open (a picker
   * opened while the page was still loading the models shows them once they arrive;
   * it used to stay empty, and the model clicked next was never found). */
  function refresh() {
    if (!isOpen()) return;
    const had = !!list.querySelector(".picker-suggested");
    refreshFilters();
    renderList();
    // suggestions that arrive while it is open are shown: the list goes back to the top
    if (!had && list.querySelector(".picker-suggested")) list.scrollTop = 0;
  }

  return { renderButton, open, close, isOpen, refresh };
}
