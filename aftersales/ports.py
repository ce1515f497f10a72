"""One server per port: what `aftersales serve` claims before granian starts, and holds while
it serves.

Granian's workers on Linux each bind the address with SO_REUSEPORT (the kernel spreads the
connections over them), and the kernel lets any other process of the same user join such a
port: a second `aftersales serve` on the same address would bind too and take half the
connections, silently. So, before starting, `claim_port`

* takes the port's lock, an abstract Unix socket named after the port (Linux; the kernel
  releases it when the last process holding it ends, even killed with -9): two servers
  starting at the same moment cannot both have it;
* binds the address once without SO_REUSEPORT (and closes it): any listener already there,
  ours or any other program's, makes that bind fail.

The lock is per port, whatever the address: 127.0.0.1:8080 and 0.0.0.0:8080 overlap."""

from __future__ import annotations

import errno
import ipaddress
import socket
from dataclasses import dataclass


class PortClaimError(OSError):
    """The address cannot be served: ``in_use`` when something listens there already (exit 5),
    else the address or port itself is wrong for this machine (exit 2)."""

    def __init__(self, message: str, in_use: bool) -> None:
        super().__init__(message)
        self.in_use = in_use


@dataclass
class PortClaim:
    """The lock on a port, held while the server runs (``release`` when it stops)."""

    host: str
    port: int
    lock: socket.socket | None

    def release(self) -> None:
        if self.lock is not None:
            self.lock.close()
            self.lock = None


def address_of(host: str) -> str:
    """The IP address to bind for ``--host`` (a name such as ``localhost`` resolved here:
    granian takes addresses only; IPv4 first), or PortClaimError."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (OSError, UnicodeError):
        raise PortClaimError(f"--host {host}: no such host", in_use=False) from None
    addresses = [str(info[4][0]) for info in found]
    return next((a for a in addresses if ":" not in a), addresses[0])


def url_of(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def lock_name(port: int) -> str:
    return f"\0aftersales-serve-port-{port}"


def claim_port(host: str, port: int) -> PortClaim:
    """Claim ``host:port`` (an IP address) for one server, or PortClaimError saying why not."""
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    lock = _lock(port, where)
    try:
        _probe(host, port, where)
    except BaseException:
        if lock is not None:
            lock.close()
        raise
    return PortClaim(host, port, lock)


def _lock(port: int, where: str) -> socket.socket | None:
    """The port's lock (PortClaimError when another process holds it), or None where there
    are no abstract Unix sockets (not Linux: the probe alone decides there)."""
    if not hasattr(socket, "AF_UNIX"):
        return None
    lock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        lock.bind(lock_name(port))
    except OSError as error:
        lock.close()
        if error.errno == errno.EADDRINUSE:
            raise PortClaimError(f"{where}: address already in use (another aftersales "
                                 f"serve holds port {port})", in_use=True) from None
        return None
    return lock


def _probe(host: str, port: int, where: str) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # as granian binds: a port left in TIME_WAIT by a server that stopped is free
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortClaimError(f"{where}: address already in use", in_use=True
                                     ) from None
            if error.errno == errno.EADDRNOTAVAIL:
                raise PortClaimError(f"--host {host}: not an address of this machine",
                                     in_use=False) from None
            raise PortClaimError(f"cannot listen on {where}: {error.strerror or error}",
                                 in_use=False) from None
