// The Markdown renderer (static/js/markdown.js): untrusted text in, safe HTML out.
import { test } from "node:test";
import assert from "node:assert/strict";
import { renderMarkdown } from "../../src/switchboard/web/static/js/markdown.js";

test("no tag or attribute from the input survives", () => {
  const html = renderMarkdown('<img src=x onerror="alert(1)"> <script>x()</script> **b**');
  assert.ok(!/<img|<script/i.test(html), html);
  assert.match(html, /&lt;img src=x onerror=&quot;alert\(1\)&quot;&gt;/);
  assert.match(html, /<strong>b<\/strong>/);
});

test("links keep only http, https and mailto targets", () => {
  assert.doesNotMatch(renderMarkdown("[x](javascript:alert(1))"), /<a /);
  assert.doesNotMatch(renderMarkdown("[x](data:text/html,hi)"), /<a /);
  assert.match(renderMarkdown("[site](https://example.org/a?b=1&c=2)"), /<a [^>]*href="https:\/\/example\.org\/a\?b=1&amp;c=2"/);
  assert.match(renderMarkdown("mail [me](mailto:a@b.c)"), /href="mailto:a@b.c"/);
});

test("headings, lists, quotes, rules and tables", () => {
  assert.equal(renderMarkdown("## Title ##"), "<h2>Title</h2>");
  assert.equal(renderMarkdown("- a\n- b"), "<ul><li>a</li><li>b</li></ul>");
  assert.equal(renderMarkdown("3. c\n4. d"), '<ol start="3"><li>c</li><li>d</li></ol>');
  assert.match(renderMarkdown("- a\n  - nested"), /<li>a<ul><li>nested<\/li><\/ul><\/li>/);
  assert.equal(renderMarkdown("> quoted"), "<blockquote><p>quoted</p></blockquote>");
  assert.equal(renderMarkdown("---"), "<hr>");
  const table = renderMarkdown("| a | b |\n|---|--:|\n| 1 | 2 |");
  assert.match(table, /<table/);
  assert.match(table, /<th[^>]*>a<\/th>/);
  assert.match(table, /<td[^>]*>2<\/td>/);
});

test("a fenced code block is escaped and highlighted, also while still open", () => {
  const closed = renderMarkdown("```python\nprint('<b>')\n```");
  assert.match(closed, /<pre><code class="lang-python">/);
  assert.ok(!closed.includes("<b>"));
  assert.match(closed, /&lt;b&gt;/);
  const streaming = renderMarkdown("```js\nconst a = 1;");
  assert.match(streaming, /<pre><code class="lang-js">/);
});

test("inline code is not parsed for emphasis", () => {
  assert.match(renderMarkdown("`**not bold**` and *it*"), /<code>\*\*not bold\*\*<\/code> and <em>it<\/em>/);
});

test("NUL characters and CRLF are normalised", () => {
  assert.equal(renderMarkdown("a\u0000b"), "<p>a\uFFFDb</p>");
  assert.equal(renderMarkdown("a\r\nb"), "<p>a<br>b</p>");
});
