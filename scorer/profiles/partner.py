"""The demo's partner instance: a second Coopetition beside the demo's, with its own ledger,
its own signing key and the demo's instance as its one trusted issuer; the hub runs it as the
service ``partner``. A demo person's credentials are carried there the way a person would
carry theirs: a link code from the partner, an export from the demo's instance naming it, an
import that the partner verifies against the issuer's keys fetched over HTTP."""

from __future__ import annotations

from pathlib import Path

from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from scorer.ledger.credentials import ImportedView, imported_credentials
from scorer.profiles.federation import export_credentials, import_credentials, new_link_code

NAME = "partner"
#: Whose credentials the demo carries to the partner.
PERSON = "alice"


def folder(home: Path) -> Path:
    """The partner's state folder inside the demo's; the hub runs the partner when it exists."""
    return home / NAME


def settings(home: Path, hub_url: str, issuer: str) -> ScorerSettings:
    """The partner's settings: its state under ``home``, served by the hub at ``hub_url``,
    trusting the credentials of ``issuer`` (the demo instance's ``public_url``)."""
    state = folder(home)
    return ScorerSettings(
        home=str(state),
        db_url=f"sqlite:///{state / 'coop.db'}",
        public_url=f"{hub_url.rstrip('/')}/services/{NAME}",
        trusted_instances=[issuer],
    )


def carry_credentials(issuer: CoopAPI, partner: CoopAPI, person: str = PERSON) -> list[ImportedView]:
    """``person``'s credentials from ``issuer``, imported at ``partner`` (once: the ones already
    there when it was done before)."""
    with partner.sessions() as session:
        if done := imported_credentials(session, person):
            return done
    code, _expires = new_link_code(partner, person)
    return import_credentials(partner, person, export_credentials(issuer, person, link_code=code))
