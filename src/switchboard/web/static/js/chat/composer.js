// The composer: auto-growing textarea (Enter sends, Shift+Enter adds a line),
// attachments (button, paste, drag and drop): images for vision-capable models (and for
// text-only ones when another model can read them for it: `confirmSend` may ask how),
// text files and PDFs for every model (chips with name and size, removable), and the
// send button that turns into a stop button while an answer streams. An Enter pressed
// while the composer is busy (an answer still being written, a question about the
// message closing, the conversation still being opened) is kept and sent when it is free
// again (chat/send-gate.js).

import { h, icon } from "../dom.js";
import { toast } from "../ui.js";
import { checkFile, formatSize, mediaTypeOf } from "./attachments.js";
import { fileChips } from "./messages.js";
import { createSendGate } from "./send-gate.js";

// What the note under a kept message says: an answer being written holds it until it
// ends; anything else (the page opening the conversation, a question closing) a moment.
const SENT_WHEN_ANSWERED = "Your message is sent when this answer ends · ";
const SENT_SOON = "Your message is sent in a moment · ";

export function createComposer({ form, textarea, sendButton, attachButton, fileInput, tray, box, onSend, onStop, canAttach, confirmSend = null, queuedNote = null }) {
  let images = []; // {media_type, data, url, name}
  let files = []; // {filename, media_type, data, size (words)}
  // busy while an answer streams, or while a question about this message is open (Enter
  // does not send twice); a send asked for meanwhile is kept, not dropped
  const gate = createSendGate();
  let streaming = false;

  const autosize = () => {
    textarea.style.height = "auto";
    textarea.style.height = `${Math.min(textarea.scrollHeight, window.innerHeight * 0.4)}px`;
  };

  function refresh() {
    const empty = !textarea.value.trim() && !images.length && !files.length;
    if (queuedNote) {
      queuedNote.hidden = !gate.queued;
      const words = streaming ? SENT_WHEN_ANSWERED : SENT_SOON;
      // a live region (role="status"): rewritten only when the words change, not at
      // every keystroke (a screen reader would read it again each time)
      if (queuedNote.textContent !== words) queuedNote.textContent = words;
    }
    sendButton.classList.toggle("stop", streaming);
    sendButton.replaceChildren(icon(streaming ? "stop" : "send"));
    sendButton.setAttribute("aria-label", streaming ? "Stop answering" : "Send message");
    sendButton.title = streaming ? "Stop (Esc)" : "Send (Enter)";
    sendButton.disabled = !streaming && empty;
    attachButton.title = canAttach() ? "Attach images, text files or PDFs" : "Attach text files or PDFs";
    attachButton.setAttribute("aria-label", attachButton.title);
  }

  function renderTray() {
    tray.replaceChildren(...images.map((img, index) => h("div.attachment",
      h("img", { src: img.url, alt: img.name || "Attached image" }),
      h("button", {
        type: "button", "aria-label": `Remove ${img.name || "image"}`,
        onclick: () => { images.splice(index, 1); renderTray(); refresh(); },
      }, icon("x")))),
    fileChips(files, (index) => { files.splice(index, 1); renderTray(); refresh(); }) || []);
  }

  const readAsDataUrl = (file) => new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });

  async function addFiles(picked) {
    for (const file of picked) {
      const checked = checkFile(file, { files: files.length, canSeeImages: canAttach() });
      if (checked.problem) {
        toast(checked.problem, "error");
        continue;
      }
      let url;
      try {
        url = await readAsDataUrl(file);
      } catch {
        toast(`${file.name} could not be read from your device.`, "error");
        continue;
      }
      const data = url.slice(url.indexOf(",") + 1);
      if (checked.kind === "image") {
        images.push({ media_type: file.type, data, url, name: file.name });
      } else {
        files.push({ filename: file.name || "file", media_type: mediaTypeOf(file, checked.kind), data, size: formatSize(file.size) });
      }
    }
    renderTray();
    refresh();
  }

  /** The composer is free again: send what was asked for meanwhile (after the caller
   * has finished what freed it). */
  function freed(due) {
    if (due) queueMicrotask(submit);
    refresh();
  }

  async function submit() {
    const text = textarea.value.trim();
    if (!text && !images.length && !files.length) return;
    if (!gate.ask()) { refresh(); return; } // busy: sent once free (see freed)
    const sent = images;
    const message = { text, images: sent.map(({ media_type, data }) => ({ media_type, data })), previews: sent, files };
    if (confirmSend) {
      gate.confirming(true);
      let go = false;
      try {
        // an Enter before the question opened (it is fetched first) was this message's
        // own again: only one after it closed is kept
        go = await confirmSend(message, { asking: () => gate.drop() });
      } finally {
        // An Enter pressed as the question closed: asked again if it was cancelled; the
        // same message if it was answered (being sent now)
        const again = gate.confirming(false);
        if (!go) freed(again);
      }
      if (!go) return; // cancelled: everything stays in the composer
    }
    onSend(message);
    gate.drop();
    textarea.value = "";
    images = [];
    files = [];
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
    const pasted = Array.from(event.clipboardData?.files || []);
    if (pasted.length) { event.preventDefault(); addFiles(pasted); }
  });
  attachButton.addEventListener("click", () => fileInput.click());
  fileInput.addEventListener("change", () => { addFiles(Array.from(fileInput.files || [])); fileInput.value = ""; });
  box.addEventListener("dragover", (event) => { event.preventDefault(); box.classList.add("dragging"); });
  box.addEventListener("dragleave", () => box.classList.remove("dragging"));
  box.addEventListener("drop", (event) => {
    event.preventDefault();
    box.classList.remove("dragging");
    addFiles(Array.from(event.dataTransfer?.files || []));
  });

  refresh();
  return {
    setStreaming(on) { streaming = on; freed(gate.streaming(on)); },
    /** A conversation is being opened (on) or is shown: until then a send is kept. */
    setOpening(on) { freed(gate.opening(on)); },
    /** Forget an Enter kept for later (leaving the conversation; its message refused). */
    dropQueued() { gate.drop(); refresh(); },
    refresh,
    restore(text, sentFiles = []) {
      if (!textarea.value) { textarea.value = text; autosize(); }
      if (!files.length && sentFiles.length) { files = sentFiles; renderTray(); }
      refresh();
    },
    focus() { textarea.focus(); },
    hasImages: () => images.length > 0,
    clearImages() { images = []; renderTray(); refresh(); },
  };
}
