// LaTeX maths: where it is (math-delimiters.js) and how the Markdown renderer shows it
// (markdown.js with the vendored KaTeX): code is left alone, hostile TeX yields no markup.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MAX_TEX, splitMath } from "../../src/switchboard/web/static/js/math-delimiters.js";
import { renderMarkdown } from "../../src/switchboard/web/static/js/markdown.js";

const maths = (text) => splitMath(text).filter((p) => p.tex !== undefined).map((p) => [p.tex, p.display]);

test("the four delimiters", () => {
  assert.deepEqual(maths("a $x^2$ b"), [["x^2", false]]);
  assert.deepEqual(maths("$$E=mc^2$$"), [["E=mc^2", true]]);
  assert.deepEqual(maths("\\(a+b\\) and \\[c\\]"), [["a+b", false], ["c", true]]);
  assert.deepEqual(maths("$$\n\\frac{1}{2}\n$$"), [["\n\\frac{1}{2}\n", true]]);
});

test("money and escaped dollars are text", () => {
  assert.deepEqual(maths("it costs $5 and $10 today"), []);
  assert.deepEqual(maths("between $5 and $6."), []);
  assert.deepEqual(maths("$ x$ and $x $"), []);
  assert.deepEqual(maths("price \\$x\\$"), []);
  assert.equal(splitMath("price \\$5").map((p) => p.text).join(""), "price $5");
  assert.deepEqual(maths("$a\nb$"), [], "single dollars stay on one line");
});

test("unclosed, empty and oversized maths stay text", () => {
  assert.deepEqual(maths("$$x"), []);
  assert.deepEqual(maths("$$  $$"), []);
  assert.deepEqual(maths(`$$${"x".repeat(MAX_TEX + 1)}$$`), []);
});

test("rendered with KaTeX outside code only", () => {
  const html = renderMarkdown("Energy: $$E=mc^2$$ and $a_1$ `$b_2$`\n\n```\n$$c$$\n```");
  assert.match(html, /class="katex-display"/);
  assert.match(html, /class="katex"/);
  assert.match(html, /<code>\$b_2\$<\/code>/);
  assert.match(html, /<pre><code>\$\$c\$\$<\/code><\/pre>/);
  assert.doesNotMatch(html, /<em>/, "underscores inside maths are not emphasis");
});

test("hostile TeX produces no markup of its own", () => {
  for (const tex of ["\\href{javascript:alert(1)}{x}", "\\url{javascript:alert(1)}", "<img src=x onerror=alert(1)>",
    "\\htmlClass{x}{y}", "\\includegraphics{http://x/y.png}", "\\unknowncommand{"]) {
    const html = renderMarkdown(`$$${tex}$$`);
    // (the TeX itself may appear as escaped text, e.g. in the MathML annotation)
    assert.doesNotMatch(html, /<(img|a|script|iframe)[\s>]|<[^>]*\s(on\w+|href|src)=/i, html);
  }
  // a macro bomb is cut by maxExpand instead of hanging the page
  const bomb = "\\def\\a{xxxxxxxx}\\def\\b{\\a\\a\\a\\a\\a\\a\\a\\a}\\def\\c{\\b\\b\\b\\b\\b\\b\\b\\b}\\def\\d{\\c\\c\\c\\c\\c\\c\\c\\c}\\d\\d\\d\\d";
  assert.ok(renderMarkdown(`$$${bomb}$$`).length < 2_000_000);
});
