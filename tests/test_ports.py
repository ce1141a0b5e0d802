"""scorer.ports: ports for programs told theirs in advance, never one the kernel may hand out."""

from __future__ import annotations

import socket

import pytest

from scorer import ports
from scorer.exceptions import CoopError


def test_held_ports_are_distinct_and_outside_the_kernels_ephemeral_range():
    low, high = map(int, ports.EPHEMERAL_RANGE.read_text().split())
    with ports.hold(5) as held:
        assert len(set(held.numbers)) == 5
        assert not [port for port in held.numbers if low <= port <= high]


def test_a_held_port_is_handed_to_no_other_holder(monkeypatch):
    with ports.hold() as held:
        [port] = held.numbers
        monkeypatch.setattr(ports, "candidates", lambda: range(port, port + 1))
        with pytest.raises(CoopError, match=f"no 1 free ports on 127.0.0.1 in {port}-{port}"):
            ports.hold()


def test_a_port_something_listens_on_is_skipped(monkeypatch):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        monkeypatch.setattr(ports, "candidates", lambda: range(port, port + 1))
        with pytest.raises(CoopError, match="no 1 free ports"):
            ports.hold()
