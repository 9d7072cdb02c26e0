"""Fenced code answers: which language was asked for, and a skeleton in that language.

The offline model cannot write real programs, but a chat UI must be tested with what real
models send for code requests: Markdown prose around a fenced block tagged with its
language. The skeleton is named after the task ("a function that reverses a string" ->
``reverses_string``) so the answer is recognisably about the request.
"""

from __future__ import annotations

import re

_LANGUAGES: tuple[tuple[str, str, str], ...] = (
    # (fence tag, display name, regex that detects it in the request)
    ("typescript", "TypeScript", r"\b(typescript|ts)\b"),
    ("javascript", "JavaScript", r"\b(javascript|js|node(\.?js)?)\b"),
    ("bash", "Bash", r"\b(bash|shell|sh|zsh)\b"),
    ("sql", "SQL", r"\b(sql|sqlite|postgres(ql)?|mysql)\b"),
    ("go", "Go", r"\b(golang|in go|go (code|function|program))\b"),
    ("rust", "Rust", r"\brust\b"),
    ("python", "Python", r"\b(python|py)\b"),
)

_CODE_NOUN = re.compile(
    r"\b(code|function|script|program|snippet|class|method|query|regex|algorithm|"
    r"implementation|example in)\b"
)
_CODE_VERB = re.compile(
    r"\b(write|show|give|create|generate|implement|make|need|want|example|how do i|how to)\b"
)
_TASK = re.compile(r"\b(?:that|to|which|for|who)\s+(.+)$")
_STOP = {"a", "an", "the", "me", "my", "some", "in", "using", "with", "of", "and", "it"}


def is_code_request(text: str) -> bool:
    low = text.lower()
    if "```" in low:
        return True
    if _CODE_NOUN.search(low) and _CODE_VERB.search(low):
        return True
    return any(re.search(rx, low) for _, _, rx in _LANGUAGES) and bool(_CODE_VERB.search(low))


def language_of(text: str) -> tuple[str, str]:
    """(fence tag, display name) of the language asked for; Python when none is named."""
    low = text.lower()
    for tag, name, rx in _LANGUAGES:
        if re.search(rx, low):
            return tag, name
    return "python", "Python"


def task_name(text: str) -> str:
    """A snake_case identifier for the task described in ``text`` (``solve_task``)."""
    low = re.sub(r"[^a-z0-9 ]+", " ", text.lower())
    match = _TASK.search(low)
    words = (match.group(1) if match else low).split()
    kept = [w for w in words if w not in _STOP and not w.isdigit()][:3]
    return "_".join(kept) or "solve_task"


def skeleton(tag: str, name: str, task: str) -> str:
    """A small, syntactically valid program in language ``tag`` for ``task``."""
    camel = name.split("_")[0] + "".join(w.title() for w in name.split("_")[1:])
    doc = " ".join(task.replace("*/", "").replace('"""', "").replace("\\", "").split())
    doc = (doc[:77] + "...") if len(doc) > 80 else (doc or "the task")
    if tag == "python":
        return (
            f"def {name}(value: str) -> str:\n"
            f'    """{doc}"""\n'
            "    # Skeleton from the offline model: fill in the real logic.\n"
            "    result = value.strip()\n"
            "    return result\n\n\n"
            'if __name__ == "__main__":\n'
            f'    print({name}("example"))\n'
        )
    if tag in ("javascript", "typescript"):
        sig = "value: string): string" if tag == "typescript" else "value)"
        return (
            f"/** {doc} */\n"
            f"function {camel}({sig} {{\n"
            "  // Skeleton from the offline model: fill in the real logic.\n"
            "  const result = value.trim();\n"
            "  return result;\n"
            "}\n\n"
            f'console.log({camel}("example"));\n'
        )
    if tag == "bash":
        return (
            "#!/usr/bin/env bash\n"
            f"# {doc}\n"
            "set -euo pipefail\n\n"
            f"{name}() {{\n"
            '  local value="$1"\n'
            '  echo "$value"\n'
            "}\n\n"
            f'{name} "example"\n'
        )
    if tag == "sql":
        return (
            f"-- {doc}\n"
            f"SELECT id, name\nFROM items\nWHERE name LIKE '%example%'\nORDER BY id;\n"
        )
    if tag == "go":
        return (
            "package main\n\n"
            'import (\n\t"fmt"\n\t"strings"\n)\n\n'
            f"// {camel} does: {doc}\n"
            f"func {camel}(value string) string {{\n"
            "\treturn strings.TrimSpace(value)\n"
            "}\n\n"
            "func main() {\n"
            f'\tfmt.Println({camel}("example"))\n'
            "}\n"
        )
    # rust
    return (
        f"/// {doc}\n"
        f"fn {name}(value: &str) -> String {{\n"
        "    value.trim().to_string()\n"
        "}\n\n"
        "fn main() {\n"
        f'    println!("{{}}", {name}("example"));\n'
        "}\n"
    )
