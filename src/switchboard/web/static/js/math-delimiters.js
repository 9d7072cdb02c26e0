// Where the LaTeX maths is in a piece of (already escaped) inline Markdown text: pure
// scanning, no rendering, so it runs under `node --test`. markdown.js calls it after code
// spans were set aside, so `$x$` inside `code` or a fenced block is never maths.
//
// Delimiters, as models write them:
//   $$…$$  and  \[…\]   display maths (may span lines of one paragraph)
//   \(…\)               inline maths
//   $…$                 inline maths, only when it cannot be money: the opening $ is not
//                       followed by a space, the closing $ is not preceded by a space nor
//                       followed by a digit, and it stays on one line ("$5 and $10" is text)
// A backslash-escaped dollar (\$) is a literal dollar (shown without its backslash). Empty maths ("$$$$") is text.

/** Longest TeX source rendered; longer spans stay text (bounded work per message). */
export const MAX_TEX = 4000;
/** At most this many maths spans per text rendered (the rest stays text). */
export const MAX_SPANS = 200;

const PAIRS = [
  { open: "$$", close: "$$", display: true },
  { open: "\\[", close: "\\]", display: true },
  { open: "\\(", close: "\\)", display: false },
];

/**
 * Split `text` into pieces: {text} for plain text and {tex, display, source} for maths.
 * `source` is the span as written (delimiters included), for when it is not rendered.
 */
export function splitMath(text) {
  const s = String(text ?? "");
  const pieces = [];
  let plain = "";
  let spans = 0;
  let i = 0;
  const flush = () => { if (plain) { pieces.push({ text: plain }); plain = ""; } };
  while (i < s.length) {
    const c = s[i];
    if (c === "\\" && s[i + 1] === "$") { plain += "$"; i += 2; continue; }
    if (spans < MAX_SPANS && (c === "$" || c === "\\")) {
      const found = matchAt(s, i);
      if (found) {
        flush();
        pieces.push({ tex: found.tex, display: found.display, source: s.slice(i, found.end) });
        spans += 1;
        i = found.end;
        continue;
      }
    }
    plain += c;
    i += 1;
  }
  flush();
  return pieces;
}

function matchAt(s, i) {
  for (const { open, close, display } of PAIRS) {
    if (!s.startsWith(open, i)) continue;
    const start = i + open.length;
    const end = s.indexOf(close, start);
    if (end < 0) return null; // unclosed (still streaming, or just text)
    const tex = s.slice(start, end);
    if (!tex.trim() || tex.length > MAX_TEX) return null;
    return { tex, display, end: end + close.length };
  }
  if (s[i] !== "$" || s[i + 1] === "$") return null;
  // single $: not money, not spanning lines
  const first = s[i + 1];
  if (first === undefined || /\s/.test(first)) return null;
  for (let j = i + 1; j < s.length && j - i <= MAX_TEX; j += 1) {
    const c = s[j];
    if (c === "\n") return null;
    if (c === "\\") { j += 1; continue; } // an escaped character (\$, \{) inside the maths
    if (c !== "$") continue;
    if (/\s/.test(s[j - 1]) || /\d/.test(s[j + 1] ?? "")) return null;
    return { tex: s.slice(i + 1, j), display: false, end: j + 1 };
  }
  return null;
}
