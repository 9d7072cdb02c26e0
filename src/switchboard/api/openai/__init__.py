"""The OpenAI-compatible surface: pure translation (no I/O) plus the routes."""
