"""Run the `rag` CLI with every non-loopback connection blocked and recorded.

Usage: python -m tests.helpers.no_network LOGFILE rag-args...  The log lists each attempt."""

import ipaddress
import socket
import sys

LOG = sys.argv[1]
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _record(what: str) -> None:
    with open(LOG, "a") as fh:
        fh.write(what + "\n")


def _is_local(host) -> bool:
    if host in ("localhost", "", None):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _check(address) -> None:
    if isinstance(address, tuple) and not _is_local(address[0]):
        _record(f"connect {address!r}")
        raise OSError(101, "network blocked by test")


def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check(address)
    return _real_connect(self, address)


def connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check(address)
    return _real_connect_ex(self, address)


def getaddrinfo(host, *args, **kwargs):
    if not _is_local(host):
        _record(f"resolve {host!r}")
        raise socket.gaierror(socket.EAI_NONAME, "name resolution blocked by test")
    return _real_getaddrinfo(host, *args, **kwargs)


socket.socket.connect = connect
socket.socket.connect_ex = connect_ex
socket.getaddrinfo = getaddrinfo

if __name__ == "__main__":
    from rag.cli import main

    sys.exit(main(sys.argv[2:]))
