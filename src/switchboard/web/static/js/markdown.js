// Markdown to safe HTML. The WHOLE input is escaped first (escape.js); the parser then
// only recognises Markdown punctuation in that escaped text and wraps it in a fixed set
// of tags it writes itself. No tag or attribute from the input can survive, and links
// keep only http, https and mailto targets. Supported: paragraphs, headings, emphasis,
// strikethrough, inline code, fenced code blocks (highlighted), lists (nested),
// blockquotes, tables, horizontal rules, links and bare URLs, and LaTeX maths ($…$,
// $$…$$, \(…\), \[…\]; math-delimiters.js finds it outside code, math.js renders it
// with KaTeX, whose output is the only HTML not written here).

import { escapeHtml, unescapeHtml } from "./escape.js";
import { highlight, languageOf } from "./highlight.js";
import { splitMath } from "./math-delimiters.js";
import { renderMath } from "./math.js";

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([\w+#.-]*)[^`]*$/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const RULE = /^ {0,3}([-*_])(\s*\1){2,}\s*$/;
const QUOTE = /^ {0,3}&gt;\s?/;
const LIST = /^( *)([-*+]|\d{1,9}[.)])\s+(.*)$/;
const TABLE_SEP = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;
const SAFE_URL = /^(https?:\/\/|mailto:)/i;

/** Render Markdown source (untrusted) to an HTML string that is safe to insert. */
export function renderMarkdown(source) {
  const clean = String(source ?? "").replace(/\r\n?/g, "\n").replace(/\u0000/g, "\uFFFD");
  return blocks(escapeHtml(clean).split("\n"));
}

const indentOf = (line) => line.length - line.trimStart().length;

function startsBlock(line, next) {
  return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line)
    || LIST.test(line) || (line.includes("|") && next !== undefined && TABLE_SEP.test(next));
}

function blocks(lines) {
  const out = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) { i += 1; continue; }
    let m;
    if ((m = FENCE.exec(line))) {
      const fence = m[1];
      const body = [];
      i += 1;
      while (i < lines.length && !(lines[i].trim().startsWith(fence[0].repeat(fence.length))
             && lines[i].trim().replace(new RegExp(`\\${fence[0]}`, "g"), "") === "")) {
        body.push(lines[i]);
        i += 1;
      }
      i += 1; // the closing fence (or the end, while an answer is still streaming)
      out.push(codeBlock(body.join("\n"), m[2]));
      continue;
    }
    if ((m = HEADING.exec(line))) {
      const level = m[1].length;
      out.push(`<h${level}>${inline(m[2])}</h${level}>`);
      i += 1;
      continue;
    }
    if (RULE.test(line)) { out.push("<hr>"); i += 1; continue; }
    if (QUOTE.test(line)) {
      const inner = [];
      while (i < lines.length && lines[i].trim() && (QUOTE.test(lines[i]) || inner.length)) {
        inner.push(lines[i].replace(QUOTE, ""));
        i += 1;
      }
      out.push(`<blockquote>${blocks(inner)}</blockquote>`);
      continue;
    }
    if (LIST.test(line)) {
      i = list(lines, i, out);
      continue;
    }
    if (line.includes("|") && i + 1 < lines.length && TABLE_SEP.test(lines[i + 1])) {
      i = table(lines, i, out);
      continue;
    }
    const para = [line.trim()];
    i += 1;
    while (i < lines.length && lines[i].trim() && !startsBlock(lines[i], lines[i + 1])) {
      para.push(lines[i].trim());
      i += 1;
    }
    out.push(`<p>${inline(para.join("\n"))}</p>`);
  }
  return out.join("");
}

function codeBlock(escapedCode, lang) {
  const known = languageOf(lang);
  const label = lang ? escapeHtml(lang) : "text";
  return `<div class="code-block"><div class="code-head"><span>${label}</span>`
    + `<button type="button" class="copy-code" aria-label="Copy code">Copy</button></div>`
    + `<pre><code${known ? ` class="lang-${known}"` : ""}>${highlight(escapedCode, lang)}</code></pre></div>`;
}

