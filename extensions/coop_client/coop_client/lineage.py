"""The lineage a notebook built on another carries in its metadata: ``coop.lineage``.

"Build on this" (:mod:`coop_widgets.build_on`) writes ``{"path": …, "commit": …}``, the notebook
it copied and the commit it copied it from, into the copy's metadata; the scorer
(:mod:`scorer.ingest.lineage`) reads it back and checks it against the commit graph before
following it. Both sides use this one shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

#: Where in a notebook's metadata: ``metadata["coop"]["lineage"]``.
NAMESPACE, KEY = "coop", "lineage"


class Lineage(BaseModel):
    """The notebook a copy was built on: its path in the repository, at a full commit SHA."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = Field(min_length=1, pattern=r"^[^/].*\.ipynb$")
    commit: str = Field(pattern=r"^[0-9a-f]{40}$")


def read_lineage(metadata: Mapping[str, Any]) -> Lineage | None:
    """The lineage a notebook's metadata records; ``None`` when it records none or a malformed one
    (metadata is the participant's to edit: a broken claim is no claim)."""
    found = metadata.get(NAMESPACE)
    claim = found.get(KEY) if isinstance(found, Mapping) else None
    if claim is None:
        return None
    try:
        return Lineage.model_validate(claim)
    except ValidationError:
        return None


def with_lineage(metadata: Mapping[str, Any], lineage: Lineage) -> dict[str, Any]:
    """``metadata`` with ``lineage`` recorded (replacing the one it held, if any)."""
    namespace = dict(metadata.get(NAMESPACE) or {})
    namespace[KEY] = lineage.model_dump()
    return {**metadata, NAMESPACE: namespace}


#: The participant's server route of "Build on this" (:mod:`coop_widgets.server`), through the hub.
BUILD_ON_PATH = "hub/user-redirect/coop/build-on/{challenge}/{submission}"


def build_on_url(hub_base: str, challenge_id: str, submission_id: int) -> str:
    """Where "Build on this" a submission is, from any page of the hub served at ``hub_base``
    (its base URL, ``/`` by default): the hub sends each person to their own server."""
    path = BUILD_ON_PATH.format(challenge=challenge_id, submission=submission_id)
    return f"{hub_base.rstrip('/')}/{path}"
