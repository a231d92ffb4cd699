"""The index: embedding, the store, snapshots and their updates.

REWRITE_SHARE is the one rule for when an update stops patching and rewrites whole: when what
was deleted or added reaches a quarter of what is live. It decides compaction of the store's
collection (plan.py), a snapshot saved whole rather than as a delta (snapshot_files.py), and a
BM25 index merging its segments and dropping dead documents (lexical.py)."""

REWRITE_SHARE = 0.25
