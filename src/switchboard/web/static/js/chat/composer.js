// The composer: auto-growing textarea (Enter sends, Shift+Enter adds a line), image
// attachments (button, paste, drag and drop) for vision-capable models, and the send
// button that turns into a stop button while an answer streams.

import { h, icon } from "../dom.js";
import { toast } from "../ui.js";

const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
const IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif"];

export function createComposer({ form, textarea, sendButton, attachButton, fileInput, tray, box, onSend, onStop, canAttach }) {
  let images = []; // {media_type, data, url, name}
  let streaming = false;

  const autosize = () => {
    textarea.style.height = "auto";
    textarea.style.height = `${Math.min(textarea.scrollHeight, window.innerHeight * 0.4)}px`;
  };

  function refresh() {
    const empty = !textarea.value.trim() && !images.length;
    sendButton.classList.toggle("stop", streaming);
    sendButton.replaceChildren(icon(streaming ? "stop" : "send"));
    sendButton.setAttribute("aria-label", streaming ? "Stop answering" : "Send message");
    sendButton.title = streaming ? "Stop (Esc)" : "Send (Enter)";
    sendButton.disabled = !streaming && empty;
    const allowed = canAttach();
    attachButton.disabled = !allowed;
    attachButton.title = allowed ? "Attach images" : "The selected model cannot read images";
    attachButton.setAttribute("aria-label", attachButton.title);
  }

  function renderTray() {
    tray.replaceChildren(...images.map((img, index) => h("div.attachment",
      h("img", { src: img.url, alt: img.name || "Attached image" }),
      h("button", {
        type: "button", "aria-label": `Remove ${img.name || "image"}`,
        onclick: () => { images.splice(index, 1); renderTray(); refresh(); },
      }, icon("x")))));
  }

  async function addFiles(files) {
    for (const file of files) {
      if (!IMAGE_TYPES.includes(file.type)) {
        toast(`${file.name || "That file"} is not a PNG, JPEG, WebP or GIF image.`, "error");
        continue;
      }
      if (file.size > MAX_IMAGE_BYTES) {
        toast(`${file.name} is larger than 20 MB.`, "error");
        continue;
      }
      if (!canAttach()) {
        toast("The selected model cannot read images: choose a model with the Vision badge.", "error");
        return;
      }
      const url = await new Promise((resolve, reject) => {
        const reader = new FileReader();
        reader.onload = () => resolve(reader.result);
        reader.onerror = () => reject(reader.error);
        reader.readAsDataURL(file);
      });
      images.push({ media_type: file.type, data: String(url).split(",", 2)[1], url, name: file.name });
    }
    renderTray();
    refresh();
  }

  function submit() {
    if (streaming) return;
    const text = textarea.value.trim();
    if (!text && !images.length) return;
    const sent = images;
    onSend({ text, images: sent.map(({ media_type, data }) => ({ media_type, data })), previews: sent });
    textarea.value = "";
    images = [];
    renderTray();
    autosize();
    refresh();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (streaming) onStop(); else submit();
  });
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  textarea.addEventListener("input", () => { autosize(); refresh(); });
  textarea.addEventListener("paste", (event) => {
    const files = Array.from(event.clipboardData?.files || []).filter((f) => f.type.startsWith("image/"));
    if (files.length) { event.preventDefault(); addFiles(files); }
  });
  attachButton.addEventListener("click", () => fileInput.click());
  fileInput.addEventListener("change", () => { addFiles(Array.from(fileInput.files || [])); fileInput.value = ""; });
  box.addEventListener("dragover", (event) => { if (canAttach()) { event.preventDefault(); box.classList.add("dragging"); } });
  box.addEventListener("dragleave", () => box.classList.remove("dragging"));
  box.addEventListener("drop", (event) => {
    event.preventDefault();
    box.classList.remove("dragging");
    addFiles(Array.from(event.dataTransfer?.files || []));
  });

  refresh();
  return {
    setStreaming(on) { streaming = on; refresh(); },
    refresh,
    restore(text) { if (!textarea.value) { textarea.value = text; autosize(); refresh(); } },
    focus() { textarea.focus(); },
    hasImages: () => images.length > 0,
    clearImages() { images = []; renderTray(); refresh(); },
  };
}
