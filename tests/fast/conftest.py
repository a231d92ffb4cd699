"""The fast tier: the service, its rebuilds and its HTTP API over in-process fakes (tests/fakes.py),
with no model, no Chroma and no network. Every test under tests/fast is marked `fast`
(`make test-fast` runs `pytest -m "not real" tests/fast`); `make test` runs them with everything
else.

A behaviour that must also hold with the real parts is one test, parametrized over both
(`parts` below: "fake", and "real", marked `real`, which `make test` runs with Chroma, MiniLM,
a scripted OpenAI-compatible server over HTTP, or the product's own server process).

The real store, embedder and LLM client must never be built by a fake run: an autouse guard
makes any attempt fail, so a part the service stops honouring shows up as a failure, not a slow
test."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from rag.service import RagService
from tests.conftest import SEEDS, make_settings
from tests.fakes import FakeEmbedder, FakeLlm, FakeStore

HERE = Path(__file__).resolve().parent


REAL = pytest.param("real", marks=pytest.mark.real)
BOTH_TIERS = ["fake", REAL]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if Path(str(item.path)).resolve().is_relative_to(HERE) and not item.get_closest_marker("real"):
            item.add_marker(pytest.mark.fast)


@pytest.fixture(autouse=True)
def no_real_parts(request):
    if request.node.get_closest_marker("real"):
        yield
        return

    def refuse(what):
        def fail(*args, **kwargs):
            raise AssertionError(f"the fast tier built the real {what}; pass a fake instead")
        return fail

    with pytest.MonkeyPatch.context() as patch:
        for module in ("rag.service", "rag.index.build"):
            patch.setattr(f"{module}.Store", refuse("Chroma store"))
            patch.setattr(f"{module}.get_embedder", refuse("embedder"))
        patch.setattr("rag.answer.llm.LlmClient", refuse("LLM client"))
        yield


def fast_settings(tmp: Path, **overrides):
    # The shipped gate and its threshold, as the product runs them.
    return make_settings(tmp, **overrides)


def fast_service(settings, llm=None, store=None, embedder=None) -> RagService:
    return RagService(settings, store=store if store is not None else FakeStore(),
                      embedder=embedder if embedder is not None else FakeEmbedder(), llm=llm)


class BlockingEmbedder(FakeEmbedder):
    """Holds every embed() until `go` is set, so that a rebuild can be caught running."""

    def __init__(self):
        super().__init__()
        self.waiting, self.go = threading.Event(), threading.Event()

    def embed(self, texts):
        self.waiting.set()
        assert self.go.wait(10), "the test never let the rebuild go on"
        return super().embed(texts)


class SeedIndex:
    """The shipped seed article, indexed once into a FakeStore and the index folder; services
    made from it share both and load the snapshot from the local cache."""

    def __init__(self, tmp: Path):
        self.settings = fast_settings(tmp, seeds_dir=SEEDS)
        self.store, self.embedder = FakeStore(), FakeEmbedder()
        self.summary = fast_service(self.settings, store=self.store, embedder=self.embedder).rebuild()

    def service(self, llm=None, **settings_overrides) -> RagService:
        settings = self.settings.model_copy(update=settings_overrides)
        return fast_service(settings, llm=llm, store=self.store, embedder=self.embedder)


@pytest.fixture(scope="package")
def seed_index(tmp_path_factory) -> SeedIndex:
    return SeedIndex(tmp_path_factory.mktemp("fast-seed"))


@pytest.fixture
def service(seed_index) -> RagService:
    """The seed index, extractive answers only (no LLM)."""
    return seed_index.service()


@pytest.fixture(params=BOTH_TIERS)
def extractive(request) -> RagService:
    """The seed article answered without an LLM: over the fakes, or with Chroma and MiniLM."""
    if request.param == "fake":
        return request.getfixturevalue("seed_index").service()
    return request.getfixturevalue("seed_service")


@pytest.fixture
def fake_llm() -> FakeLlm:
    return FakeLlm()


@pytest.fixture
def llm_service(seed_index, fake_llm) -> RagService:
    """The seed index answered through `fake_llm` (set its `reply` in the test)."""
    return seed_index.service(llm=fake_llm)


class ScriptedModel:
    """The LLM as a test scripts and reads it, the same in both tiers: `reply` (the answer's
    text, or a function of the messages) and `requests` (each call's messages). Fake: FakeLlm in
    process; real: the scripted OpenAI-compatible server, over HTTP."""

    def __init__(self, fake: FakeLlm | None = None, server=None):
        self.fake, self.server = fake, server

    @property
    def reply(self):
        return (self.fake or self.server).reply

    @reply.setter
    def reply(self, reply) -> None:
        if self.fake is not None:
            self.fake.reply = reply
        else:
            self.server.reply = reply if callable(reply) else (lambda messages: reply)

    @property
    def requests(self) -> list[list[dict]]:
        if self.fake is not None:
            return self.fake.requests
        return [body["messages"] for body in self.server.requests if "messages" in body]

    @property
    def prompts(self) -> list[str]:
        return [messages[-1]["content"] for messages in self.requests]


@pytest.fixture(params=BOTH_TIERS)
def answering(request) -> tuple[RagService, ScriptedModel]:
    """The seed article answered through a scripted LLM: the fakes in process, or the real
    parts (Chroma, MiniLM, the scripted server over HTTP)."""
    if request.param == "fake":
        fake = FakeLlm()
        return request.getfixturevalue("seed_index").service(llm=fake), ScriptedModel(fake=fake)
    server = request.getfixturevalue("llm")
    settings = request.getfixturevalue("seed_settings").model_copy(update={
        "openai_base_url": server.base_url, "llm_model": "scripted", "llm_timeout_s": 30.0})
    return RagService(settings), ScriptedModel(server=server)


@pytest.fixture
def client(service):
    """The HTTP API over the seed service, in process."""
    return http_client(service)


@pytest.fixture(scope="package")
def product_server(request):
    """The product's own server process (`rag serve`) over the real seed index."""
    from tests.server_process import running_server

    with running_server(request.getfixturevalue("seed_settings")) as base:
        yield base


@pytest.fixture(params=BOTH_TIERS)
def api(request):
    """The HTTP API over the seed article: in process over the fakes (FastAPI's TestClient), or
    the real server process spoken to over loopback; both are httpx clients."""
    if request.param == "fake":
        yield http_client(request.getfixturevalue("service"))
        return
    import httpx

    with httpx.Client(base_url=request.getfixturevalue("product_server"), timeout=60) as client:
        yield client


def http_client(service, warm: bool = True, raise_server_exceptions: bool = True):
    from fastapi.testclient import TestClient

    from rag.web.app import create_app

    if warm:
        service.warm_up()
    return TestClient(create_app(service, "127.0.0.1"), raise_server_exceptions=raise_server_exceptions)


@pytest.fixture
def corpus(tmp_path):
    """An empty seeds folder and a service over it; write articles, then `service.rebuild()`."""
    settings = fast_settings(tmp_path)
    settings.seeds_dir.mkdir(parents=True)
    return fast_service(settings)
