"""Which article URLs may reach a reader: the one rule for ingest and for what the service serves."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_url(url: object) -> str | None:
    """The URL if it is http(s) with a host, else None. An article's URL comes from whoever wrote
    the seeds folder, and a user clicks it: `javascript:` or `data:` would run in the page.
    Browsers drop leading spaces and control characters, and tabs and newlines anywhere, before
    they read the scheme (so "java<TAB>script:" is javascript:): a URL with any such character is
    refused rather than cleaned, since a real address has none."""
    if not isinstance(url, str) or any(c.isspace() or not c.isprintable() for c in url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # a malformed IPv6 host, for one
        return None
    return url if parts.scheme.lower() in ("http", "https") and host else None