function list(lines, i, out) {
  const first = LIST.exec(lines[i]);
  const indent = first[1].length;
  const ordered = /\d/.test(first[2]);
  const start = ordered ? parseInt(first[2], 10) : 1;
  const items = [];
  while (i < lines.length) {
    const m = LIST.exec(lines[i]);
    if (!m || m[1].length !== indent || /\d/.test(m[2]) !== ordered) break;
    const contentIndent = indent + m[2].length + 1;
    const body = [m[3]];
    i += 1;
    while (i < lines.length) {
      const line = lines[i];
      if (!line.trim()) {
        const next = lines[i + 1];
        if (next !== undefined && next.trim() && indentOf(next) > indent) {
          body.push(""); i += 1; continue;
        }
        break;
      }
      if (indentOf(line) > indent) {
        body.push(line.slice(Math.min(indentOf(line), contentIndent)));
        i += 1;
        continue;
      }
      if (startsBlock(line, lines[i + 1])) break;
      body.push(line.trim()); // lazy continuation of the item's paragraph
      i += 1;
    }
    items.push(`<li>${blocks(body).replace(/^<p>([\s\S]*?)<\/p>/, "$1")}</li>`);
    // a blank line between two items of the same list
    if (i + 1 < lines.length && !lines[i]?.trim()) {
      const n = LIST.exec(lines[i + 1]);
      if (n && n[1].length === indent && /\d/.test(n[2]) === ordered) i += 1;
    }
  }
  const tag = ordered ? "ol" : "ul";
  out.push(`<${tag}${ordered && start !== 1 ? ` start="${start}"` : ""}>${items.join("")}</${tag}>`);
  return i;
}

function cells(line) {
  let row = line.trim();
  if (row.startsWith("|")) row = row.slice(1);
  if (row.endsWith("|")) row = row.slice(0, -1);
  return row.split("|").map((c) => c.trim());
}

function table(lines, i, out) {
  const head = cells(lines[i]);
  const aligns = cells(lines[i + 1]).map((c) => {
    if (c.startsWith(":") && c.endsWith(":")) return "center";
    if (c.endsWith(":")) return "right";
    return c.startsWith(":") ? "left" : null;
  });
  const attr = (k) => (aligns[k] ? ` class="al-${aligns[k]}"` : "");
  let html = `<div class="table-scroll"><table><thead><tr>${head.map((c, k) => `<th${attr(k)}>${inline(c)}</th>`).join("")}</tr></thead><tbody>`;
  i += 2;
  while (i < lines.length && lines[i].includes("|") && lines[i].trim()) {
    const row = cells(lines[i]);
    html += `<tr>${head.map((_, k) => `<td${attr(k)}>${inline(row[k] ?? "")}</td>`).join("")}</tr>`;
    i += 1;
  }
  out.push(`${html}</tbody></table></div>`);
  return i;
}

/** Inline Markdown on escaped text. Code spans, maths and links are set aside as
 * placeholders so emphasis rules never reach inside them (code first: `$x$` is code). */
function inline(text) {
  const saved = [];
  const keep = (html) => `\u0000${saved.push(html) - 1}\u0000`;
  let s = text.replace(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/g, (_, __, code) =>
    keep(`<code>${code.trim() || code}</code>`));
  s = splitMath(s).map((piece) => {
    if (piece.tex === undefined) return piece.text;
    if (piece.tex.includes("\u0000")) return piece.source; // a code span inside: not maths
    // KaTeX reads the TeX as written (unescaped) and escapes what it prints itself
    return keep(renderMath(unescapeHtml(piece.tex), piece.display));
  }).join("");
  s = s.replace(/\[([^\]\n]+)\]\(\s*([^\s()]+)(?:\s+&quot;[^\n]*?&quot;)?\s*\)/g, (all, label, url) =>
    (SAFE_URL.test(unescapeHtml(url)) ? keep(link(url, emphasis(label))) : emphasis(label)));
  s = s.replace(/\bhttps?:\/\/(?:(?!&quot;|&lt;|&gt;|&#39;)[^\s\u0000])+/g, (url) => {
    const trimmed = url.replace(/(?:[.,:;!?)\]]|&amp;)+$/, "");
    return keep(link(trimmed, trimmed)) + url.slice(trimmed.length);
  });
  s = emphasis(s).replace(/ {2,}\n|\\\n|\n/g, "<br>");
  return s.replace(/\u0000(\d+)\u0000/g, (_, n) => saved[Number(n)]);
}

function link(href, label) {
  return `<a href="${href}" target="_blank" rel="noopener noreferrer">${label}</a>`;
}

function emphasis(s) {
  return s
    .replace(/\*\*(?=\S)([\s\S]*?\S)\*\*/g, "<strong>$1</strong>")
    .replace(/(^|[^\w])__(?=\S)([\s\S]*?\S)__(?!\w)/g, "$1<strong>$2</strong>")
    .replace(/(^|[^*\w])\*(?=[^\s*])([^*\n]*?[^\s*])\*(?!\*)/g, "$1<em>$2</em>")
    .replace(/(^|[^\w])_(?=[^\s_])([^_\n]*?[^\s_])_(?!\w)/g, "$1<em>$2</em>")
    .replace(/~~(?=\S)([\s\S]*?\S)~~/g, "<del>$1</del>");
}
