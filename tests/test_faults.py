"""Faults: the store going away, a full or read-only disk, two rebuilds at once."""

import contextlib
import json
import subprocess
import sys
import time

import httpx

from rag.index.store import Store
from tests.conftest import (SEED_QUESTION, ChromaServer, free_port, make_settings, rag_env)
from tests.server_process import running_server
from tests.test_interrupt import synthetic_articles


def ask_cli(env):
    proc = subprocess.run([sys.executable, "-m", "rag.cli", "ask", "--json", SEED_QUESTION], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def index_cli(env):
    return subprocess.run([sys.executable, "-m", "rag.cli", "index"], env=env, capture_output=True,
                          text=True, timeout=600)


def test_chroma_server_stopped_mid_session_gives_503_then_recovers(tmp_path, seeds_copy):
    chroma = ChromaServer(tmp_path / "chroma", free_port()).start()
    try:
        settings = make_settings(tmp_path, seeds_dir=seeds_copy, chroma_host="127.0.0.1",
                                 chroma_port=chroma.port)
        assert index_cli(rag_env(settings)).returncode == 0
        with running_server(settings) as base:
            ok = httpx.post(f"{base}/api/answer", json={"question": SEED_QUESTION}, timeout=60)
            assert ok.status_code == 200
            chroma.stop()
            for _ in range(3):
                started = time.perf_counter()
                down = httpx.post(f"{base}/api/answer", json={"question": SEED_QUESTION}, timeout=60)
                assert down.status_code == 503, down.text
                assert "unavailable" in down.json()["error"]
                assert time.perf_counter() - started < 15
            time.sleep(2.5)  # past the pointer check interval: /healthz asks the store itself
            assert httpx.get(f"{base}/healthz", timeout=30).status_code == 503
            chroma.start()
            deadline = time.time() + 30
            while time.time() < deadline:
                back = httpx.post(f"{base}/api/answer", json={"question": SEED_QUESTION}, timeout=60)
                if back.status_code == 200:
                    break
                time.sleep(0.5)
            assert back.status_code == 200 and "400,000" in back.json()["answer"]
            assert httpx.get(f"{base}/healthz", timeout=30).status_code == 200
    finally:
        chroma.stop()


@contextlib.contextmanager
def small_filesystem(path, size="40m"):
    """A real filesystem of limited size (tmpfs), so that 'disk full' is the kernel's answer."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                             capture_output=True, text=True)
    assert mounted.returncode == 0, f"this test mounts a tmpfs and needs root: {mounted.stderr}"
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def fill(folder, leave_bytes):
    import os

    stat = os.statvfs(folder)
    free = stat.f_bavail * stat.f_frsize
    with open(folder / "filler.bin", "wb") as fh:
        fh.write(b"\0" * max(0, free - leave_bytes))


def test_disk_full_during_a_rebuild(tmp_path, seeds_copy):
    with small_filesystem(tmp_path / "disk") as disk:
        settings = make_settings(tmp_path, seeds_dir=seeds_copy, index_dir=disk / "index")
        env = rag_env(settings)
        assert index_cli(env).returncode == 0
        before = Store(settings).current().snapshot
        synthetic_articles(seeds_copy, count=40)
        fill(disk, leave_bytes=64 * 1024)
        failed = index_cli(env)
        assert failed.returncode == 1
        assert "rebuild failed" in failed.stderr and "previous index" in failed.stderr
        assert "Traceback" not in failed.stderr
        assert Store(settings).current().snapshot == before
        assert "400,000" in ask_cli(env)["answer"]
        (disk / "filler.bin").unlink()
        done = index_cli(env)
        assert done.returncode == 0 and "40 added" in done.stdout


def test_read_only_index_folder_during_a_rebuild(tmp_path, seeds_copy):
    with small_filesystem(tmp_path / "disk", size="200m") as disk:
        settings = make_settings(tmp_path, seeds_dir=seeds_copy, index_dir=disk / "index")
        env = rag_env(settings)
        assert index_cli(env).returncode == 0
        # Not opened in this process: an open Chroma database would keep the remount busy.
        [before] = [p.name for p in (settings.index_dir / "snapshots").iterdir()]
        synthetic_articles(seeds_copy, count=5)
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        try:
            failed = index_cli(env)
            assert failed.returncode == 1 and "rebuild failed" in failed.stderr
            assert "Traceback" not in failed.stderr
            # Embedded Chroma cannot even open a read-only database: a clear error, no traceback.
            asked = subprocess.run([sys.executable, "-m", "rag.cli", "ask", SEED_QUESTION], env=env,
                                   capture_output=True, text=True, timeout=300)
            assert asked.returncode == 1 and "unavailable" in asked.stderr
            assert "Traceback" not in asked.stderr
        finally:
            subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
        assert Store(settings).current().snapshot == before
        assert "400,000" in ask_cli(env)["answer"]
        assert index_cli(env).returncode == 0


def test_two_rebuilds_at_once_one_is_refused(tmp_path, seeds_copy):
    settings = make_settings(tmp_path, seeds_dir=seeds_copy)
    env = rag_env(settings)
    assert index_cli(env).returncode == 0
    # Enough articles that the first rebuild holds the lock for longer than a second process
    # takes to start (40 were done in about 1.5 s, and the second sometimes missed it).
    synthetic_articles(seeds_copy, count=400)
    first = subprocess.Popen([sys.executable, "-m", "rag.cli", "index"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = settings.index_dir / "rebuild.lock"
    deadline = time.time() + 60
    refused = None
    while time.time() < deadline and refused is None and first.poll() is None:
        time.sleep(0.5)
        second = index_cli(env)
        if second.returncode == 3:
            refused = second
        else:
            assert second.returncode == 0
    out, err = first.communicate(timeout=600)
    if refused is None:
        # A second rebuild took the lock before the first one did (a loaded machine starts the
        # first process slowly): then the first is the one refused.
        assert first.returncode == 3 and "another rebuild" in err
    else:
        assert "another rebuild" in refused.stderr
        assert first.returncode == 0, err
    assert lock.exists()
    contents = Store(settings).current()
    assert contents.articles == 401
    assert "400,000" in ask_cli(env)["answer"]
