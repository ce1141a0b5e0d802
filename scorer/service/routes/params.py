"""Path and query parameters several routes share, bounded so the database can hold them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

#: The largest row id or offset a 64-bit SQL integer (SQLite's, PostgreSQL's bigint) holds: a
#: larger one is refused as invalid (422) instead of failing in the database driver (a 500).
MAX_ROW = 2**63 - 1

SubmissionId = Annotated[int, Path(ge=1, le=MAX_ROW, description="The submission's id.")]
