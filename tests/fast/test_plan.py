"""What a rebuild will do, planned before it writes anything (rag.index.plan), and when an
update stops patching and rewrites whole (one share for the collection, the snapshot's save and
BM25's segments)."""

from types import SimpleNamespace

from rag.index import REWRITE_SHARE, snapshot_files
from rag.index.plan import COMPACT_MIN_ROWS, plan_build
from rag.index.snapshot import SaveHistory
from rag.index.store import Pointer
from rag.ingest.file_cache import ArticleState

FP = "fingerprint-a"


def state(article_id, sha="s1", source=None):
    return ArticleState(article_id, source or f"{article_id}.txt", f"raw-{sha}", sha, f"key-{sha}")


def entry(sha="s1", source=None, chunks=10, article_id="a"):
    return SimpleNamespace(sha256=sha, source=source or f"{article_id}.txt", chunks=chunks)


def pointer(fingerprint=FP, seq=3, deleted_rows=0):
    return Pointer(snapshot="s", built_at=0.0, fingerprint=fingerprint, articles=0, chunks=0,
                   seq=seq, deleted_rows=deleted_rows)


def test_each_article_lands_in_one_place():
    indexed = {"same": entry(article_id="same"), "edited": entry(article_id="edited"),
               "renamed": entry(article_id="renamed"), "gone": entry(article_id="gone")}
    articles = [state("same"), state("edited", sha="s2"), state("renamed", source="elsewhere.txt"),
                state("new")]
    plan = plan_build(articles, indexed, 40, pointer(), FP)
    assert [a.id for a in plan.kept] == ["same", "renamed"]
    assert [a.id for a in plan.changed] == ["edited", "new"]
    assert [a.id for a in plan.moved] == ["renamed"]
    assert plan.removed == {"gone"} and plan.indexed == 4
    assert plan.changes_anything and not plan.whole  # updated in place


def test_nothing_changed_changes_nothing():
    plan = plan_build([state("a")], {"a": entry()}, 10, pointer(), FP)
    assert not plan.changes_anything and not plan.whole and plan.kept


def test_a_new_index_or_pipeline_is_built_whole_and_embeds_everything():
    assert plan_build([state("a")], None, 0, None, FP).whole
    other = plan_build([state("a")], {"a": entry()}, 10, pointer(fingerprint="fingerprint-b"), FP)
    assert other.whole and [a.id for a in other.changed] == ["a"] and not other.kept
    # An index from before in-place updates (rows without snapshot tags).
    assert plan_build([state("a")], {"a": entry()}, 10, pointer(seq=0), FP).whole


def test_compaction_once_deleted_rows_reach_the_rewrite_share():
    live = 10 * COMPACT_MIN_ROWS
    below = pointer(deleted_rows=int(REWRITE_SHARE * live) - 1)
    at = pointer(deleted_rows=int(REWRITE_SHARE * live))
    assert not plan_build([state("a")], {"a": entry()}, live, below, FP).whole
    assert plan_build([state("a")], {"a": entry()}, live, at, FP).whole
    # A small collection is never compacted for a handful of rows.
    assert not plan_build([state("a")], {"a": entry()}, 10, pointer(deleted_rows=9), FP).whole


def test_a_snapshot_is_saved_whole_when_its_removed_rows_pass_the_share(tmp_path):
    """The removed articles count by their rows, like the added ones (one removed article of 60
    chunks is 60 rows of change, not one)."""
    base = tmp_path / "snapshots" / "base"
    base.mkdir(parents=True)
    (base / "info.json").write_text("{}")

    class Derived(SimpleNamespace):
        def __len__(self):
            return 140

    one_big_removal = Derived(history=SaveHistory(base="base", chain=2, kept_rows=140, removed=["big"],
                                                  removed_rows=60))
    assert snapshot_files._whole(one_big_removal, tmp_path)
    small = Derived(history=SaveHistory(base="base", chain=2, kept_rows=139, removed=["small"], removed_rows=2))
    assert not snapshot_files._whole(small, tmp_path)
