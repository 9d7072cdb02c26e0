"""The web UI: server-rendered page shells (``views``) and hand-written ES modules."""
