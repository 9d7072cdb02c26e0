"""The built-in tools (issue 14 item 3), one module each, offered as one ``ToolSource``.

``datetime`` (``clock``), ``calculator``, ``fetch_url``, ``search_conversations`` and
``generate_image``. Each is a ``RunnableTool`` (``services.tools.contract``) with its JSON
Schema, a description written for models, a timeout and a result cap; the toolbox applies
the administrator's settings on top.
"""

from __future__ import annotations

from collections.abc import Sequence

from switchboard.db import Database
from switchboard.services.file_bytes import FileRoot
from switchboard.services.pipeline import Pipeline
from switchboard.services.tools.builtin.calculator import Calculator
from switchboard.services.tools.builtin.clock import Clock
from switchboard.services.tools.builtin.fetch_url import FetchUrl
from switchboard.services.tools.builtin.generate_image import GenerateImage
from switchboard.services.tools.builtin.search_conversations import SearchConversations
from switchboard.services.tools.contract import RunnableTool

SOURCE = "builtin"
NAMES = ("datetime", "calculator", "fetch_url", "search_conversations", "generate_image")


class BuiltinSource:
    """The built-in tools as one source. What they need from the process (the database,
    the pipeline, the data directory, two settings) is given once here."""

    name = SOURCE

    def __init__(self, db: Database, pipeline: Pipeline, data_dir: FileRoot, *,
                 fetch_allow_private: bool = False, image_model: str | None = None) -> None:
        self.tools: tuple[RunnableTool, ...] = (
            Clock(),
            Calculator(),
            FetchUrl(allow_private=fetch_allow_private),
            SearchConversations(db),
            GenerateImage(pipeline, db, data_dir, model=image_model),
        )

    async def list_tools(self) -> Sequence[RunnableTool]:
        return self.tools
