"""A real embedder that keeps every text it is asked to embed, as tests/fakes.FakeEmbedder does,
so a test can tell what a rebuild embedded again."""

from __future__ import annotations


class CountingEmbedder:
    def __init__(self, inner):
        self.inner, self.name, self.calls = inner, inner.name, []

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts):
        self.calls.append(list(texts))
        return self.inner.embed(texts)

    def quick(self, texts):
        return self.inner.quick(texts)

    @property
    def embedded_texts(self) -> list[str]:
        return [t for batch in self.calls for t in batch]
