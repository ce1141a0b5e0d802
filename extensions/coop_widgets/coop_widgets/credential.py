"""git's credential helper for the scorer's repositories (``git help credential``).

git runs it as ``<helper> get`` with ``key=value`` lines on stdin (``protocol``, ``host``,
maybe ``path``) and reads ``username``/``password`` lines back. It answers only for the
scorer's own scheme and host (``$COOP_SERVICE_URL``), with the hub user
(``$JUPYTERHUB_USER``) and the server's API token (``$JUPYTERHUB_API_TOKEN``) taken from the
environment when git asks: the token is never written to a URL or a file. ``store`` and
``erase`` are ignored (there is nothing to keep).

Run as ``python -I -m coop_widgets.credential get`` (what attach configures) or ``coop credential get``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from typing import TextIO
from urllib.parse import urlsplit


def parse(lines: Iterable[str]) -> dict[str, str]:
    """The request's attributes, up to the first blank line."""
    request = {}
    for line in lines:
        line = line.rstrip("\r\n")
        if not line:
            break
        key, sep, value = line.partition("=")
        if sep:
            request[key] = value
    return request


def answer(request: Mapping[str, str], environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """``username`` and ``password`` for a request to the scorer; nothing for any other host."""
    user, token = environ.get("JUPYTERHUB_USER", ""), environ.get("JUPYTERHUB_API_TOKEN", "")
    service = urlsplit(environ.get("COOP_SERVICE_URL", ""))
    if not (user and token and service.scheme and service.netloc):
        return {}
    same_scheme = request.get("protocol", "").lower() == service.scheme.lower()
    same_host = request.get("host", "").lower() == service.netloc.lower()
    return {"username": user, "password": token} if same_scheme and same_host else {}


def run(action: str, stdin: TextIO, stdout: TextIO, environ: Mapping[str, str] = os.environ) -> int:
    """One helper call: read the request (always, so git never blocks), answer ``get``."""
    request = parse(stdin)
    if action == "get":
        stdout.writelines(f"{key}={value}\n" for key, value in answer(request, environ).items())
        stdout.flush()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    return run(args[-1] if args else "", sys.stdin, sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
