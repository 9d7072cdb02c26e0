"""Switchboard: one chat UI and one OpenAI-compatible API in front of every AI provider.

Importing the package is kept cheap (no submodules imported here): the CLI, the server
and plugins import what they use.
"""

__version__ = "0.1.0"
