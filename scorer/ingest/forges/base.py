"""Forge webhooks as pure functions: signatures, delivery ids, event types and push payloads.

A challenge may live on GitHub, GitLab or Gitea (its ``forge:`` section) instead of being served
by the scorer. Each forge signs its deliveries and shapes its push payload in its own way; a
:class:`ForgeWebhooks` knows one of them and turns a delivery into one :class:`PushEvent`. They
are the entry points of the group ``coop.forges`` (the built-ins ``github``, ``gitlab``, ``gitea``
and any plugin's), looked up through the ``forges`` registry of the API facade.

======  ===========================================  ==========================  ==================
forge   signature                                    delivery id                 push event
======  ===========================================  ==========================  ==================
GitHub  ``X-Hub-Signature-256: sha256=<hex>``        ``X-GitHub-Delivery``       ``X-GitHub-Event:
        (HMAC-SHA256 of the raw body)                                            push``
GitLab  ``X-Gitlab-Token: <the secret itself>``      ``Idempotency-Key``, else   ``X-Gitlab-Event:
                                                     ``X-Gitlab-Event-UUID``     Push Hook``
Gitea   ``X-Gitea-Signature: <hex>`` (HMAC-SHA256    ``X-Gitea-Delivery``        ``X-Gitea-Event:
        of the raw body)                                                         push``
======  ===========================================  ==========================  ==================

GitLab's ``Idempotency-Key`` stays the same when GitLab retries a delivery, so it wins over the
event UUID. The pusher is the forge account that pushed (GitHub ``sender.login``, GitLab
``user_username``, Gitea ``pusher.login``), never a commit's author line. The payload's commit
list is informational: forges cap it (GitLab at 20), so what a push brought is read from git.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from coop_client.git import ZERO_SHA
from scorer.exceptions import MalformedDelivery, SignatureMismatch

Sha = Annotated[str, Field(pattern=r"^[0-9a-f]{40}$")]
#: Branches and tags only; ``git check-ref-format`` has the last word before a ref is used.
PushedRef = Annotated[str, Field(pattern=r"^refs/(heads|tags)/[^\x00-\x20\x7f~^:?*\[\\]+$", max_length=255)]
Login = Annotated[str, Field(pattern=r"^[^\s/:]+$", max_length=255)]
EventKind = Literal["push", "ping", "other"]


class PushEvent(BaseModel):
    """One push, whichever forge announced it."""

    model_config = ConfigDict(frozen=True)

    forge: str
    delivery_id: str
    full_name: str  # owner/name on the forge
    urls: tuple[str, ...]  # the clone (and web) URLs the payload gives for the repository
    ref: str
    before: str
    after: str
    commits: tuple[str, ...]  # as listed by the forge (capped); informational
    pusher: str  # the forge login that pushed

    @property
    def deleted(self) -> bool:
        return self.after == ZERO_SHA

    def is_for(self, repository: str, full_name: str | None = None) -> bool:
        """Whether the push is to ``repository`` (by ``full_name`` when given, else by URL)."""
        if full_name:
            return self.full_name.casefold() == full_name.casefold()
        return any(_same_url(url, repository) for url in self.urls)


class Payload(BaseModel):
    """A part of a forge's payload: strict types, keys we do not read are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)


class _Commit(Payload):
    id: Sha


class Account(Payload):
    login: Login


class PushPayload(Payload):
    """What every forge's push payload has; subclasses say where and who."""

    ref: PushedRef
    before: Sha
    after: Sha
    commits: list[_Commit]

    def location(self) -> tuple[str, tuple[str, ...]]:
        """The repository's full name and its URLs."""
        raise NotImplementedError

    def pusher_login(self) -> str:
        raise NotImplementedError


