"""Reading a server-sent-events body in tests."""

from __future__ import annotations

import json


def sse_events(text: str) -> list[tuple[str | None, object]]:
    """(event name or None, decoded data) per event; OpenAI's closing `[DONE]` stays a string."""
    events = []
    for block in text.strip().split("\n\n"):
        name = data = None
        for line in block.splitlines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = line[6:] if line[6:] == "[DONE]" else json.loads(line[6:])
        events.append((name, data))
    return events
