// Settings → Models: per provider, the models with name, SDK id, capabilities, prices,
// enabled and default; add, edit, delete, enable/disable, set as global default, and
// "Import models from provider" (the vendor's model list). Editing a model also sets its
// fallback models: the ones that answer, in order, when it fails or is too slow to start.

import { del, get, post, put } from "../api.js";
import { $, h, icon } from "../dom.js";
import { formatInt, formatPrice } from "../format.js";
import { banner, confirmDialog, field, modal, toast, toggle } from "../ui.js";
import { CAPABILITIES, capabilityBadges } from "../chat/caps.js";

const select = $("#model-provider");
const tbody = $("#models-table tbody");
const info = $("#model-provider-info");
let providers = [];
let models = [];

const current = () => providers.find((p) => String(p.id) === select.value);

async function loadProviders() {
  providers = await get("/api/config/providers");
  const wanted = new URLSearchParams(location.search).get("provider");
  select.replaceChildren(...providers.map((p) => h("option", { value: p.id },
    `${p.name}${p.enabled ? "" : " (disabled)"}`)));
  if (wanted && providers.some((p) => String(p.id) === wanted)) select.value = wanted;
}

async function loadModels() {
  const p = current();
  if (!p) { tbody.replaceChildren(h("tr", h("td.empty", { colspan: 7 }, "Add a provider first."))); return; }
  info.textContent = `${p.display_name || p.kind}${p.enabled ? "" : " · disabled: its models are hidden from the chat"}`;
  try {
    models = await get(`/api/config/models/provider/${p.id}`);
    render();
  } catch (err) {
    banner("#banner-slot", err.message, { title: "Could not load the models" });
  }
}

/** An embedding model turns text into vectors for other programs (search, RAG): it has
 * no chat capabilities, is never offered in the chat, and cannot be the default. */
function embeddingChip(m) {
  const dims = m.embedding?.dimensions;
  return h("span.chip", { title: "Turns text into vectors for search and retrieval; not offered in the chat" },
    dims ? `Embeddings · ${dims} dimensions` : "Embeddings");
}

function row(m) {
  const embedding = m.model_type === "embedding";
  const defaultCell = m.is_default
    ? h("span.chip.chip-accent.default-star", { title: "Global default model" }, icon("star"), "Default")
    : embedding ? h("span.muted", { title: "An embedding model cannot answer chats" }, "—")
    : h("button.btn.btn-sm.btn-ghost", { type: "button", onclick: () => setDefault(m), title: `Make ${m.name} the global default` }, "Set default");
  return h(`tr${m.is_enabled ? "" : ".is-disabled"}`, { dataset: { id: m.id, sdk: m.model_sdk_id } },
    h("td", h("div.model-cell", h("strong", m.name), h("code", m.model_sdk_id))),
    h("td", h("div.caps-cell", embedding ? embeddingChip(m) : capabilityBadges(m.capabilities, CAPABILITIES.map(([k]) => k)))),
    h("td.num", formatPrice(m.price?.input) ?? "—"),
    h("td.num", formatPrice(m.price?.output) ?? "—"),
    h("td", toggle(m.is_enabled, `Enable ${m.name}`, (on, input) => update(m, { is_enabled: on }, input))),
    h("td", defaultCell),
    h("td.actions",
      h("button.icon-btn", { type: "button", title: "Edit", "aria-label": `Edit ${m.name}`, onclick: () => form(m) }, icon("pencil")),
      h("button.icon-btn", { type: "button", title: "Delete", "aria-label": `Delete ${m.name}`, onclick: () => remove(m) }, icon("trash"))));
}

function render() {
  $("#models-table").setAttribute("aria-busy", "false");
  if (!models.length) {
    tbody.replaceChildren(h("tr", h("td.empty", { colspan: 7 }, "No models yet. Import them from the provider, or add one by hand.")));
    return;
  }
  tbody.replaceChildren(...models.map(row));
}

async function update(m, body, input) {
  try {
    const updated = await put(`/api/config/models/${m.id}`, body);
    models = models.map((x) => (x.id === m.id ? updated : x));
    render();
  } catch (err) {
    if (input) input.checked = !input.checked;
    toast(err.message, "error");
  }
}

async function setDefault(m) {
  try {
    await post(`/api/config/models/${m.id}/set-default`);
    toast(`${m.name} is now the global default`);
    await loadModels();
  } catch (err) {
    toast(err.message, "error");
  }
}

