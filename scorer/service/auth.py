"""Who is calling: credentials from a request, and the authenticators that check them.

Credentials are a token in ``Authorization: token <t>`` or ``Bearer <t>``, or HTTP Basic with
the token as password (what git sends). JupyterHub is the identity provider
(:class:`HubAuthenticator`, JupyterHub's own ``HubAuth``); :class:`StaticTokens` holds tokens
from a file for tests and scripting. The hub does not enforce custom scopes: the service does,
with :data:`SUBMIT` and :data:`ORGANISE`. Reading public data needs no scope and no token.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml
from jupyterhub.services.auth import HubAuth, check_scopes
from tornado.web import HTTPError
from traitlets import Bunch, default, validate

from scorer.exceptions import BadCredentials, CoopError, HubUnavailable

SUBMIT = "custom:coop:submit"
ORGANISE = "custom:coop:organise"
#: The custom scopes the service enforces, with the description to give them in the hub config.
SCOPES = {
    SUBMIT: "Push and submit solutions to Coopetition challenges as yourself.",
    ORGANISE: "Administer Coopetition challenges: private scores, hidden columns, phases, rescoring.",
}


@dataclass(frozen=True)
class Identity:
    """An authenticated caller: a hub user (or service), with the scopes of their token."""

    name: str
    scopes: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    kind: str = "user"

    @property
    def organiser(self) -> bool:
        return self.has(ORGANISE)

    def has(self, scope: str) -> bool:
        """Whether the caller holds ``scope`` for themselves: unfiltered, or filtered to their own
        name (JupyterHub expands a role's ``scope!user`` to ``scope!user=<name>``). Group filters
        are not resolved (JupyterHub's :func:`check_scopes` cannot, without the hub's database)."""
        return bool(check_scopes(f"{scope}!{self.kind}={self.name}", self.scopes))


@dataclass(frozen=True)
class Credentials:
    token: str
    username: str | None = None  # given with HTTP Basic: must name the token's owner


def credentials(authorization: str | None) -> Credentials | None:
    """Parse an ``Authorization`` header; ``None`` when absent; :class:`BadCredentials` if garbled."""
    if not authorization or not authorization.strip():
        return None
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    scheme = scheme.lower()
    if scheme in {"token", "bearer"} and value:
        return Credentials(value)
    if scheme == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise BadCredentials("the Basic credentials are not valid base64 of user:token") from None
        username, colon, token = decoded.partition(":")
        if colon and token:
            return Credentials(token, username or None)
        raise BadCredentials("HTTP Basic needs your hub username and an API token as the password")
    raise BadCredentials("use 'Authorization: token <api token>', 'Bearer <api token>' or HTTP Basic")


class Authenticator(Protocol):
    """Turns a token into an :class:`Identity`, or ``None`` when the token is not valid."""

    async def identify(self, token: str) -> Identity | None: ...


async def authenticate(auth: Authenticator, given: Credentials | None) -> Identity | None:
    """The caller of a request: ``None`` when anonymous, :class:`BadCredentials` when refused."""
    if given is None:
        return None
    identity = await auth.identify(given.token)
    if identity is None:
        raise BadCredentials("the API token is not valid (expired, revoked or mistyped)")
    if given.username is not None and given.username != identity.name:
        raise BadCredentials(f"the API token does not belong to {given.username!r}")
    return identity


@dataclass
class StaticTokens:
    """Tokens from configuration: ``token -> Identity``. For tests, scripting and small setups."""

    tokens: dict[str, Identity] = field(default_factory=dict)

    async def identify(self, token: str) -> Identity | None:
        return self.tokens.get(token)

    @classmethod
    def from_mapping(cls, data: dict[str, Any], source: str = "tokens") -> StaticTokens:
        """Read ``{"tokens": {<token>: {"name": ..., "scopes": [...], "organiser": bool}}}``."""
        entries = data.get("tokens") if isinstance(data, dict) else None
        if not isinstance(entries, dict):
            shape = "tokens: {<token>: {name: <user>, scopes: <list>, organiser: <bool>}}"
            raise CoopError(f"{source}: expected a mapping {shape!r}")
        tokens = {}
        for token, entry in entries.items():
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise CoopError(f"{source}: tokens.<…>: each token needs a 'name'")
            scopes = set(entry.get("scopes", [SUBMIT]))
            if entry.get("organiser"):
                scopes.add(ORGANISE)
            groups = frozenset(entry.get("groups", []))
            tokens[str(token)] = Identity(entry["name"], frozenset(scopes), groups)
        return cls(tokens)

    @classmethod
    def from_file(cls, path: Path) -> StaticTokens:
        """A YAML or JSON file (JSON is YAML) holding the mapping of :meth:`from_mapping`."""
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise CoopError(f"cannot read the tokens file {path}: {exc}") from None
        return cls.from_mapping(data, str(path))


class HubAuthenticator(HubAuth):
    """JupyterHub's own :class:`~jupyterhub.services.auth.HubAuth`, answering with an :class:`Identity`.

    HubAuth asks the hub who owns a token (``GET {api_url}/user``; a 403 means the token is not
    valid) and caches the answers, valid or not, ``cache_max_age`` seconds, keyed by the token's
    SHA-256. Its traits are configurable as ``c.HubAuthenticator.<trait>`` in ``coop_config.py``.
    """

    @default("cache_max_age")
    def _default_cache_max_age(self) -> int:
        return 60  # a revoked token stops working within a minute

    @validate("api_url")
    def _without_trailing_slash(self, proposal: Bunch) -> str:
        return str(proposal["value"]).rstrip("/")

    async def identify(self, token: str) -> Identity | None:
        try:
            model = await self.user_for_token(token, sync=False)
        except HTTPError as exc:  # HubAuth's way of saying the hub could not answer
            raise HubUnavailable(
                "JupyterHub cannot be reached to check your token: try again shortly",
                f"asking {self.api_url}/user failed: {exc.log_message or exc}",
            ) from None
        if model is None:
            return None
        name = model.get("name") if isinstance(model, dict) else None
        if not isinstance(name, str) or not name:
            raise HubUnavailable("JupyterHub gave an unexpected answer", f"{self.api_url}/user: {model!r}")
        return Identity(
            name=name,
            scopes=frozenset(model.get("scopes") or ()),
            groups=frozenset(model.get("groups") or ()),
            kind=str(model.get("kind") or "user"),
        )
