"""HTTP surfaces: the REST API for the web UI and scripts, and the OpenAI-compatible
``/v1`` API (an adapter in reverse: OpenAI wire -> ChatRequest, StreamEvent -> chunks)."""
