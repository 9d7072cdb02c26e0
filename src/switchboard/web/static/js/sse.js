// Server-Sent Events, decoded without any I/O: text goes in (in whatever pieces the
// network delivers), complete events come out. Kept pure so it can be unit-tested and so
// the transport (api.js) only moves bytes.
// Follows the WHATWG event-stream format: blocks end with a blank line; CRLF, CR and LF
// all end a line; lines starting with ":" are comments; "field: value" drops one leading
// space; several data lines join with "\n". Data that parses as JSON is parsed. An "id"
// field (no NUL) comes out as `id`, the Last-Event-ID to resume after.

/** One block of lines → {event, data} (plus `id` when it has one), or null when it
 * carries no data (a comment, a keep-alive, a lone "event:" line). */
export function parseBlock(block) {
  let event = "message";
  let id = null;
  const data = [];
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event = value || "message";
    else if (field === "data") data.push(value);
    else if (field === "id" && !value.includes("\0")) id = value;
  }
  if (!data.length) return null;
  const raw = data.join("\n");
  let parsed;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = raw;
  }
  return id === null ? { event, data: parsed } : { event, data: parsed, id };
}

/**
 * A decoder for one stream. push(text) returns the events completed by that text;
 * end() returns the last event when the stream stopped without its blank line.
 * A "\r" at the very end of a piece is held back: it may be the first half of "\r\n".
 */
export function createSseDecoder() {
  let buffer = "";
  let pendingCR = false;

  function push(text) {
    let chunk = (pendingCR ? "\r" : "") + text;
    pendingCR = chunk.endsWith("\r");
    if (pendingCR) chunk = chunk.slice(0, -1);
    buffer += chunk.replace(/\r\n?/g, "\n");
    return complete();
  }

  function complete() {
    const events = [];
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const parsed = parseBlock(buffer.slice(0, cut));
      buffer = buffer.slice(cut + 2);
      if (parsed) events.push(parsed);
    }
    return events;
  }

  function end() {
    if (pendingCR) buffer += "\n"; // a CR at the very end was a line end after all
    pendingCR = false;
    const events = complete();
    const rest = parseBlock(buffer);
    buffer = "";
    if (rest) events.push(rest);
    return events;
  }

  return { push, end };
}
