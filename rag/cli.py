"""Command line: `rag index`, `rag ask`, `rag serve`, `rag eval`, `rag feedback`. Thin: parsing and
printing only."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import textwrap
from pathlib import Path

from rag.config import TOP_K_MAX, TOP_K_MIN, Settings
from rag.errors import (BadRequest, IndexNotReady, RagError, RebuildInProgress,
                        RemovalNeedsConfirmation, SeedsUnavailable)
from rag.lexicon import MARKER

EXIT_BUSY = 3
EXIT_NO_INDEX = 2
EXIT_UNCHANGED = 4  # nothing was changed: the seeds folder is missing, or the removal unconfirmed
EXIT_USAGE = 5  # nothing was changed: a file named with --changed is not one the index could hold
_MARKER = re.compile(MARKER)


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    if getattr(args, "index_dir", None):
        overrides["index_dir"] = Path(args.index_dir)
    if getattr(args, "seeds", None):
        overrides["seeds_dir"] = Path(args.seeds)
    return Settings(**overrides)


def _top_k(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a whole number") from None
    if not TOP_K_MIN <= number <= TOP_K_MAX:
        raise argparse.ArgumentTypeError(f"must be between {TOP_K_MIN} and {TOP_K_MAX}")
    return number


def cmd_index(args: argparse.Namespace) -> int:
    from rag.service import RagService

    service = RagService(_settings(args))
    # Paths as the shell gave them, relative to here: the build takes them under the seeds folder.
    changed = [os.path.abspath(path) for path in args.changed] if args.changed else None
    try:
        summary = service.rebuild(show_bar=sys.stderr.isatty() or args.progress, serve=False,
                                  confirm_removal=args.confirm_removal, changed=changed)
    except BadRequest as exc:
        print(f"rag index: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except RebuildInProgress as exc:
        print(f"rag index: {exc}; try again when it has finished", file=sys.stderr)
        return EXIT_BUSY
    except (SeedsUnavailable, RemovalNeedsConfirmation) as exc:
        print(f"rag index: {exc}", file=sys.stderr)
        return EXIT_UNCHANGED
    except Exception as exc:  # disk full, read-only folder, store down: say so plainly
        print(f"rag index: the rebuild failed ({type(exc).__name__}: {exc}); "
              "the previous index, if any, is unchanged and still serving", file=sys.stderr)
        return 1
    for skip in summary.skipped:
        count = skip.get("count", 1)
        print(f"skipped {skip['source']}{f' ({count:,} records)' if count != 1 else ''}: {skip['reason']}")
    print(summary.line())
    return 0


# A dated marker must not be split by wrapping: its spaces and hyphens go in as private-use
# characters, which textwrap does not break at, and come back after.
_UNBREAKABLE = str.maketrans({" ": "\ue000", "-": "\ue001"})
_BREAKABLE = str.maketrans({"\ue000": " ", "\ue001": "-"})


def _dated_markers(text: str, citations) -> str:
    """Each [n] of a dated citation as [n · YYYY-MM-DD]: the reader sees how old each claim is
    without looking it up. Printing only: the answer's text (and --json) keep plain markers."""
    dates = {c.n: c.published[:10] for c in citations if c.published}

    def dated(match: re.Match) -> str:
        n = int(match.group(1))
        return f"[{n} · {dates[n]}]".translate(_UNBREAKABLE) if n in dates else match.group(0)
    return _MARKER.sub(dated, text)


def _also_in(copies) -> str:
    return ", ".join(f"{c.title} ({c.published[:10]})" if c.published else c.title for c in copies)


def _print_answer(answer) -> None:
    from rag.models import shorten

    text = _dated_markers(answer.answer, answer.citations)
    print((textwrap.fill(text, width=100) if "\n" not in text else text).translate(_BREAKABLE))
    if answer.fallback_reason:
        print(f"\n(extractive answer: the LLM was not used because {answer.fallback_reason})")
    if answer.citations:
        print("\nSources:")
        for c in answer.citations:
            date = f", {c.published[:10]}" if c.published else ""
            where = c.url or c.source
            print(f"[{c.n}] {c.title}{date} ({where}) score {c.score:.2f}")
            if c.also_in:
                print(textwrap.fill(f"also in: {_also_in(c.also_in)}", width=96,
                                    initial_indent="    ", subsequent_indent="    "))
            print(textwrap.indent(textwrap.fill(f"“{shorten(c.quote, 400)}”", width=96), "    "))
    elif answer.refused and answer.nearby:
        print("\nNearest articles found:")
        for a in answer.nearby:
            print(f"- {a.title} ({a.source})")


