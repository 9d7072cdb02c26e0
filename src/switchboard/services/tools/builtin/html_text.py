"""HTML to readable text for a model (``fetch_url``), with selectolax (decision 0096).

A model reads a page best as its text with the structure a person sees: headings,
paragraphs, list items, table rows on their own lines, and none of the scripts, styles,
navigation chrome or hidden templates. selectolax's Lexbor engine is a C HTML5 parser:
fast on megabytes, no Python recursion however deep a hostile page nests, no dependency.
It is called in a worker thread by ``fetch_url``, so a large page never stalls the
server's event loop.
"""

from __future__ import annotations

import re

_DROP = ["script", "style", "noscript", "template", "svg", "canvas", "iframe", "object",
         "embed", "head", "form", "button", "select", "nav"]
_BLOCKS = ("p, div, section, article, main, header, footer, aside, blockquote, pre, "
           "table, tr, ul, ol, dl, dt, dd, figure, figcaption, hr, address, details, "
           "summary")
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]{0,30})[^>]*?(/?)>")
_NOT_NESTING = frozenset({
    # void elements never hold anything; the others are closed implicitly by the next
    # sibling (https://html.spec.whatwg.org/multipage/syntax.html#optional-tags)
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup",
    "tbody", "thead", "tfoot", "colgroup", "rb", "rt", "rp"})
MAX_NESTING = 500
"""Deeper than any real page. An HTML5 tree builder checks the open elements' scope for
many start tags (``<div>`` closes an open ``<p>``), so a hostile page of 100,000 nested
``<div>`` costs minutes of CPU; the page is cut where it nests deeper than this."""
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANKS = re.compile(r"\n{3,}")


def _cut_nesting(html: str) -> tuple[str, bool]:
    """``html`` up to where it nests deeper than ``MAX_NESTING`` elements (one linear
    scan of its tags), and whether it was cut."""
    depth = 0
    for match in _TAG.finditer(html):
        closing, name, self_closing = match.groups()
        if self_closing or name.lower() in _NOT_NESTING:
            continue
        if closing:
            depth = max(depth - 1, 0)
            continue
        depth += 1
        if depth > MAX_NESTING:
            return html[:match.start()], True
    return html, False


def html_to_text(html: str) -> tuple[str, str | None, bool]:
    """The readable text of ``html``, its ``<title>`` (None when it has none), and
    whether the page was cut because it nests too deeply."""
    # Imported on the first page read, not at start: the Lexbor library is ~1.8 MB
    # resident that a server whose models never fetch a URL would carry (decision 0182).
    from selectolax.lexbor import LexborHTMLParser

    html, cut = _cut_nesting(html)
    tree = LexborHTMLParser(html)
    title_node = tree.css_first("title")
    title = _SPACES.sub(" ", title_node.text()).strip() if title_node is not None else None
    tree.strip_tags(_DROP)
    for node in tree.css("[hidden], [aria-hidden=true]"):
        node.decompose()
    for level in range(1, 7):
        for node in tree.css(f"h{level}"):
            node.insert_before("\n\n" + "#" * level + " ")
            node.insert_after("\n\n")
    for node in tree.css("li"):
        node.insert_before("\n- ")
    for node in tree.css("td, th"):
        node.insert_before(" | ")
    for node in tree.css("br"):
        node.insert_before("\n")
    for node in tree.css(_BLOCKS):
        node.insert_before("\n")
        node.insert_after("\n")
    root = tree.body if tree.body is not None else tree.root
    raw = root.text(separator="") if root is not None else ""
    lines = (_SPACES.sub(" ", line).strip() for line in raw.split("\n"))
    text = _BLANKS.sub("\n\n", "\n".join(lines)).strip()
    return text, title or None, cut
