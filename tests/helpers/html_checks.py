"""Checks that a piece of the web chat's HTML can run nothing and link nowhere it should not."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# The tags ui.render writes itself; anything else came from an article, a file name or a caller.
ALLOWED_TAGS = {"div", "span", "a", "strong", "small", "br", "mark", "blockquote", "h4", "ul", "li",
                "p", "code"}


class Tags(HTMLParser):
    """Every tag and attribute of a piece of HTML, and its text as a browser would show it."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags, self.attrs, self.text = [], [], []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data):
        self.text.append(data)


def assert_inert(html: str, markdown: bool = False) -> str:
    """No tag but the product's own, no event handler, no link but to a source card or an
    http(s) page; where the HTML goes through Markdown (the chat), no link, image or LaTeX
    syntax left to interpret. Returns the text a reader sees."""
    parsed = Tags(html)
    assert set(parsed.tags) <= ALLOWED_TAGS, html
    for name, value in parsed.attrs:
        assert not name.startswith("on"), html
        if name in ("href", "src"):
            assert re.match(r"#src-\d+$|https?://[^\s/]", value or ""), html
    if markdown:
        for syntax in ("](", "![", "$$", "<script", "<img"):
            assert syntax not in html, (syntax, html)
    return "".join(parsed.text)
