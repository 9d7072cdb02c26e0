"""JSON answers on an API without a JSON mode.

The classic Messages API has no ``response_format``. The technique Anthropic documents for
structured output is a tool: offer one tool whose ``input_schema`` is the wanted schema
and force the model to call it; its ``input`` *is* the answer
(https://docs.anthropic.com/en/docs/build-with-claude/tool-use#json-mode). The adapter
does exactly that and turns the tool call back into plain text, so the caller sees an
ordinary answer whose text is the JSON document and a ``stop`` finish reason.

Limits, each reported as a warning: the answer is always a JSON *object* (tool inputs
are objects); a request that also has its own tools keeps them and ignores the format
(forcing our tool would stop the model from calling theirs); with extended thinking the
API forbids forcing a tool, so the tool is only offered (``auto``).
"""

from __future__ import annotations

from typing import Any

from switchboard.spec import ResponseFormat, ResponseFormatJson, ResponseFormatJsonSchema

JSON_TOOL_NAME = "json_response"


def json_tool(fmt: ResponseFormat | None) -> dict[str, Any] | None:
    """The tool definition carrying the answer's schema, or None for plain text."""
    if isinstance(fmt, ResponseFormatJsonSchema):
        description = fmt.description or f"Respond with the {fmt.name} as this tool's input."
        return {"name": JSON_TOOL_NAME, "description": description, "input_schema": fmt.schema_}
    if isinstance(fmt, ResponseFormatJson):
        return {
            "name": JSON_TOOL_NAME,
            "description": "Respond with your answer as a JSON object, as this tool's input.",
            "input_schema": {"type": "object", "additionalProperties": True},
        }
    return None