def cmd_ask(args: argparse.Namespace) -> int:
    from rag.models import Filters
    from rag.service import RagService

    service = RagService(_settings(args))
    filters = Filters(published_after=args.after, published_before=args.before, source=args.source)
    try:
        answer = service.answer(args.question, top_k=args.top_k, filters=filters, as_of=args.as_of)
    except IndexNotReady:
        print("rag ask: no index yet; build it with `rag index`", file=sys.stderr)
        return EXIT_NO_INDEX
    except RagError as exc:
        print(f"rag ask: {exc}", file=sys.stderr)
        return 1
    if args.json:
        payload = answer.model_dump(include={"answer", "refused", "citations", "mode",
                                             "fallback_reason", "query", "nearby", "unsupported",
                                             "timings"})
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        _print_answer(answer)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from rag.web.server import serve

    return serve(_settings(args), host=args.host, port=args.port, build=not args.no_build)


def cmd_eval(args: argparse.Namespace) -> int:
    from rag.eval.run import run_eval_cli

    return run_eval_cli(args, _settings(args))


def cmd_feedback(args: argparse.Namespace) -> int:
    from rag.conversations.feedback import export, report, report_text
    from rag.service import RagService

    store = RagService(_settings(args)).conversations
    if args.feedback_command == "export":
        count = export(store.rated(args.rating), Path(args.out))
        print(f"wrote {count:,} rated answers to {args.out} (run them with: rag eval --questions {args.out})")
        return 0
    summary = report(store.rated())
    print(json.dumps(summary, ensure_ascii=False, indent=2) if args.json else report_text(summary))
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="rag", description="Cited answers over a folder of news articles.")
    sub = root.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="build or incrementally update the index from the seeds folder")
    p.add_argument("--seeds", help="folder (or corpus file) of articles [RAG_SEEDS_DIR, default seeds]")
    p.add_argument("--index-dir", help="index folder [RAG_INDEX_DIR, default index]")
    p.add_argument("--progress", action="store_true", help="show the progress bar even when not on a terminal")
    p.add_argument("--confirm-removal", action="store_true",
                   help="go on when the rebuild would remove every article or more than half of them "
                        "(without it, such a rebuild stops and changes nothing)")
    p.add_argument("--changed", nargs="+", metavar="PATH",
                   help="the files added, edited or deleted in the seeds folder since the last "
                        "rebuild: only those are read (the whole folder is, where the update needs it)")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("ask", help="answer one question with cited sources")
    p.add_argument("question")
    p.add_argument("--index-dir", help="index folder [RAG_INDEX_DIR, default index]")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--top-k", type=_top_k, default=None, metavar="N",
                   help=f"passages to use, {TOP_K_MIN} to {TOP_K_MAX} (default RAG_TOP_K=5)")
    p.add_argument("--after", help="only articles published on or after this date (YYYY-MM-DD)")
    p.add_argument("--before", help="only articles published on or before this date (YYYY-MM-DD)")
    p.add_argument("--source", help="only articles from this seeds file or folder")
    p.add_argument("--as-of", metavar="YYYY-MM-DD[THH:MM]",
                   help="the moment the question is asked: articles published later are left out "
                        "(a date alone is the end of that day, a time without a zone is UTC; default now)")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("serve", help="run the HTTP API and the web chat")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--index-dir", help="index folder [RAG_INDEX_DIR, default index]")
    p.add_argument("--seeds", help="seeds folder [RAG_SEEDS_DIR, default seeds]")
    p.add_argument("--no-build", action="store_true", help="do not update the index before serving")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("feedback", help="the readers' ratings: export them as a question set, or report")
    feedback_sub = p.add_subparsers(dest="feedback_command", required=True)
    f = feedback_sub.add_parser("export", help="rated answers as a `rag eval --questions` file")
    f.add_argument("--out", required=True, help="the .jsonl file to write")
    f.add_argument("--index-dir", help="index folder whose conversations database to read "
                                       "[RAG_INDEX_DIR, default index; RAG_DATABASE_URL wins]")
    f.add_argument("--rating", choices=["up", "down"], help="only answers rated this way")
    f.set_defaults(func=cmd_feedback)
    f = feedback_sub.add_parser("report", help="ratings per day, the share rated down, and the "
                                               "down-rated questions with their comments")
    f.add_argument("--index-dir", help="index folder whose conversations database to read "
                                       "[RAG_INDEX_DIR, default index; RAG_DATABASE_URL wins]")
    f.add_argument("--json", action="store_true", help="print one JSON object")
    f.set_defaults(func=cmd_feedback)

    p = sub.add_parser("eval", help="evaluate retrieval and answers on a question set")
    p.add_argument("--corpus", help="corpus.jsonl[.gz]: id, title, text, published, url; without it, "
                                    "the questions run on the index in --index-dir as it is (the "
                                    "product's own, for `rag feedback export` files)")
    p.add_argument("--questions", required=True, help="questions .jsonl")
    p.add_argument("--index-dir", help="index folder (default: .cache/eval/<corpus name> with "
                                       "--corpus, else RAG_INDEX_DIR)")
    p.add_argument("--out", default="report.json", help="report path (.json; .md and .png beside it)")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--limit", type=int, default=None, help="only the first N questions")
    p.set_defaults(func=cmd_eval)
    return root


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except RagError as exc:  # a setting the product cannot run with, for one
        print(f"rag {args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
