"""One server per port (aftersales/ports.py): the claim `aftersales serve` holds refuses a
second claim of the port, any listener already there (with SO_REUSEPORT, as granian's
workers bind, or without), and an address that is not this machine's; released, the port
can be claimed again. Loopback only."""

from __future__ import annotations

import re
import socket

import pytest

from aftersales.brokers.process import free_port
from aftersales.ports import PortClaimError, address_of, claim_port, url_of


def test_a_claimed_port_cannot_be_claimed_again_until_released() -> None:
    port = free_port()
    first = claim_port("127.0.0.1", port)
    with pytest.raises(PortClaimError, match="another aftersales serve holds") as refused:
        claim_port("127.0.0.1", port)
    assert refused.value.in_use
    first.release()
    claim_port("127.0.0.1", port).release()


@pytest.mark.parametrize("reuse_port", [True, False])
def test_a_port_something_listens_on_is_in_use(reuse_port: bool) -> None:
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(PortClaimError, match=re.escape(
                f"127.0.0.1:{port}: address already in use")) as refused:
            claim_port("127.0.0.1", port)
        assert refused.value.in_use
    claim_port("127.0.0.1", port).release()  # the refusal held nothing


def test_an_address_of_another_machine_is_a_bad_host() -> None:
    bad = re.escape("--host 192.0.2.1: not an address")
    with pytest.raises(PortClaimError, match=bad) as refused:
        claim_port("192.0.2.1", free_port())  # TEST-NET-1: never this machine's
    assert not refused.value.in_use


def test_hosts_are_addresses_names_resolved_ipv4_first() -> None:
    assert address_of("127.0.0.1") == "127.0.0.1" and address_of("::1") == "::1"
    assert address_of("localhost") == "127.0.0.1"
    with pytest.raises(PortClaimError, match="no such host"):
        address_of("no-such-host.invalid")
    assert url_of("::1", 8080) == "http://[::1]:8080"
    assert url_of("127.0.0.1", 8080) == "http://127.0.0.1:8080"