async function remove(m) {
  if (!await confirmDialog(`Delete ${m.name}?`, "People will no longer be able to choose this model. Past messages keep their history.")) return;
  try {
    await del(`/api/config/models/${m.id}`);
    models = models.filter((x) => x.id !== m.id);
    render();
    toast(`${m.name} deleted`);
  } catch (err) {
    toast(err.message, "error");
  }
}

const MAX_FALLBACKS = 5;

// Up to MAX_FALLBACKS pickers, in order; each offers every model people can choose
// (GET /api/model-registry) except this one. Empty pickers are ignored.
async function fallbackPickers(m) {
  let registry;
  try {
    registry = await get("/api/model-registry");
  } catch {
    return null;
  }
  const itself = m.ref;
  const choices = registry.providers.flatMap((prov) => prov.models
    .filter((x) => x.ref !== itself)
    .map((x) => ({ ref: x.ref, label: `${x.name} (${prov.name})` })));
  const chosen = m.fallbacks || [];
  const pickers = Array.from({ length: MAX_FALLBACKS }, (_, i) => {
    const sel = h("select", { name: `fallback_${i}`, "aria-label": `Fallback model ${i + 1}` },
      h("option", { value: "" }, i === 0 ? "None" : "—"),
      ...choices.map((c) => h("option", { value: c.ref }, c.label)));
    const ref = chosen[i];
    if (ref && !choices.some((c) => c.ref === ref)) sel.append(h("option", { value: ref }, `${ref} (not available now)`));
    sel.value = ref || "";
    return sel;
  });
  return pickers;
}

async function form(m = null) {
  const p = current();
  if (!p) return;
  const pickers = m ? await fallbackPickers(m) : null;
  const inp = (name, attrs = {}) => h("input", { name, ...attrs });
  const sdk = inp("model_sdk_id", { value: m?.model_sdk_id || "", required: true, placeholder: "e.g. gpt-4o-mini", disabled: !!m });
  const name = inp("name", { value: m?.name || "", placeholder: "Display name (optional)" });
  const ctx = inp("context_window", { type: "number", min: 1, value: m?.context_window ?? "" });
  const maxOut = inp("max_output_tokens", { type: "number", min: 1, value: m?.max_output_tokens ?? "" });
  const price = (key, label) => field(label, inp(`price_${key}`, { type: "number", min: 0, step: "any", value: m?.price?.[key] ?? "", placeholder: "$ per 1M tokens" }));
  // Tri-state (decision 0036): checked = it can, unchecked = it cannot (such requests are
  // refused before the call), a dash = not known (the vendor decides). A click makes an
  // unknown capability known; a new model starts with everything unknown but streaming.
  const caps = CAPABILITIES.map(([key, label]) => {
    const box = h("input", { type: "checkbox", name: `cap_${key}` });
    const known = m ? m.capabilities?.[key] : (key === "streaming" ? true : null);
    box.checked = known === true;
    box.indeterminate = known === null || known === undefined;
    box.title = box.indeterminate ? "Not known: the provider decides" : "";
    return h("label", box, label);
  });
  const enabled = h("input", { type: "checkbox", name: "is_enabled" });
  enabled.checked = m ? m.is_enabled : true;
  const description = h("textarea", { name: "description", rows: 2 });
  description.value = m?.description || "";
  await modal({
    title: m ? `Edit ${m.name}` : `Add a model to ${p.name}`,
    wide: true,
    body: [h("div.form-grid",
      field("Model SDK id", sdk, "The id the vendor's API expects."), field("Name", name),
      h("fieldset.field.span-2", h("legend", "Capabilities"), h("div.checks", caps),
        h("small.muted", "A dash means not known: requests that need it are passed to the provider, which decides.")),
      field("Context window", ctx), field("Max output tokens", maxOut),
      price("input", "Input price"), price("output", "Output price"),
      price("cached_input", "Cached input price"), price("cache_write", "Cache write price"),
      h("div.span-2", field("Description", description)),
      pickers ? h("fieldset.field.span-2.fallbacks", h("legend", "Fallback models"),
        h("div.fallback-list", pickers),
        h("small.muted", "If this model fails or takes too long to start answering, the first of these answers instead, then the next.")) : null,
      h("label.span-2.checks", h("label", enabled, "Enabled (people can choose it)")))],
    actions: [{ label: "Cancel", value: "cancel" }, { label: m ? "Save" : "Add model", value: "save", primary: true }],
    onSubmit: async (_, formEl) => {
      const num = (el) => (el.value === "" ? null : Number(el.value));
      const dec = (key) => {
        const v = formEl.querySelector(`[name=price_${key}]`).value;
        return v === "" ? null : v;
      };
      const body = {
        name: name.value.trim() || null,
        is_enabled: enabled.checked,
        capabilities: Object.fromEntries(CAPABILITIES.map(([key]) => {
          const box = formEl.querySelector(`[name=cap_${key}]`);
          return [key, box.indeterminate ? null : box.checked];
        })),
        context_window: num(ctx), max_output_tokens: num(maxOut),
        price_input: dec("input"), price_output: dec("output"),
        price_cached_input: dec("cached_input"), price_cache_write: dec("cache_write"),
        description: description.value.trim() || null,
      };
      if (pickers) body.fallbacks = pickers.map((sel) => sel.value).filter(Boolean);
      if (m) {
        const updated = await put(`/api/config/models/${m.id}`, body);
        models = models.map((x) => (x.id === m.id ? updated : x));
      } else {
        if (!body.name) delete body.name;
        const created = await post("/api/config/models", { ...body, provider_id: p.id, model_sdk_id: sdk.value.trim() });
        models.push(created);
      }
      render();
      toast("Model saved");
    },
  });
}

