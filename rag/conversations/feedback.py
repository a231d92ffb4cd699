"""Readers' verdicts turned into what a maintainer uses: an evaluation set in the format of
`rag eval --questions` (../shared/eval/README.md), and a report of how answers are rated."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from rag.conversations.store import RecordedTurn


def eval_row(turn: RecordedTurn) -> dict:
    """One rated answer as an evaluation question, asked at the moment it was asked.

    A thumbs up confirms what the product did: the cited articles answer it, or, for a refusal,
    nothing does (`answerable: false`). A thumbs down says it was wrong: a refused question
    should have been answered (`answerable: true`, articles unknown); an answered one got a wrong
    or unwanted answer, so its cited articles are kept beside as `cited_doc_ids`, not as
    relevant, until someone labels it."""
    cited = list(dict.fromkeys(c.get("article_id") for c in turn.citations if c.get("article_id")))
    up = turn.rating == "up"
    row = {
        "id": turn.answer_id,
        "question": turn.question,
        "as_of": turn.asked_at.isoformat(),
        "answerable": (not turn.refused) if up else True,
        "relevant_doc_ids": cited if up and not turn.refused else [],
        "rating": turn.rating,
        "comment": turn.comment,
        "given_answer": turn.answer,
        "given_refused": turn.refused,
        "cited_doc_ids": cited,
        "conversation_id": turn.conversation_id,
        "rated_at": turn.rated_at.isoformat() if turn.rated_at else None,
    }
    return row


def export(turns: list[RecordedTurn], out: Path) -> int:
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for turn in turns:
            handle.write(json.dumps(eval_row(turn), ensure_ascii=False) + "\n")
    return len(turns)


def report(turns: list[RecordedTurn]) -> dict:
    """Ratings per day (UTC) and overall, and the down-rated questions with their comments."""
    per_day: dict[str, Counter] = {}
    for turn in turns:
        per_day.setdefault(turn.rated_at.date().isoformat(), Counter())[turn.rating] += 1
    down = [t for t in turns if t.rating == "down"]
    return {
        "rated": len(turns),
        "down": len(down),
        "share_down": round(len(down) / len(turns), 3) if turns else 0.0,
        "days": [{"day": day, "up": counts["up"], "down": counts["down"]}
                 for day, counts in sorted(per_day.items())],
        "down_rated": [{"answer_id": t.answer_id, "question": t.question, "comment": t.comment,
                        "refused": t.refused, "rated_at": t.rated_at.isoformat()} for t in down],
    }


def _printable(text: str) -> str:
    # A reader's text must not drive the terminal (escape sequences, carriage returns).
    return "".join(ch if ch.isprintable() else " " for ch in text)


def report_text(summary: dict) -> str:
    lines = [f"{summary['rated']:,} rated answers, {summary['down']:,} rated down "
             f"({summary['share_down']:.0%})"]
    if summary["days"]:
        lines += ["", "day         up  down"]
        lines += [f"{d['day']}  {d['up']:>3}  {d['down']:>4}" for d in summary["days"]]
    if summary["down_rated"]:
        lines += ["", "Rated down:"]
        for item in summary["down_rated"]:
            what = " (refused)" if item["refused"] else ""
            lines.append(f"- {item['rated_at'][:10]} {_printable(item['question'])}{what}")
            if item["comment"]:
                lines.append(f"    comment: {_printable(item['comment'])}")
    return "\n".join(lines)
