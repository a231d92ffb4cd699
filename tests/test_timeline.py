"""Time and copies with the real parts (MiniLM, Chroma embedded and as a server): a company whose
chief executive changes between two articles a year apart, a later article about it, and a
syndicated copy of the seed article. The API and the CLI take the as-of time too."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from rag.service import RagService
from tests.conftest import SEED_QUESTION, SEEDS, rag_env
from tests.helpers.timeline import (CEO_QUESTION, FIRST_CEO, MARCH_2024_QUESTION, SECOND_CEO,
                                    SYNDICATED_NAME, sources, write_collection)


@pytest.fixture
def timeline(store_settings, tmp_path):
    seeds = write_collection(tmp_path / "seeds")
    settings = store_settings(seeds_dir=seeds)
    service = RagService(settings)
    assert service.rebuild().articles == 5
    return service


def test_who_is_the_chief_executive_depends_on_when_it_is_asked(timeline):
    before = timeline.answer(CEO_QUESTION, as_of="2023-06-01")
    assert not before.refused
    assert set(sources(before)) == {"northwind-2023.txt"}
    assert FIRST_CEO in before.answer and SECOND_CEO not in before.answer

    after = timeline.answer(CEO_QUESTION, as_of="2024-06-01")
    assert not after.refused and sources(after)[0] == "northwind-2024.txt"
    assert SECOND_CEO in after.answer
    # each citation carries its article's date, for the front ends to show beside the marker
    assert after.citations[0].published == "2024-03-12T08:00:00"

    later = timeline.answer(CEO_QUESTION, as_of="2025-01-01")
    assert "northwind-2023.txt" not in sources(later)[:1]


def test_a_question_naming_march_2024_cites_the_march_2024_article(timeline):
    answer = timeline.answer(MARCH_2024_QUESTION, as_of="2025-01-01")
    assert not answer.refused
    assert sources(answer)[0] == "northwind-2024.txt"
    assert "northwind-2023.txt" not in sources(answer)


def test_a_syndicated_copy_is_never_cited_as_a_second_source(timeline):
    for top_k in (5, 10):
        answer = timeline.answer(SEED_QUESTION, top_k=top_k)
        assert not answer.refused and "400,000" in answer.answer
        assert len({c.article_id for c in answer.citations}) == 1, sources(answer)
        copies = {copy.source for c in answer.citations for copy in c.also_in}
        shown = answer.citations[0].source
        assert copies == ({SYNDICATED_NAME} | {p.name for p in SEEDS.glob("*.txt")}) - {shown}


def test_the_cli_asks_as_of_a_date_and_shows_dates_beside_markers(timeline):
    env = rag_env(timeline.settings)
    run = subprocess.run([sys.executable, "-m", "rag.cli", "ask", CEO_QUESTION, "--as-of", "2023-06-01"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert FIRST_CEO in run.stdout and "· 2023-03-14]" in run.stdout
    as_json = subprocess.run([sys.executable, "-m", "rag.cli", "ask", CEO_QUESTION, "--as-of",
                              "2023-06-01", "--json"], env=env, capture_output=True, text=True, timeout=300)
    payload = json.loads(as_json.stdout)
    assert "·" not in payload["answer"]  # dates are rendering, never part of the answer text
    bad = subprocess.run([sys.executable, "-m", "rag.cli", "ask", CEO_QUESTION, "--as-of", "soon"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 1 and "as_of" in bad.stderr
