"""The service itself: liveness, and who the caller is."""

from __future__ import annotations

from fastapi import APIRouter

from coop_client.models import ErrorOut, Health, WhoAmI
from scorer import __version__
from scorer.service.deps import Caller

router = APIRouter(tags=["service"])


@router.get("/api/health", response_model=Health)
def health() -> Health:
    """Liveness: the service answers."""
    return Health(status="ok", version=__version__)


@router.get("/api/me", response_model=WhoAmI, responses={401: {"model": ErrorOut}})
def me(who: Caller) -> WhoAmI:
    """Who the token belongs to, and what it may do here."""
    return WhoAmI(
        name=who.name,
        kind=who.kind,
        scopes=sorted(who.scopes),
        groups=sorted(who.groups),
        organiser=who.organiser,
    )
