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
    """With RAG_API_KEY set, only a caller whose key was checked may change the index, wherever
    the server listens: behind a reverse proxy on the same machine every visitor arrives from
    loopback. Without a key, only a server on loopback lets anyone rebuild or upload, since then
    only local users can reach it."""
    if settings.api_key:
        return key_checked
    return is_loopback(bind_host)
