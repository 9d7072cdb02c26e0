"""``Principal``: who is calling, as every use case sees it.

It lives in ``services`` (not ``api``) because use cases such as browser sessions return
one, and services must not depend on the surfaces that call them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a user, and the API token used (None for a browser session)."""

    user_id: int
    username: str
    role: str
    token_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


LOCAL_OPERATOR = Principal(user_id=0, username="local operator", role="admin")
"""Whoever runs ``switchboard chat`` at the server's own terminal: no account (user id 0
is never a row), so usage rows carry no user; admission policies see an admin."""
