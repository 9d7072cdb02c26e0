// Capability badges and prices shown in the model selector and settings.

import { h, icon } from "../dom.js";
import { formatPrice } from "../format.js";

export const CAPABILITIES = [
  ["streaming", "Streaming", "zap"],
  ["tools", "Tools", "wrench"],
  ["vision", "Vision", "eye"],
  ["image_output", "Image output", "image"],
  ["reasoning", "Reasoning", "brain"],
  ["json_output", "JSON", "braces"],
];

export function capabilityBadges(caps, only = ["streaming", "tools", "vision", "image_output"]) {
  return CAPABILITIES.filter(([key]) => only.includes(key) && caps?.[key])
    .map(([key, label, name]) => h(`span.cap.cap-${key}`, { title: label }, icon(name), label));
}

export function priceLabel(price) {
  const input = formatPrice(price?.input);
  const output = formatPrice(price?.output);
  if (!input && !output) return null;
  return h("span.mprice-inner",
    h("strong", `${input ?? "?"} / ${output ?? "?"}`), h("br"), "per 1M in / out");
}
