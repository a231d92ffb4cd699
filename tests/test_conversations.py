"""Conversations and ratings with the real parts: the product's server (`rag serve`) on its
default SQLite file beside the index, stopped and started again; `rag feedback export` and
`rag eval` on what it wrote, as subprocesses."""

import json
import subprocess
import sys

import httpx

from tests.conftest import OFF_TOPIC_QUESTION, SEED_QUESTION, make_settings, rag_env
from tests.server_process import running_server
from tests.test_faults import index_cli


def rag(settings, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], env=rag_env(settings),
                          capture_output=True, text=True, timeout=600)


def test_a_restart_keeps_everything_and_the_ratings_become_an_eval_set(tmp_path, seeds_copy):
    settings = make_settings(tmp_path, seeds_dir=seeds_copy)
    assert index_cli(rag_env(settings)).returncode == 0
    with running_server(settings) as base:
        first = httpx.post(f"{base}/api/answer", json={"question": SEED_QUESTION}, timeout=60).json()
        follow = httpx.post(f"{base}/api/answer", json={"question": "What about its profit?",
                                                        "conversation_id": first["conversation_id"]},
                            timeout=60).json()
        refused = httpx.post(f"{base}/api/answer", json={"question": OFF_TOPIC_QUESTION}, timeout=60).json()
        for answer, rating, comment in [(first, "up", None), (follow, "down", "wanted the yuan figure"),
                                        (refused, "up", None)]:
            reply = httpx.post(f"{base}/api/feedback", timeout=30, json={
                "answer_id": answer["answer_id"], "rating": rating, "comment": comment})
            assert reply.status_code == 201
        before = httpx.get(f"{base}/api/conversations/{first['conversation_id']}", timeout=30).json()
    assert (tmp_path / "index" / "conversations.sqlite3").exists()  # beside the index, no set-up

    with running_server(settings) as base:  # a new process on the same folder
        after = httpx.get(f"{base}/api/conversations/{first['conversation_id']}", timeout=30).json()
        assert after == before
        assert [(t["rating"], t["comment"]) for t in after["turns"]] == [("up", None), ("down", "wanted the yuan figure")]
        listed = httpx.get(f"{base}/api/conversations", timeout=30).json()
        assert {c["id"] for c in listed} == {first["conversation_id"], refused["conversation_id"]}
        more = httpx.post(f"{base}/api/answer", json={"question": "Who is its CEO?",
                                                      "conversation_id": first["conversation_id"]}, timeout=60)
        # The rewrite draws on the stored turns (the last one was about the profit).
        assert more.status_code == 200 and more.json()["query"] != "Who is its CEO?"

    out = tmp_path / "rated.jsonl"
    exported = rag(settings, "feedback", "export", "--out", str(out))
    assert exported.returncode == 0 and "wrote 3 rated answers" in exported.stdout
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["question"], r["answerable"], r["rating"]) for r in rows] == [
        (SEED_QUESTION, True, "up"), ("What about its profit?", True, "down"), (OFF_TOPIC_QUESTION, False, "up")]

    # The export runs as a question set on the product's own index, as it is.
    evaluated = rag(settings, "eval", "--questions", str(out), "--out", str(tmp_path / "report.json"))
    assert evaluated.returncode == 0, evaluated.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["questions"] == 3 and report["index"]["articles"] == 1
    assert report["retrieval"]["hit@1"] == 1.0  # the thumbs-up answer's article still comes first
    assert report["answers"]["refusal_rate"] == 1.0  # the agreed refusal is still a refusal

    reported = rag(settings, "feedback", "report")
    assert reported.returncode == 0
    assert "3 rated answers, 1 rated down (33%)" in reported.stdout and "wanted the yuan figure" in reported.stdout
