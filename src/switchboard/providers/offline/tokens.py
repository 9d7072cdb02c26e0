"""Token estimates for the offline model.

There is no tokenizer here (the offline model must work with nothing but Python), so usage
is estimated the way vendors' own rules of thumb do it:

* text: about four characters per token (OpenAI's "~4 chars of English per token",
  https://help.openai.com/en/articles/4936856), rounded up, at least one token for any
  non-empty text;
* each message: a fixed overhead of 4 tokens for its role and separators, plus 3 tokens
  that prime the reply (OpenAI's chat-format accounting);
* each tool: its name, description and JSON schema counted as text, plus 8 tokens of
  framing;
* each image: a fixed 85 tokens (OpenAI's base cost of one low-detail image tile);
  each non-image file: a fixed 258 tokens (Gemini's flat per-file/page figure).

The numbers are plausible, deterministic and monotonic in the request's size, which is
all the accounting and the UI need from a model that costs nothing.
"""

from __future__ import annotations

import json

from switchboard.spec import (
    ChatRequest,
    FilePart,
    ImagePart,
    Message,
    ReasoningPart,
    TextPart,
    Tool,
    ToolCallPart,
    ToolResultPart,
)

CHARS_PER_TOKEN = 4
MESSAGE_OVERHEAD = 4
REPLY_PRIMING = 3
TOOL_OVERHEAD = 8
IMAGE_TOKENS = 85
FILE_TOKENS = 258


def text_tokens(text: str) -> int:
    """Tokens of a piece of text: ceil(len / 4), 0 for empty text."""
    return -(-len(text) // CHARS_PER_TOKEN)


def message_tokens(message: Message) -> int:
    total = MESSAGE_OVERHEAD
    for part in message.parts:
        if isinstance(part, TextPart | ReasoningPart):
            total += text_tokens(part.text)
        elif isinstance(part, ImagePart):
            total += IMAGE_TOKENS
        elif isinstance(part, FilePart):
            total += FILE_TOKENS
        elif isinstance(part, ToolCallPart):
            total += text_tokens(part.name) + text_tokens(part.arguments)
        elif isinstance(part, ToolResultPart):
            total += text_tokens(part.content)
    return total


def tool_tokens(tool: Tool) -> int:
    schema = json.dumps(tool.parameters, separators=(",", ":"), sort_keys=True)
    return (
        TOOL_OVERHEAD
        + text_tokens(tool.name)
        + text_tokens(tool.description or "")
        + text_tokens(schema)
    )


def input_tokens(request: ChatRequest) -> int:
    """The estimated prompt size of a whole request (system, messages, tools, schema)."""
    total = REPLY_PRIMING
    if request.system:
        total += MESSAGE_OVERHEAD + text_tokens(request.system)
    total += sum(message_tokens(m) for m in request.messages)
    total += sum(tool_tokens(t) for t in request.tools or [])
    fmt = request.response_format
    if fmt is not None and fmt.type == "json_schema":
        total += text_tokens(json.dumps(fmt.schema_, separators=(",", ":"), sort_keys=True))
    return total