class ForgeWebhooks:
    """The webhooks of one forge. Subclasses set the class attributes (``payload``: the push
    payload's model) and implement :meth:`signed`; :meth:`signers`, :meth:`event`,
    :meth:`kind` and :meth:`push_event` are the steps the service runs, in that order."""

    name: ClassVar[str]
    label: ClassVar[str]
    signature_header: ClassVar[str]
    event_header: ClassVar[str]
    delivery_headers: ClassVar[tuple[str, ...]]  # the first one present wins
    push_events: ClassVar[frozenset[str]]
    ping_events: ClassVar[frozenset[str]] = frozenset()
    payload: ClassVar[type[PushPayload]]

    def signed(self, signature: str, body: bytes, secret: str) -> bool:
        """Whether ``signature`` (the signature header's value) is ``secret``'s for ``body``."""
        raise NotImplementedError

    def signers(self, headers: Mapping[str, str], body: bytes, secrets: Mapping[str, str]) -> list[str]:
        """The keys of ``secrets`` whose secret signed this delivery (compared in constant
        time); :class:`SignatureMismatch` when it is unsigned or none did."""
        signature = header(headers, self.signature_header)
        if not signature:
            raise SignatureMismatch(
                f"the delivery has no {self.signature_header} header: set the webhook's secret"
            )
        found = [key for key, secret in secrets.items() if secret and self.signed(signature, body, secret)]
        if not found:
            raise SignatureMismatch(
                f"the {self.signature_header} of this delivery matches the secret of no challenge hosted on "
                f"{self.label}"
            )
        return found

    def event(self, headers: Mapping[str, str]) -> str:
        event = header(headers, self.event_header)
        if not event:
            raise MalformedDelivery(f"the delivery has no {self.event_header} header")
        return event

    def kind(self, event: str) -> EventKind:
        if event in self.push_events:
            return "push"
        return "ping" if event in self.ping_events else "other"

    def delivery_id(self, headers: Mapping[str, str]) -> str:
        for name in self.delivery_headers:
            value = header(headers, name)
            if value:
                if len(value) > 128 or not value.isprintable():
                    raise MalformedDelivery(
                        f"the {name} header is not a delivery id (at most 128 printable characters)"
                    )
                return value
        raise MalformedDelivery(f"the delivery has no {' or '.join(self.delivery_headers)} header")

    def push_event(self, headers: Mapping[str, str], body: bytes) -> PushEvent:
        """The delivery's push, or :class:`MalformedDelivery` saying what is wrong with it."""
        delivery = self.delivery_id(headers)
        try:
            data = json.loads(body)
        except RecursionError:
            raise MalformedDelivery(f"the {self.label} payload is nested too deeply") from None
        except ValueError as exc:  # not JSON, not UTF-8, or an integer of over 4300 digits
            raise MalformedDelivery(
                f"the {self.label} payload is not JSON ({exc}): "
                "set the webhook's content type to application/json"
            ) from None
        if not isinstance(data, dict):
            raise MalformedDelivery(f"the {self.label} payload is not a JSON object")
        try:
            payload = self.payload.model_validate(data)
        except ValidationError as exc:
            raise MalformedDelivery(f"not a {self.label} push payload: {_problems(exc)}") from None
        full_name, urls = payload.location()
        return PushEvent(
            forge=self.name,
            delivery_id=delivery,
            full_name=full_name,
            urls=tuple(url for url in urls if url),
            ref=payload.ref,
            before=payload.before,
            after=payload.after,
            commits=tuple(c.id for c in payload.commits),
            pusher=payload.pusher_login(),
        )


def hmac_sha256(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def equal_digest(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.strip().encode(), expected.encode())


def hub_user(forge: str, login: str, logins: Mapping[str, str]) -> str:
    """The hub user a forge login pushes as: ``logins["<forge>:<login>"]`` (keys compared
    case-insensitively), else the login in lower case, which is what JupyterHub calls the
    person when it logs them in with that forge's OAuth (its default ``normalize_username``)."""
    wanted = f"{forge}:{login}".casefold()
    mapped = next((user for key, user in logins.items() if key.casefold() == wanted), None)
    return mapped or login.lower()


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, its name compared case-insensitively (as HTTP does)."""
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def _same_url(given: str, configured: str) -> bool:
    return _comparable(given) == _comparable(configured)


def _comparable(url: str) -> str:
    """``https://GitHub.com/Org/Repo.git/`` and ``https://github.com/org/repo`` compare equal;
    so do ``file:///srv/x.git`` and ``/srv/x.git``."""
    return url.strip().removeprefix("file://").rstrip("/").removesuffix(".git").casefold()


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'payload'}: {error['msg']}"
        for error in exc.errors()
    )
