// A small syntax highlighter for fenced code blocks. It works on the ESCAPED code (what
// markdown.js produced): it unescapes it, splits it into tokens, and escapes every token
// again with the same escaper before wrapping it in a <span class="tok-...">. So no
// character of the code is ever interpreted as HTML.

import { escapeHtml, unescapeHtml } from "./escape.js";

const kw = (s) => new Set(s.split(/\s+/).filter(Boolean));

const C_LIKE = { line: "//", block: ["/*", "*/"], strings: ['"', "'"] };
const JS_KW = "const let var function return if else for while do break continue switch case default try catch finally throw new delete typeof instanceof in of class extends super this import export from as async await yield static get set void";

const LANGS = {
  js: { ...C_LIKE, strings: ['"', "'", "`"], keywords: kw(JS_KW), literals: kw("true false null undefined NaN Infinity") },
  ts: { ...C_LIKE, strings: ['"', "'", "`"], keywords: kw(`${JS_KW} interface type enum implements private public protected readonly declare namespace keyof abstract satisfies`), literals: kw("true false null undefined"), types: kw("string number boolean any unknown never void object") },
  python: { line: "#", strings: ['"""', "'''", '"', "'"], keywords: kw("def return if elif else for while break continue pass class import from as try except finally raise with lambda yield global nonlocal assert del in is not and or async await match case"), literals: kw("True False None self cls"), types: kw("int str float bool list dict set tuple bytes object") },
  bash: { line: "#", strings: ['"', "'"], keywords: kw("if then else elif fi for while do done case esac in function return export local echo exit set unset source cd"), literals: kw("true false") },
  json: { strings: ['"'], literals: kw("true false null") },
  go: { ...C_LIKE, strings: ['"', "`", "'"], keywords: kw("func return if else for range break continue switch case default go defer select chan map struct interface type package import var const fallthrough goto"), literals: kw("true false nil iota"), types: kw("string int int64 int32 uint byte rune float64 float32 bool error any") },
  rust: { ...C_LIKE, strings: ['"'], keywords: kw("fn let mut return if else for while loop break continue match impl trait struct enum pub use mod crate self super where as in ref move async await dyn const static unsafe type"), literals: kw("true false None Some Ok Err Self"), types: kw("i32 i64 u8 u32 u64 usize f32 f64 bool str String Vec Option Result Box") },
  java: { ...C_LIKE, keywords: kw("public private protected class interface extends implements return if else for while do break continue switch case default new try catch finally throw throws static final void import package this super abstract var record"), literals: kw("true false null"), types: kw("int long double float boolean char byte short String") },
  c: { ...C_LIKE, keywords: kw("return if else for while do break continue switch case default struct union enum typedef sizeof static const extern void include define ifdef ifndef endif namespace class public private protected template typename using new delete virtual override auto nullptr"), literals: kw("true false NULL nullptr"), types: kw("int long double float char unsigned signed short bool size_t std string vector") },
  csharp: { ...C_LIKE, keywords: kw("public private protected internal class interface struct return if else for foreach while do break continue switch case default new try catch finally throw static readonly void using namespace var async await this base override virtual"), literals: kw("true false null"), types: kw("int long double float bool string char object decimal") },
  sql: { line: "--", block: ["/*", "*/"], strings: ["'", '"'], caseless: true, keywords: kw("select from where and or not insert into values update set delete create table drop alter add join left right inner outer on group by order having limit offset as distinct union all index primary key foreign references default null is in like between case when then else end returning with"), types: kw("int integer text varchar char boolean timestamp date numeric serial bigint") },
  yaml: { line: "#", strings: ['"', "'"], literals: kw("true false null yes no on off") },
  css: { block: ["/*", "*/"], strings: ['"', "'"], keywords: kw("important media import from to") },
};
const ALIASES = {
  javascript: "js", jsx: "js", mjs: "js", node: "js", typescript: "ts", tsx: "ts",
  py: "python", python3: "python", sh: "bash", shell: "bash", zsh: "bash", console: "bash",
  golang: "go", rs: "rust", cpp: "c", "c++": "c", h: "c", hpp: "c", cs: "csharp",
  "c#": "csharp", kotlin: "java", kt: "java", yml: "yaml", scss: "css", postgres: "sql",
  postgresql: "sql", sqlite: "sql", mysql: "sql", toml: "yaml", ini: "yaml",
  html: "markup", xml: "markup", svg: "markup", vue: "markup",
};

