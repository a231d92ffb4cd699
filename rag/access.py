"""Who may change the index (rebuild it, add article files): one rule for the API and the web chat."""

from __future__ import annotations

import ipaddress

from rag.config import Settings


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def may_change_index(settings: Settings, bind_host: str, key_checked: bool) -> bool:
    """A caller whose API key was checked may always change the index. Without a key a server
    reachable from the network must not let anyone rebuild or upload; on loopback only local
    users can reach it."""
    if settings.api_key and key_checked:
        return True
    return is_loopback(bind_host)
