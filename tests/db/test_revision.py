"""``switchboard db revision``: the next migration script, generated from the models."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from switchboard.cli.main import main
from switchboard.db import migrate
from switchboard.db.models import Base
from switchboard.db.types import UTCDateTime


@pytest.fixture
def extra_table() -> Iterator[sa.Table]:
    """A table the models gain for this test only (and lose afterwards)."""
    table = sa.Table(
        "gadgets", Base.metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", UTCDateTime(), nullable=False,
                  server_default=sa.func.now()),
    )
    try:
        yield table
    finally:
        Base.metadata.remove(table)




async def test_a_model_change_becomes_the_next_numbered_script(
        extra_table: sa.Table, tmp_path: Path) -> None:
    path = await migrate.revision("Add gadgets!", directory=tmp_path)
    head = migrate.head()
    number = int(head.split("_")[0]) + 1
    assert path == tmp_path / f"{number:04d}_add_gadgets.py"
    script = path.read_text()
    assert f"revision: str = '{number:04d}_add_gadgets'" in script
    assert f"down_revision: str | None = '{head}'" in script
    assert "op.create_table('gadgets'" in script
    # Portable, importable spellings (not SQLite's '0' and CURRENT_TIMESTAMP).
    assert "server_default=sa.false()" in script
    assert "server_default=sa.func.now()" in script
    assert "from switchboard.db.types import UTCDateTime" in script
    compile(script, str(path), "exec")


async def test_nothing_to_generate_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(migrate.MigrationError, match="already agree"):
        await migrate.revision("nothing", directory=tmp_path)
    assert os.listdir(tmp_path) == []


def test_the_cli_names_what_is_wrong(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "revision", "-m", "!!!"]) == 1
    assert "give the migration a name" in capsys.readouterr().err
