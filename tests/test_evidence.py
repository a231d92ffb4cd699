"""Evidence is never lost or hidden, with the real parts (MiniLM, Chroma embedded and as a server,
the `rag` CLI and server as subprocesses): a mistyped seeds path changes nothing, a rebuild that
would empty the index waits for a confirmation, a year in a question weighs without hiding the
article that answers, "now" and "latest" get the newest article on the subject, and a large
collection of repeated records is indexed in bounded memory. The fast twin over fakes:
tests/fast/test_evidence.py and tests/fast/test_timeline.py."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import time

import httpx
import pytest

from rag.service import RagService
from tests.conftest import ARTIFACTS_DIR, SEEDS, make_settings, rag_env
from tests.helpers.timeline import (AFTER_THE_FACTORY, FORECAST_ANSWER, FORECAST_QUESTION,
                                    LATEST_QUESTION, NOW_CEO_QUESTION, SECOND_CEO,
                                    UNCOVERED_DATED_QUESTION, sources, write_collection)
from tests.server_process import running_server


def rag(settings, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], env=rag_env(settings, **env),
                          capture_output=True, text=True, timeout=600)


@pytest.fixture
def indexed(store_settings, seeds_copy):
    settings = store_settings(seeds_dir=seeds_copy)
    assert rag(settings, "index").returncode == 0
    return settings


def served_articles(settings) -> int:
    service = RagService(settings)
    service.refresh(force=True)
    return len(service.articles())


def test_a_mistyped_seeds_path_exits_non_zero_and_keeps_the_index(indexed, tmp_path):
    run = rag(indexed, "index", "--seeds", str(tmp_path / "seedz"))
    assert run.returncode == 4
    assert "does not exist" in run.stderr and "nothing was removed" in run.stderr
    assert "removed" not in run.stdout
    assert served_articles(indexed) == 1


def test_emptying_the_folder_needs_a_confirmation(indexed):
    for path in indexed.seeds_dir.iterdir():
        path.unlink()
    stopped = rag(indexed, "index")
    assert stopped.returncode == 4 and "--confirm-removal" in stopped.stderr
    assert served_articles(indexed) == 1
    confirmed = rag(indexed, "index", "--confirm-removal")
    assert confirmed.returncode == 0 and "1 removed" in confirmed.stdout
    assert served_articles(indexed) == 0


def test_a_server_started_on_a_missing_seeds_folder_keeps_serving_and_says_why(tmp_path):
    settings = make_settings(tmp_path, seeds_dir=SEEDS)
    assert rag(settings, "index").returncode == 0
    missing = settings.model_copy(update={"seeds_dir": tmp_path / "unmounted"})
    with running_server(missing, build=True) as base:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            state = httpx.get(f"{base}/api/index", timeout=30).json()
            if state["rebuild"]["state"] == "failed":
                break
            time.sleep(0.5)
        assert state["articles"] == 1 and "does not exist" in state["rebuild"]["error"]
        answer = httpx.post(f"{base}/api/answer", json={"question": FORECAST_QUESTION},
                            timeout=120).json()
        assert not answer["refused"]
        port = base.rsplit(":", 1)[1]
    log = (ARTIFACTS_DIR() / f"server-{port}.log").read_text()
    assert "the index was not updated" in log and "does not exist" in log


@pytest.fixture(scope="module")
def timeline(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("evidence-timeline")
    service = RagService(make_settings(tmp, seeds_dir=write_collection(tmp / "seeds")))
    assert service.rebuild().articles == 5
    return service


def test_a_year_in_the_question_weighs_and_never_hides_the_answer(timeline):
    answer = timeline.answer(FORECAST_QUESTION, as_of="2026-12-07")
    assert not answer.refused and FORECAST_ANSWER in answer.answer


def test_a_refused_dated_question_lists_the_nearest_articles(timeline):
    answer = timeline.answer(UNCOVERED_DATED_QUESTION, as_of="2026-12-07")
    assert answer.refused and answer.nearby and not answer.citations


@pytest.mark.parametrize("as_of", AFTER_THE_FACTORY)
def test_now_and_latest_get_the_newest_article_on_the_subject(timeline, as_of):
    now = timeline.answer(NOW_CEO_QUESTION, as_of=as_of)
    assert not now.refused and sources(now)[0] == "northwind-2024.txt" and SECOND_CEO in now.answer
    latest = timeline.answer(LATEST_QUESTION, as_of=as_of)
    assert not latest.refused and sources(latest)[0] == "northwind-factory.txt", sources(latest)


PEAK = ("import sys\nfrom rag.cli import main\nrc = main(sys.argv[1:])\nprint('peak_kb', next("
        "line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM')))\n"
        "sys.exit(rc)")


def write_repeated_collection(path, records: int) -> None:
    """A wire feed that repeats one story under new ids: small records that compress about 65:1."""
    text = ("The port authority said container traffic rose in the third quarter as shipping "
            "lines added routes to the region. Officials expect volumes to keep growing next year, "
            "when a new berth opens and the rail link to the inland terminal is finished.")
    with gzip.open(path, "wt", encoding="utf-8") as out:
        for i in range(records):
            out.write(json.dumps({"id": f"wire-{i:08d}", "title": "Port traffic rises",
                                  "published": "2024-05-02", "text": text}) + "\n")


def test_a_large_collection_of_repeated_records_is_indexed_in_bounded_memory(tmp_path, seeds_copy):
    write_repeated_collection(seeds_copy / "wire.jsonl.gz", 300_000)  # about 120 MB decompressed
    settings = make_settings(tmp_path, seeds_dir=seeds_copy)
    # The peak of `rag index` itself, read from its own memory map (VmHWM): ru_maxrss after an
    # exec starts from the forking process's peak, the whole test session's here.
    run = subprocess.run([sys.executable, "-c", PEAK, "index"], env=rag_env(settings),
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert "2 added" in run.stdout and "299,999 skipped" in run.stdout
    assert "(299,999 records): same title and text as 'wire-00000000'" in run.stdout
    assert served_articles(settings) == 2  # the seed article and the story, once
    peak_mb = int(run.stdout.rsplit("peak_kb", 1)[1]) / 1024
    # Reading the file whole held about 1.4 GB here; the model and Chroma alone take ~0.65 GB.
    assert peak_mb < 1000, f"peak RSS {peak_mb:.0f} MB"
