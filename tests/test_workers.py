"""Two API worker processes against one Chroma server: the same answers, and a rebuild started
through one is served by the other once it completes."""

import time
import uuid

import httpx

from tests.conftest import SEED_QUESTION, make_settings, rag_env, write_article
from tests.server_process import running_server
from tests.test_faults import index_cli

TRAM = ("The city council of Aldbridge approved the new tram line on Tuesday after a four-hour "
        "debate. Construction will begin in March and cost 420 million euros, the transport "
        "department said.")
QUESTIONS = [SEED_QUESTION, "Who is Xiaomi's founder and CEO?", "What did Lu Weibing say about memory chips?",
             "Who won the football World Cup final in Qatar?"]


def answer(base, question):
    reply = httpx.post(f"{base}/api/answer", json={"question": question}, timeout=60)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    return body["answer"], body["refused"], [(c["n"], c["article_id"], c["quote"]) for c in body["citations"]]


def test_two_workers_one_chroma_server(tmp_path, seeds_copy, chroma_server):
    if chroma_server.proc is None:
        chroma_server.start()
    shared = {"seeds_dir": seeds_copy, "chroma_host": "127.0.0.1", "chroma_port": chroma_server.port,
              "collection": f"w{uuid.uuid4().hex[:10]}"}
    # Each worker has its own local folder, as on separate machines; Chroma is the shared truth.
    worker_a = make_settings(tmp_path / "a", **shared)
    worker_b = make_settings(tmp_path / "b", **shared)
    assert index_cli(rag_env(worker_a)).returncode == 0
    with running_server(worker_a) as a, running_server(worker_b) as b:
        for question in QUESTIONS:
            assert answer(a, question) == answer(b, question)

        write_article(seeds_copy, "tram.txt", "Aldbridge approves tram line", TRAM)
        assert httpx.post(f"{a}/api/index/rebuild", timeout=30).status_code == 202
        deadline = time.time() + 300
        while httpx.get(f"{a}/api/index", timeout=30).json()["rebuild"]["state"] == "running":
            assert time.time() < deadline
            time.sleep(0.5)
        state_a = httpx.get(f"{a}/api/index", timeout=30).json()
        assert state_a["rebuild"]["state"] == "idle" and state_a["articles"] == 2

        deadline = time.time() + 30
        while httpx.get(f"{b}/healthz", timeout=30).json()["snapshot"] != state_a["snapshot"]:
            assert time.time() < deadline, "worker B never switched to the new index"
            time.sleep(0.5)
        tram = "What will the Aldbridge tram line cost?"
        assert "420 million euros" in answer(b, tram)[0]
        assert answer(a, tram) == answer(b, tram)
        for question in QUESTIONS:
            assert answer(a, question) == answer(b, question)


def _files(folder):
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file()}


def test_workers_serve_the_builders_folder_on_shared_storage_without_writing_to_it(
        tmp_path, seeds_copy, chroma_server):
    """Past one machine: a builder writes the snapshot folders to shared storage, and workers
    elsewhere serve those very files over the Chroma server, read-only (their conversations in
    a database of their own), following each rebuild."""
    if chroma_server.proc is None:
        chroma_server.start()
    shared = {"seeds_dir": seeds_copy, "chroma_host": "127.0.0.1", "chroma_port": chroma_server.port,
              "collection": f"w{uuid.uuid4().hex[:10]}"}
    builder = make_settings(tmp_path / "shared", **shared)
    assert index_cli(rag_env(builder)).returncode == 0
    workers = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        database = f"sqlite:///{tmp_path / name / 'conversations.sqlite3'}"
        workers.append(make_settings(tmp_path / "shared", database_url=database, **shared))
    before = _files(builder.index_dir)
    with running_server(workers[0]) as a, running_server(workers[1]) as b:
        first = {httpx.get(f"{w}/healthz", timeout=30).json()["snapshot"] for w in (a, b)}
        for question in QUESTIONS:
            assert answer(a, question) == answer(b, question)
        assert _files(builder.index_dir) == before  # serving wrote nothing to the shared folder

        write_article(seeds_copy, "tram.txt", "Aldbridge approves tram line", TRAM)
        assert index_cli(rag_env(builder)).returncode == 0  # the builder, on its own machine
        after = _files(builder.index_dir)
        deadline = time.time() + 30
        while True:
            now = {httpx.get(f"{w}/healthz", timeout=30).json()["snapshot"] for w in (a, b)}
            if len(now) == 1 and now != first:
                break
            assert time.time() < deadline, f"the workers did not both switch: {first} -> {now}"
            time.sleep(0.5)
        tram = "What will the Aldbridge tram line cost?"
        assert "420 million euros" in answer(b, tram)[0]
        assert answer(a, tram) == answer(b, tram)
        assert _files(builder.index_dir) == after  # following the rebuild wrote nothing either
