// LaTeX maths to HTML with the vendored KaTeX (static/vendor/katex, decision 0045). The
// only HTML this module returns is KaTeX's own output: KaTeX parses the TeX itself and
// escapes every character it prints, `trust: false` refuses \href, \url, \includegraphics
// and \htmlClass-like commands, and `throwOnError: false` turns bad TeX into KaTeX's own
// escaped error span instead of an exception. `maxSize` and `maxExpand` bound the work a
// hostile formula can ask for (huge rules, macro bombs).

import katex from "../vendor/katex/katex.mjs";
import { escapeHtml } from "./escape.js";

const OPTIONS = Object.freeze({
  throwOnError: false,
  trust: false,
  strict: "ignore",
  maxSize: 20,
  maxExpand: 500,
  output: "htmlAndMathml",
});

/** `tex` (plain text, NOT escaped) rendered as inline or display maths. */
export function renderMath(tex, display) {
  try {
    return katex.renderToString(String(tex), { ...OPTIONS, displayMode: !!display });
  } catch {
    // throwOnError: false covers parse errors; anything else shows the source as text
    return `<code class="math-source">${escapeHtml(tex)}</code>`;
  }
}
