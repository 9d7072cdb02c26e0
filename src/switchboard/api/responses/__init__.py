"""``/v1/responses``: OpenAI's Responses API in front of every provider (issue 13)."""
