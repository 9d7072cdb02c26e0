"""The "Auto" model: task types, per-task defaults and the routing step that picks a
model for a turn (issue 16 items 1-3; decisions 0112-0117)."""