export function languageOf(name) {
  const key = String(name || "").toLowerCase();
  const resolved = ALIASES[key] || key;
  return resolved === "markup" || LANGS[resolved] ? resolved : null;
}

const span = (cls, text) => `<span class="tok-${cls}">${escapeHtml(text)}</span>`;

/** Highlight escaped code; returns HTML built only from escaped tokens. */
export function highlight(escapedCode, lang) {
  const name = languageOf(lang);
  if (!name) return escapedCode;
  const code = unescapeHtml(escapedCode);
  return name === "markup" ? markup(code) : tokens(code, LANGS[name]);
}

function tokens(code, spec) {
  let out = "";
  let plain = "";
  const flush = () => { out += escapeHtml(plain); plain = ""; };
  const n = code.length;
  let i = 0;
  while (i < n) {
    const rest = code.startsWith.bind(code);
    if (spec.block && rest(spec.block[0], i)) {
      const end = code.indexOf(spec.block[1], i + spec.block[0].length);
      const stop = end < 0 ? n : end + spec.block[1].length;
      flush(); out += span("comment", code.slice(i, stop)); i = stop; continue;
    }
    if (spec.line && rest(spec.line, i) && !(spec.line === "#" && /[\w$]/.test(code[i - 1] || ""))) {
      const end = code.indexOf("\n", i);
      const stop = end < 0 ? n : end;
      flush(); out += span("comment", code.slice(i, stop)); i = stop; continue;
    }
    const quote = (spec.strings || []).find((q) => rest(q, i));
    if (quote) {
      const stop = endOfString(code, i, quote);
      flush(); out += span("string", code.slice(i, stop)); i = stop; continue;
    }
    const ch = code[i];
    if (/[0-9]/.test(ch) && !/[\w$]/.test(code[i - 1] || "")) {
      const m = /^(0x[\da-f_]+|\d[\d_]*(\.\d+)?(e[+-]?\d+)?)[a-z]*/i.exec(code.slice(i, i + 40));
      flush(); out += span("number", m[0]); i += m[0].length; continue;
    }
    if (/[A-Za-z_$@]/.test(ch)) {
      const m = /^[@A-Za-z_$][\w$]*/.exec(code.slice(i, i + 80));
      const word = m[0];
      const key = spec.caseless ? word.toLowerCase() : word;
      let cls = null;
      if (word[0] === "@") cls = "meta";
      else if (spec.keywords?.has(key)) cls = "keyword";
      else if (spec.literals?.has(key)) cls = "literal";
      else if (spec.types?.has(key)) cls = "type";
      else if (/^\s*\(/.test(code.slice(i + word.length, i + word.length + 8))) cls = "fn";
      else if (/^[A-Z][a-z]\w*$/.test(word)) cls = "type";
      flush();
      out += cls ? span(cls, word) : escapeHtml(word);
      i += word.length;
      continue;
    }
    plain += ch;
    i += 1;
  }
  flush();
  return out;
}

function endOfString(code, start, quote) {
  const multiline = quote.length === 3 || quote === "`";
  let i = start + quote.length;
  while (i < code.length) {
    if (code[i] === "\\") { i += 2; continue; }
    if (code.startsWith(quote, i)) return i + quote.length;
    if (!multiline && code[i] === "\n") return i;
    i += 1;
  }
  return code.length;
}

function markup(code) {
  const re = /(<!--[\s\S]*?(?:-->|$))|(<\/?)([\w:.-]+)((?:\s+[\w:.@-]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)(\s*\/?>)?/g;
  let out = "";
  let last = 0;
  for (let m = re.exec(code); m; m = re.exec(code)) {
    if (m[0] === "") { re.lastIndex += 1; continue; }
    out += escapeHtml(code.slice(last, m.index));
    if (m[1]) {
      out += span("comment", m[1]);
    } else {
      out += escapeHtml(m[2]) + span("keyword", m[3]);
      out += (m[4] || "").replace(/([^=\s"']+)|("[^"]*"|'[^']*')|([\s\S])/g, (all, attr, str) => {
        if (attr !== undefined) return span("fn", attr);
        if (str !== undefined) return span("string", str);
        return escapeHtml(all);
      });
      out += escapeHtml(m[5] || "");
    }
    last = re.lastIndex;
  }
  return out + escapeHtml(code.slice(last));
}
