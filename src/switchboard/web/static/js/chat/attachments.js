// What the composer accepts, decided without the DOM (unit-tested): images for models
// that can read them; text files and PDFs for every model (the server reads their text,
// decision 0044). The limits mirror the server's (services/attachments.py), so a file the
// server would refuse is refused here first, in words, before anything is uploaded.

export const MAX_FILES = 8;
export const MAX_FILE_BYTES = 10 * 1024 * 1024;
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
export const IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif"];

const TEXT_MEDIA_TYPES = new Set([
  "application/json", "application/xml", "application/x-yaml", "application/yaml",
  "application/toml", "application/javascript", "application/x-sh", "application/sql",
  "application/x-python", "application/ld+json", "application/csv",
]);
const TEXT_SUFFIXES = new Set([
  "txt", "md", "markdown", "csv", "tsv", "json", "jsonl", "yaml", "yml", "toml", "ini", "cfg",
  "conf", "xml", "html", "htm", "css", "js", "ts", "tsx", "jsx", "py", "rb", "go", "rs", "java",
  "kt", "c", "h", "cpp", "hpp", "cs", "php", "sh", "sql", "log", "rst", "tex", "swift", "scala", "r",
]);

/** "512 bytes", "1.5 KB", "2.3 MB". */
export function formatSize(bytes) {
  const n = Number(bytes) || 0;
  if (n < 1024) return `${n} ${n === 1 ? "byte" : "bytes"}`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

const suffixOf = (name) => {
  const at = String(name || "").lastIndexOf(".");
  return at < 0 ? "" : String(name).slice(at + 1).toLowerCase();
};

/** "image", "pdf", "text", or null for a file that cannot be read. */
export function kindOf({ name, type }) {
  const media = String(type || "").toLowerCase();
  if (IMAGE_TYPES.includes(media)) return "image";
  const suffix = suffixOf(name);
  if (media === "application/pdf" || suffix === "pdf") return "pdf";
  if (media.startsWith("text/") || TEXT_MEDIA_TYPES.has(media) || TEXT_SUFFIXES.has(suffix)) return "text";
  return null;
}

/**
 * Check one picked file against what is already attached. Returns {kind} when it can be
 * attached, else {problem} in plain words. `canSeeImages`: the chosen model reads images.
 */
export function checkFile(file, { files = 0, canSeeImages = false } = {}) {
  const name = file.name || "That file";
  const kind = kindOf(file);
  if (kind === null) {
    return { problem: `${name} cannot be attached: only text files (such as .txt, .md, .csv, code), PDFs and images are supported.` };
  }
  if (kind === "image") {
    if (!canSeeImages) return { problem: `${name} is an image, and the selected model cannot read images: choose a model with the Vision badge.` };
    if (file.size > MAX_IMAGE_BYTES) return { problem: `${name} is larger than 20 MB.` };
    return { kind };
  }
  if (files >= MAX_FILES) return { problem: `At most ${MAX_FILES} files can be attached to one message.` };
  if (file.size > MAX_FILE_BYTES) return { problem: `${name} is ${formatSize(file.size)}: files can be at most 10 MB.` };
  if (!file.size) return { problem: `${name} is empty.` };
  return { kind };
}

/** The media type to send: browsers report nothing (or octet-stream) for many text files. */
export function mediaTypeOf(file, kind) {
  if (kind === "pdf") return "application/pdf";
  const media = String(file.type || "").toLowerCase();
  if (kind === "text" && (!media || media === "application/octet-stream")) return "text/plain";
  return media;
}
