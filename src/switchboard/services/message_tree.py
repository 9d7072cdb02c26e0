"""A conversation's messages form a tree; what the user sees is one path through it.

Regenerating an answer adds a sibling of that answer; editing a question adds a sibling
of the question (and its answer below it). Nothing is overwritten, so every earlier
version stays one click away. The conversation stores the *leaf* of the path it shows;
the path is the leaf's ancestors. Choosing another version of a message shows that
version with its newest continuation (the newest child at every step below it).

Pure functions over ``(id, parent_id)`` pairs: the callers load the rows once (a
conversation is a few hundred rows at most) and no query walks the tree recursively.
A stale or missing leaf falls back to the newest message, so a conversation can always
be shown; a cycle (impossible through the services, conceivable by hand-editing the
database) stops the walk instead of looping.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Node:
    id: int
    parent_id: int | None


class MessageTree:
    __slots__ = ("_children", "_parent")

    def __init__(self, nodes: Iterable[Node]) -> None:
        self._parent: dict[int, int | None] = {}
        self._children: dict[int | None, list[int]] = {}
        for node in sorted(nodes, key=lambda n: n.id):
            self._parent[node.id] = node.parent_id
            self._children.setdefault(node.parent_id, []).append(node.id)

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._parent

    def newest(self) -> int | None:
        return max(self._parent, default=None)

    def path(self, leaf_id: int | None) -> list[int]:
        """Root-to-leaf ids of the branch ending at ``leaf_id`` (the newest message when
        the leaf is unknown); [] for an empty conversation."""
        current = leaf_id if leaf_id in self._parent else self.newest()
        path: list[int] = []
        seen: set[int] = set()
        while current is not None and current not in seen:
            seen.add(current)
            path.append(current)
            current = self._parent.get(current)
        path.reverse()
        return path

    def versions(self, message_id: int) -> list[int]:
        """``message_id`` and its siblings (the other versions), oldest first."""
        return list(self._children.get(self._parent.get(message_id), [message_id]))

    def newest_leaf_below(self, message_id: int) -> int:
        """The leaf reached from ``message_id`` by always following the newest child."""
        current = message_id
        seen = {current}
        while children := self._children.get(current):
            current = children[-1]
            if current in seen:
                break
            seen.add(current)
        return current

    def parent(self, message_id: int) -> int | None:
        return self._parent.get(message_id)
