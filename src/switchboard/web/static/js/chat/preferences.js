// The gear dialog: default model, theme, what happens to pictures sent to a model that
// cannot see them (chat/image-choice.js), and an "Advanced" section (temperature, max
// tokens, system prompt). Saved on the server (PUT /api/me/preferences), so they follow
// the user to every device; the theme is also cached locally to avoid a flash on load.

import { put } from "../api.js";
import { $, $$, clear, h } from "../dom.js";
import { toast } from "../ui.js";
import { TASK_WORDS } from "./messages.js";
import { state } from "./store.js";

export function applyTheme(theme) {
  const value = ["light", "dark", "system"].includes(theme) ? theme : "system";
  document.documentElement.dataset.theme = value;
  try { localStorage.setItem("sb-theme", value); } catch { /* private mode */ }
}

/** Save the whole preferences document (the server validates the model ref). */
export async function savePreferences(next) {
  const saved = await put("/api/me/preferences", next);
  state.prefs = normalizePrefs(saved || next);
  return state.prefs;
}

export function normalizePrefs(data) {
  const settings = { ...(data?.settings || {}) };
  settings.theme = settings.theme || "system";
  settings.advanced = { ...(settings.advanced || {}) };
  return { selected_model: data?.selected_model ?? null, settings };
}

export function createPreferencesDialog({ onSaved }) {
  const dialog = $("#prefs-dialog");
  const form = $("#prefs-form");
  const model = $("#pref-model");
  const temp = $("#pref-temp");
  const tempOut = $("#pref-temp-out");
  const max = $("#pref-max");
  const system = $("#pref-system");
  const error = $("#prefs-error");
  let tempSet = false;

  const showTemp = () => { tempOut.textContent = tempSet ? Number(temp.value).toFixed(1) : "default"; };
  temp.addEventListener("input", () => { tempSet = true; showTemp(); });
  $("#pref-temp-reset").addEventListener("click", () => { tempSet = false; temp.value = "1"; showTemp(); });
  for (const radio of $$('input[name="theme"]', form)) {
    radio.addEventListener("change", () => applyTheme(radio.value)); // live preview
  }

  function fill() {
    clear(model);
    for (const provider of state.registry.providers) {
      const group = h("optgroup", { label: provider.configured ? provider.name : `${provider.name} (no API key)` });
      for (const m of provider.models) {
        const option = h("option", { value: m.ref, disabled: !provider.configured }, `${m.name}${m.is_default ? " — default" : ""}`);
        group.append(option);
      }
      model.append(group);
    }
    // the default model, not the model of the open chat
    model.value = state.prefs.selected_model || state.registry.defaultRef || "";
    const { theme, advanced } = state.prefs.settings;
    for (const radio of $$('input[name="theme"]', form)) radio.checked = radio.value === theme;
    const pictures = state.prefs.settings.text_model_images || "ask";
    for (const radio of $$('input[name="text_model_images"]', form)) radio.checked = radio.value === pictures;
    tempSet = advanced.temperature !== undefined && advanced.temperature !== null && advanced.temperature !== "";
    temp.value = tempSet ? String(advanced.temperature) : "1";
    showTemp();
    max.value = advanced.max_output_tokens ?? "";
    system.value = advanced.system_prompt ?? "";
    $("#pref-advanced").open = tempSet || !!max.value || !!system.value;
    fillTasks();
    error.hidden = true;
  }

  // Auto: one picker per task type, "your administrator's choice" by default.
  const tasks = $("#pref-task-models");
  function fillTasks() {
    const chosen = state.prefs.settings.task_models || {};
    const models = state.registry.providers.filter((p) => p.configured)
      .flatMap((p) => p.models.filter((m) => !m.auto).map((m) => ({ ref: m.ref, label: `${m.name} (${p.name})` })));
    tasks.replaceChildren(...Object.entries(TASK_WORDS).map(([task, words]) => {
      const sel = h("select", { name: `task_${task}`, dataset: { task } },
        h("option", { value: "" }, "Your administrator's choice"),
        ...models.map((m) => h("option", { value: m.ref }, m.label)));
      sel.value = chosen[task] && models.some((m) => m.ref === chosen[task]) ? chosen[task] : "";
      return h("label.field", h("span", `For ${words}`), sel);
    }));
    $("#pref-tasks").open = Object.keys(chosen).length > 0;
  }

  function taskModels() {
    const picked = {};
    for (const sel of $$("select[data-task]", tasks)) if (sel.value) picked[sel.dataset.task] = sel.value;
    return picked;
  }

  form.addEventListener("submit", async (event) => {
    if (event.submitter?.value !== "save") return;
    event.preventDefault();
    const advanced = {};
    if (tempSet) advanced.temperature = Number(temp.value);
    if (max.value) {
      const n = Number(max.value);
      if (!Number.isInteger(n) || n < 1) {
        error.textContent = "Max output tokens must be a whole number above 0 (or empty for the model's default).";
        error.hidden = false;
        max.focus();
        return;
      }
      advanced.max_output_tokens = n;
    }
    if (system.value.trim()) advanced.system_prompt = system.value;
    const theme = $('input[name="theme"]:checked', form)?.value || "system";
    const pictures = $('input[name="text_model_images"]:checked', form)?.value || "ask";
    const next = {
      selected_model: model.value || null,
      settings: { ...state.prefs.settings, theme, advanced, task_models: taskModels(), text_model_images: pictures },
    };
    const defaultChanged = next.selected_model !== state.prefs.selected_model;
    try {
      await savePreferences(next);
      applyTheme(theme);
      dialog.close("save");
      toast("Preferences saved");
      onSaved({ defaultChanged });
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    }
  });

  dialog.addEventListener("close", () => {
    if (dialog.returnValue !== "save") applyTheme(state.prefs.settings.theme); // undo preview
  });

  return {
    open() {
      fill();
      dialog.showModal();
      model.focus();
    },
  };
}
