"""A check of Gemini request bodies against the documented field names.

There is no official OpenAPI file for the Gemini API in ../shared/specs, so instead of a
schema we keep the field names of the REST reference (camelCase) for every object we send
and walk the body: an unknown key (a snake_case slip, a typo, a field of another vendor)
fails with its path. Values that are free-form by definition (function ``args``, a
``response`` object, JSON Schemas, base64 data) are not walked.

Sources: https://ai.google.dev/api/generate-content#request-body,
https://ai.google.dev/api/caching#Content, #Part, #Tool, #FunctionDeclaration, #ToolConfig,
https://ai.google.dev/api/generate-content#generationconfig, #ThinkingConfig.
"""

from __future__ import annotations

from typing import Any

OPAQUE = object()

THINKING = {"includeThoughts": None, "thinkingBudget": None, "thinkingLevel": None}
GENERATION_CONFIG = {
    "stopSequences": None, "responseMimeType": None, "responseSchema": OPAQUE,
    "responseJsonSchema": OPAQUE, "responseModalities": None, "candidateCount": None,
    "maxOutputTokens": None, "temperature": None, "topP": None, "topK": None, "seed": None,
    "presencePenalty": None, "frequencyPenalty": None, "responseLogprobs": None,
    "logprobs": None, "enableEnhancedCivicAnswers": None, "speechConfig": OPAQUE,
    "thinkingConfig": THINKING, "imageConfig": OPAQUE, "mediaResolution": None,
}
PART = {
    "text": None, "thought": None, "thoughtSignature": None,
    "inlineData": {"mimeType": None, "data": None},
    "fileData": {"mimeType": None, "fileUri": None},
    "functionCall": {"id": None, "name": None, "args": OPAQUE},
    "functionResponse": {"id": None, "name": None, "response": OPAQUE, "willContinue": None,
                         "scheduling": None, "parts": OPAQUE},
    "executableCode": OPAQUE, "codeExecutionResult": OPAQUE, "videoMetadata": OPAQUE,
    "partMetadata": OPAQUE,
}
CONTENT = {"role": None, "parts": PART}
FUNCTION_DECLARATION = {
    "name": None, "description": None, "behavior": None, "parameters": OPAQUE,
    "parametersJsonSchema": OPAQUE, "response": OPAQUE, "responseJsonSchema": OPAQUE,
}
TOOL = {
    "functionDeclarations": FUNCTION_DECLARATION, "googleSearchRetrieval": OPAQUE,
    "codeExecution": OPAQUE, "googleSearch": OPAQUE, "urlContext": OPAQUE,
    "computerUse": OPAQUE, "fileSearch": OPAQUE, "googleMaps": OPAQUE,
}
TOOL_CONFIG = {
    "functionCallingConfig": {"mode": None, "allowedFunctionNames": None},
    "retrievalConfig": OPAQUE,
}
REQUEST = {
    "contents": CONTENT, "systemInstruction": CONTENT, "generationConfig": GENERATION_CONFIG,
    "tools": TOOL, "toolConfig": TOOL_CONFIG, "safetySettings": {"category": None,
                                                                 "threshold": None},
    "cachedContent": None, "labels": OPAQUE,
}
ENUMS = {
    "functionCallingConfig.mode": {"AUTO", "ANY", "NONE", "VALIDATED", "MODE_UNSPECIFIED"},
    "contents.role": {"user", "model"},
}


def check_request(body: Any) -> None:
    """Raise ``AssertionError`` listing every key the Gemini reference does not know."""
    problems: list[str] = []
    _walk(body, REQUEST, "", problems)
    mode = body.get("toolConfig", {}).get("functionCallingConfig", {}).get("mode")
    if mode is not None and mode not in ENUMS["functionCallingConfig.mode"]:
        problems.append(f"toolConfig.functionCallingConfig.mode: unknown value {mode!r}")
    for i, content in enumerate(body.get("contents", [])):
        if content.get("role") not in ENUMS["contents.role"]:
            problems.append(f"contents/{i}/role: {content.get('role')!r}")
    assert not problems, "not a valid Gemini request:\n" + "\n".join(problems)


def _walk(value: Any, shape: Any, path: str, problems: list[str]) -> None:
    if shape is OPAQUE or shape is None:
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _walk(item, shape, f"{path}/{i}", problems)
        return
    if not isinstance(value, dict):
        problems.append(f"{path or '(root)'}: expected an object, got {type(value).__name__}")
        return
    for key, sub in value.items():
        if key not in shape:
            problems.append(f"{path}/{key}: not a documented field")
            continue
        _walk(sub, shape[key], f"{path}/{key}", problems)
