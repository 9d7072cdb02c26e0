// Provider logos: the admin's image_url when set, else a generated badge — initials on a
// colour derived from the provider kind, so every "openai" provider looks alike.

import { h } from "./dom.js";

const KIND_COLOURS = {
  offline: "#64748b",
  openai: "#10a37f",
  anthropic: "#d97757",
  mistral: "#f97316",
  gemini: "#4285f4",
  openai_compatible: "#8b5cf6",
};

function hashColour(text) {
  let hash = 0;
  for (const ch of text) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return `hsl(${hash % 360} 55% 48%)`;
}

export function kindColour(kind) {
  return KIND_COLOURS[kind] || hashColour(kind || "?");
}

function initials(name) {
  const words = String(name || "?").replace(/[_-]+/g, " ").trim().split(/\s+/);
  const letters = words.length > 1 ? words[0][0] + words[1][0] : words[0].slice(0, 2);
  return letters.toUpperCase();
}

/** A round logo for a provider ({name, kind, display_name?, image_url?}). */
export function providerBadge(provider, size = "md") {
  const label = provider?.display_name || provider?.name || provider?.kind || "?";
  const badge = h(`span.pbadge.pbadge-${size}`, { title: label, "aria-hidden": "true" });
  badge.style.setProperty("--badge", kindColour(provider?.kind));
  const fallback = () => { badge.textContent = initials(provider?.name || label); };
  const url = provider?.image_url;
  if (url && /^(https?:\/\/|\/)/i.test(url)) {
    const img = h("img", { src: url, alt: "", loading: "lazy", referrerpolicy: "no-referrer" });
    img.addEventListener("error", () => { img.remove(); badge.classList.remove("has-img"); fallback(); });
    badge.classList.add("has-img");
    badge.append(img);
  } else {
    fallback();
  }
  return badge;
}
