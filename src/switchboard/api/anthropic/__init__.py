"""``/v1/messages``: Anthropic's Messages API in front of every provider (issue 13)."""
