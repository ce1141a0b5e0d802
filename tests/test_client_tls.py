"""The typed client's shared TLS settings still verify: a service behind a certificate no one
trusts is refused with the reason, by the first client and by the next (which reuses them)."""

from __future__ import annotations

import http.server
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from coop_client.client import CoopClient, CoopClientError, tls_context
from tests.hub.production_hub import self_signed


@pytest.fixture(scope="module")
def untrusted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    cert, key = self_signed(Path(tmp_path_factory.mktemp("tls")))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_every_client_verifies_the_service_with_the_shared_settings(untrusted: str):
    for _ in range(2):
        with CoopClient(untrusted, timeout=30) as client, pytest.raises(CoopClientError) as refused:
            client.challenges()
        assert refused.value.status == 0 and "CERTIFICATE_VERIFY_FAILED" in refused.value.message
    assert tls_context() is tls_context() and tls_context().verify_mode == ssl.CERT_REQUIRED
