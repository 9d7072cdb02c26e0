"""MCP servers as sources of tools (issue 14 item 5): configuration (``servers``), one
session per server per process (``connection``), results as ``ToolOutput`` (``results``),
each server a ``ToolSource`` (``source``) and the process's set of them (``manager``)."""
