"""Coopetition's times are UTC: a time without a zone (YAML, SQLite) is taken to be UTC already."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def as_utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC time; a naive one is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def next_second(moment: datetime) -> datetime:
    """``moment`` in UTC, rounded up to a whole second: the first whole second at (or after) it,
    so that a time shown to the second is never before ``moment``."""
    at = as_utc(moment)
    return at if not at.microsecond else at.replace(microsecond=0) + timedelta(seconds=1)
