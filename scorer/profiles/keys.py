"""The instance's signing key: Ed25519, made on first use under the scorer's home.

``<home>/issuer-keys.json`` (mode 0600) holds the current private key and the public keys of
the keys it replaced: rotating makes a new key and keeps the old public key, so that
credentials signed before still verify against the published JWKS. Old private keys are
dropped. Each key's ``kid`` is its RFC 7638 thumbprint.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc.jwk import KeySet, OKPKey

from scorer.exceptions import CoopError

log = logging.getLogger("coop.federation")

KEY_FILE = "issuer-keys.json"
ALGORITHM = "Ed25519"


@dataclass(frozen=True)
class KeyRing:
    """The current signing key and the public keys of the earlier ones."""

    current: OKPKey
    retired: tuple[OKPKey, ...] = ()

    @property
    def kid(self) -> str:
        return self.current.thumbprint()

    def jwks(self) -> dict[str, Any]:
        """The public keys, current first, each with its ``kid`` and ``alg``."""
        return {"keys": [_public(key) for key in (self.current, *self.retired)]}

    def public_keys(self) -> KeySet:
        return KeySet.import_key_set(self.jwks())  # type: ignore[arg-type]


def key_path(home: Path) -> Path:
    return home / KEY_FILE


def load_keys(home: Path) -> KeyRing:
    """The key ring under ``home``, made (one new key) on first use."""
    path = key_path(home)
    if not path.exists():
        _write(path, KeyRing(_new_key()), replace=False)  # a racing first use keeps the other's key
    try:
        if path.stat().st_mode & 0o077:  # restored or copied with a looser mode: only ours again
            log.warning("%s was readable by others: its mode is 0600 again", path)
            path.chmod(0o600)
        data = json.loads(path.read_text(encoding="utf-8"))
        current = OKPKey.import_key(data["current"])
        retired = tuple(OKPKey.import_key(entry) for entry in data.get("retired", []))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CoopError(f"the instance's key file {path} cannot be read: {exc}") from None
    return KeyRing(current, retired)


def rotate_keys(home: Path) -> KeyRing:
    """A new current key; the old one's public key stays in the ring."""
    ring = load_keys(home)
    public = OKPKey.import_key(ring.current.as_dict(private=False))
    return _write(key_path(home), KeyRing(_new_key(), (public, *ring.retired)))


def _new_key() -> OKPKey:
    return OKPKey.generate_key("Ed25519")


def _public(key: OKPKey) -> dict[str, Any]:
    return {**key.as_dict(private=False), "kid": key.thumbprint(), "alg": ALGORITHM, "use": "sig"}


def _write(path: Path, ring: KeyRing, *, replace: bool = True) -> KeyRing:
    data = {
        "current": ring.current.as_dict(private=True),
        "retired": [key.as_dict(private=False) for key in ring.retired],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    # Created 0600 from the start: the private key is never readable by others, not even briefly.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        if replace:
            os.replace(temporary, path)
        else:
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)  # atomic: fails when another process made the key first
    finally:
        temporary.unlink(missing_ok=True)
    return ring