async function importModels() {
  const p = current();
  if (!p) return;
  const button = $("#import-models");
  button.disabled = true;
  try {
    const result = await post(`/api/config/providers/${p.id}/import-models`);
    toast(`Imported from ${p.name}: ${formatInt(result.imported)} new, ${formatInt(result.updated)} updated`);
    await loadModels();
  } catch (err) {
    banner("#banner-slot", err.message, { title: `Could not import the models of ${p.name}` });
  } finally {
    button.disabled = false;
  }
}

select.addEventListener("change", () => {
  history.replaceState(null, "", `?provider=${select.value}`);
  loadModels();
});
$("#add-model").addEventListener("click", () => form());
$("#import-models").addEventListener("click", importModels);

// ---------------------------------------------------------------- default model per task
// One picker per task type (GET/PUT /api/task-defaults); a change is saved at once.
const TASK_LABELS = {
  code: "Code", writing: "Writing", analysis: "Analysis", chat: "Conversation",
  summarize: "Summaries", translation: "Translation", math: "Maths",
  extraction: "Extracting facts", brainstorming: "Ideas", qa: "Factual questions",
  vision: "Reading images", image: "Making images",
};

async function taskDefaults() {
  const formEl = $("#task-defaults-form");
  let saved;
  let registry;
  try {
    [saved, registry] = await Promise.all([get("/api/task-defaults"), get("/api/model-registry")]);
  } catch (err) {
    banner("#banner-slot", err.message, { title: "Could not load the defaults per task" });
    return;
  }
  const choices = registry.providers.flatMap((prov) => prov.models
    .filter((x) => (x.type || "chat") === "chat")
    .map((x) => ({ ref: x.ref, label: `${x.name} (${prov.name})` })));
  formEl.replaceChildren(...saved.task_types.map((task) => {
    const label = TASK_LABELS[task] || task;
    const sel = h("select", { name: task, "aria-label": `Default model for ${label}` },
      h("option", { value: "" }, "Global default"),
      ...choices.map((c) => h("option", { value: c.ref }, c.label)));
    const ref = saved.defaults[task];
    if (ref && !choices.some((c) => c.ref === ref)) sel.append(h("option", { value: ref }, `${ref} (not available now)`));
    sel.value = ref || "";
    sel.addEventListener("change", async () => {
      try {
        await put("/api/task-defaults", { defaults: { [task]: sel.value || null } });
        toast(`${label}: ${sel.value ? sel.selectedOptions[0].textContent : "the global default"} answers when Auto is chosen`);
      } catch (err) {
        banner("#banner-slot", err.message, { title: `Could not save the default for ${label}` });
      }
    });
    return h("label.field", h("span", label), sel);
  }));
}

(async () => {
  taskDefaults();
  try {
    await loadProviders();
    await loadModels();
  } catch (err) {
    banner("#banner-slot", err.message, { title: "Could not load providers" });
  }
})();
