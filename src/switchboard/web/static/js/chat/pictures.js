// Pictures in messages: thumbnails that open in a lightbox, a download button, and for
// a picture an image model drew, what it was drawn from (prompt, size) and its cost.
// A picture kept in the file store is read from the server by its content's name
// (decision 0141); the server serves it to its owner only.

import { h, icon } from "../dom.js";
import { formatCost } from "../format.js";

const SHA256 = /^[0-9a-f]{64}$/;
const EXTENSIONS = { "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif" };

/** Where a stored image part's bytes are read from (null: nothing safe to show). */
export function pictureSrc(part) {
  const sha = part?.file?.sha256;
  if (typeof sha === "string" && SHA256.test(sha)) return `/api/files/${sha}`;
  if (part?.data) return `data:${part.media_type || "image/png"};base64,${part.data}`;
  return part?.url && /^https?:\/\//i.test(part.url) ? part.url : null;
}

/** Where an attached file kept on the server is downloaded from, saved by its own name
 * (null: an older message carrying it inline, or none). */
export function fileHref(part) {
  const sha = part?.file?.sha256;
  if (typeof sha !== "string" || !SHA256.test(sha)) return null;
  return `/api/files/${sha}?name=${encodeURIComponent(part.filename || "attachment")}`;
}

/** The name a downloaded picture is saved as (its type's extension, not "image"). */
export function downloadName(part) {
  const stem = part.file?.sha256 ? `picture-${part.file.sha256.slice(0, 12)}` : "picture";
  return `${stem}.${EXTENSIONS[part.media_type] || "png"}`;
}

/** The picture full size above the page; Escape, the close button or a click closes it. */
export function openLightbox(src, caption, name) {
  const dialog = h("dialog.lightbox", { "aria-label": caption ? `Picture: ${caption}` : "Picture" },
    h("img", { src, alt: caption || "Picture" }),
    h("div.lightbox-bar",
      caption ? h("span.lightbox-caption", caption) : null,
      h("a.btn.btn-sm", { href: src, download: name }, icon("download"), "Download"),
      h("button.btn.btn-sm", { type: "button", "aria-label": "Close", onclick: () => dialog.close() }, icon("x"), "Close")));
  dialog.addEventListener("click", (event) => { if (event.target === dialog) dialog.close(); });
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

/** One picture of an answer: thumbnail (opens the lightbox), what it was drawn from,
 * and a download button. `cost`: the answer's cost, shown once for all its pictures. */
export function pictureCard(part, { cost } = {}) {
  const src = pictureSrc(part);
  if (!src) return null;
  const meta = part.meta || {};
  const name = downloadName(part);
  const described = meta.revised_prompt || meta.prompt || "";
  const facts = [meta.size, cost === undefined ? null : cost === null ? "cost unknown" : formatCost(cost)]
    .filter(Boolean).join(" · ");
  return h("figure.picture",
    h("button.picture-open", {
      type: "button", "aria-label": "Enlarge picture", title: "Enlarge",
      onclick: () => openLightbox(src, described, name),
    }, h("img", { src, alt: described ? `Picture: ${described}` : "Picture", loading: "lazy" })),
    h("figcaption",
      meta.prompt ? h("span.picture-prompt", meta.prompt) : null,
      facts ? h("span.picture-facts", facts) : null,
      h("a.btn.btn-ghost.btn-sm.picture-download", { href: src, download: name, "aria-label": "Download picture" },
        icon("download"), "Download")));
}

/** The pictures an image model drew among an answer's parts, in order (the ones a model
 * answered with among its text are shown in place: answers.js `inlinePictures`). */
export function picturesOf(message) {
  const images = (message.parts || []).filter((p) => p.type === "image" && p.meta);
  const cost = images.some((p) => p.meta) ? (message.cost ?? null) : undefined;
  return images.map((part, i) => pictureCard(part, { cost: i === 0 ? cost : undefined })).filter(Boolean);
}
