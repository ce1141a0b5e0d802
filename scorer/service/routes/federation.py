"""Federation: this instance's public keys (``/.well-known/jwks.json``, public), a link code
for the caller, exporting a person's credentials (only theirs) and importing another
instance's for the caller (all or none; each refusal with its own code)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from coop_client.models import CredentialsIn, CredentialsOut, ErrorOut, ImportedCredentialOut, LinkCodeOut
from scorer.exceptions import OwnCredentialsOnly
from scorer.ledger.credentials import imported_credentials
from scorer.profiles.federation import export_credentials, import_credentials, new_link_code
from scorer.profiles.keys import load_keys
from scorer.service.convert.profiles import of_imported
from scorer.service.deps import Api, Caller

#: Served apart, without authentication: other instances fetch it to verify credentials.
keys_router = APIRouter(tags=["federation"])
router = APIRouter(tags=["federation"], responses={401: {"model": ErrorOut, "description": "Not logged in."}})

Link = Annotated[
    str | None,
    Query(max_length=100, description="A link code from the instance you will import into."),
]
IMPORT_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorOut, "description": "`untrusted-issuer` or `foreign-subject`."},
    409: {"model": ErrorOut, "description": "`credential-replayed`: imported already."},
    422: {
        "model": ErrorOut,
        "description": "`credential-tampered`, `credential-expired` or `malformed-credential`.",
    },
    502: {"model": ErrorOut, "description": "`issuer-unreachable`: the issuer's keys cannot be fetched."},
}


@keys_router.get("/.well-known/jwks.json", response_class=JSONResponse)
def get_jwks(api: Api) -> JSONResponse:
    """This instance's public signing keys (current first, then the ones it rotated out)."""
    jwks = load_keys(api.settings.home_path).jwks()
    return JSONResponse(jwks, headers={"Cache-Control": "public, max-age=300"})


@router.post(
    "/api/me/link-codes",
    response_model=LinkCodeOut,
    status_code=201,
    responses={
        429: {
            "model": ErrorOut,
            "description": "`too-many-link-codes` or `link-code-too-soon` (`Retry-After`: when to ask).",
        }
    },
)
def post_link_code(api: Api, who: Caller) -> LinkCodeOut:
    """A code naming you here: export your credentials on another instance with it, then
    import them here. A person holds a few codes at once and asks at most every few seconds."""
    code, expires_at = new_link_code(api, who.name)
    return LinkCodeOut(code=code, expires_at=expires_at)


@router.get(
    "/api/people/{name}/credentials",
    response_model=CredentialsOut,
    responses={403: {"model": ErrorOut, "description": "Someone else's credentials."}},
)
def get_credentials(api: Api, who: Caller, name: str, link: Link = None) -> CredentialsOut:
    """Your achievements, rewards and credit as signed Open Badges 3.0 credentials (VC-JWT),
    named by ``link`` (another instance's link code) for importing there."""
    if who.name != name:
        raise OwnCredentialsOnly(f"only {name} can export {name}'s credentials")
    tokens = export_credentials(api, name, link_code=link, now=datetime.now(UTC))
    return CredentialsOut(issuer=api.settings.public_url, person=name, credentials=tokens)


@router.post(
    "/api/me/credentials",
    response_model=list[ImportedCredentialOut],
    status_code=201,
    responses=IMPORT_ERRORS,
)
def post_credentials(api: Api, who: Caller, body: CredentialsIn) -> list[ImportedCredentialOut]:
    """Import credentials another trusted instance exported for you; all are checked before
    any is kept."""
    return [of_imported(v) for v in import_credentials(api, who.name, body.credentials)]


@router.get("/api/me/credentials", response_model=list[ImportedCredentialOut])
def get_my_credentials(api: Api, who: Caller) -> list[ImportedCredentialOut]:
    """The credentials you imported from other instances, each with its issuer."""
    with api.sessions() as session:
        return [of_imported(v) for v in imported_credentials(session, who.name)]
