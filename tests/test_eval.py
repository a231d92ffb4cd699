"""`rag eval` end to end on a small corpus and question set made for the tests (real index,
real embedder), and the report it writes."""

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import make_settings, rag_env

DATA = Path(__file__).parent / "data"


def test_rag_eval_end_to_end(tmp_path):
    out = tmp_path / "report.json"
    env = rag_env(make_settings(tmp_path))
    proc = subprocess.run(
        [sys.executable, "-m", "rag.cli", "eval", "--corpus", str(DATA / "eval_corpus.jsonl"),
         "--questions", str(DATA / "eval_questions.jsonl"), "--index-dir", str(tmp_path / "evalindex"),
         "--out", str(out), "--k", "10"],
        env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert set(report) >= {"retrieval", "answers", "latency", "settings", "index"}
    retrieval = report["retrieval"]
    assert set(retrieval) == {"hit@1", "hit@5", "hit@10", "mrr@10", "ndcg@10", "recall@10", "questions"}
    assert retrieval["questions"] == 4
    # Four distinct topics, each asked about plainly: the right article ranks first.
    assert retrieval["hit@1"] == 1.0 and retrieval["mrr@10"] == 1.0 and retrieval["ndcg@10"] == 1.0
    answers = report["answers"]
    assert answers["questions_with_answers"] == 4 and answers["unanswerable_questions"] == 2
    assert answers["accuracy"] >= 0.75
    assert answers["citation_precision"] >= 0.75
    assert answers["refusal_rate"] == 1.0 and answers["false_refusal_rate"] == 0.0
    assert 0 < answers["answer_words"] <= 120 and 0 <= answers["span_f1"] <= 1
    assert answers["lead50_accuracy"] >= 0.5  # the lead of the right article, ranked first
    curve = report["refusal_curve"]["curve"]
    assert curve[0]["false_refusal_rate"] == 0.0 and curve[-1]["refusal_rate"] == 1.0
    for stage in ("retrieval_ms", "answer_ms"):
        assert 0 < report["latency"][stage]["p50"] <= report["latency"][stage]["p95"]
    assert report["index"]["articles"] == 6
    assert report["settings"]["chunk_size"] == 200
    # The questions' "_early" counterpart beside them is asked in the same run: each asked three
    # days before its article was published, when nothing could answer it.
    assert report["early"]["questions"] == 4 and report["early"]["refusal_rate"] == 1.0
    markdown = out.with_suffix(".md").read_text()
    assert "| hit@1 |" in markdown and "## Latency (ms)" in markdown and "## Refusal trade-off" in markdown
    assert "against the lead-50 baseline" in markdown and "## Asked before their story existed" in markdown
    png = out.with_suffix(".png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert "hit@1" in proc.stdout
