"""A worker holds the records of the archive on disk, not in memory (issue 28): the snapshot a
server serves reads its passages from the snapshot folders by offset and its vectors and
sketches from memory-mapped files, keeps answering when a later build removes those folders, and
the exact search over every row finds what a float32 search finds from int8 copies."""

import json
import mmap
import shutil

import numpy as np

from rag.answer.stages.base import StageContext
from rag.answer.stages.dense import DenseStage
from rag.index import rows, snapshot_files
from rag.index.records import Records, write_jsonl
from rag.index.row_blocks import NpyRows
from rag.index.snapshot import empty
from tests.conftest import write_article
from tests.fast.conftest import fast_service, fast_settings
from tests.fast.test_updates import ports, story


def mapped(array) -> bool:
    """Whether the array's memory is a file's mapping (np.load with mmap_mode, or a view of one)."""
    while array is not None:
        if isinstance(array, (np.memmap, mmap.mmap)):
            return True
        array = getattr(array, "base", None)
    return False


def test_a_served_snapshot_reads_its_records_from_disk(tmp_path):
    builder = ports(tmp_path, 4)
    settings = builder.settings
    write_article(settings.seeds_dir, "port-9.txt", "Port 9 dredging approved", story(9))
    builder.rebuild()  # a delta over the whole save: records from two folders
    worker = fast_service(settings, store=builder.store, embedder=builder.embedder)
    worker.refresh(force=True)
    served = worker.serving
    assert served.records.on_disk() == len(served) > 0
    assert len(served.records.files) == 2
    assert list(served.records) == list(builder.serving.records)
    # The vectors and sketches stay in the folders' files: vectors read by row when a question
    # needs them, sketches mapped and untouched.
    assert all(mapped(array) for array, _ in served.sketches.blocks)
    assert all(isinstance(array, NpyRows) for array, _ in served.vectors.blocks)
    assert np.array_equal(np.asarray(served.vectors), np.asarray(builder.serving.vectors))
    rows = np.array([len(served) - 1, 0, 2, 3])
    assert np.array_equal(served.vectors[rows], np.asarray(builder.serving.vectors)[rows])
    # The builder reads its own saved rows from the files too, once they are saved.
    assert all(isinstance(array, NpyRows) for array, _ in builder.serving.vectors.blocks)
    # A compaction or a new build may remove the folders while the worker still serves them.
    shutil.rmtree(settings.index_dir / "snapshots")
    answer = worker.answer("How much will port 9's dredging cost?")
    assert "109 million euros" in answer.answer
    assert any("109 million euros" in c.quote for c in answer.citations)
    # An update through the worker still finds a copy of an article among those files' sketches.
    write_article(settings.seeds_dir, "wire-copy.txt", "Wire: port 9 dredging approved", story(9))
    worker.rebuild()
    assert worker.serving.story_of("wire-copy") == worker.serving.story_of("port-9")


def test_saved_rows_are_read_back_from_the_file_they_went_to(tmp_path):
    records = [{"article_id": f"a{n}", "n": 0, "text": f"text {n} é"} for n in range(5)]
    on_disk = write_jsonl(tmp_path / "chunks.jsonl", [f"a{n}::0" for n in range(5)], records)
    assert on_disk.on_disk() == 5 and list(on_disk) == records
    fresh = Records.of([{"article_id": "b", "n": 0, "text": "new"}])
    joined = Records.join([on_disk.take(np.array([4, 1])), fresh, on_disk[2:3]])
    assert [r["text"] for r in joined] == ["text 4 é", "text 1 é", "new", "text 2 é"]
    assert joined.on_disk() == 3 and joined[2] is fresh[0]


def test_the_exact_search_finds_the_float32_nearest_rows():
    rng = np.random.default_rng(5)
    vectors = rng.standard_normal((4000, 64)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    snapshot = empty("s", "fp", 64)
    snapshot.vectors = vectors.astype(np.float16)
    for trial in range(20):
        query = rng.standard_normal(64).astype(np.float32)
        query /= np.linalg.norm(query)
        mask = rng.random(4000) < (0.3 if trial % 2 else 1.0)
        ctx = StageContext(snapshot, None, "q", query, [], mask, None, 50)
        truth = snapshot.vectors.astype(np.float32) @ query
        truth[~mask] = -np.inf
        assert set(DenseStage._exact(ctx)) == set(np.argsort(-truth)[:50].tolist())


def test_a_whole_build_indexes_its_rows_as_they_come_and_matches_the_store(tmp_path, monkeypatch):
    """The build keeps no chunk objects: its snapshot, made batch by batch, is the one assembled
    from the store's rows (the way a worker without the folder derives it), records on disk."""
    monkeypatch.setattr(rows, "EMBED_BATCH", 3)
    settings = fast_settings(tmp_path)
    for n in range(7):
        more = "\n\n".join(f"Paragraph {p} about berth {n} and its crane order of {p * n} units, "
                           "as the harbour master told the council in a long statement."
                           for p in range(n * 3))
        write_article(settings.seeds_dir, f"port-{n}.txt", f"Port {n} dredging approved",
                      story(n) + "\n\n" + more)
    # A collection file whose records come in another order than their ids sort in.
    wire = [{"id": f"wire-{n}", "title": f"Wire {n}: berth {n} reopens", "published": "2025-11-20",
             "text": story(20 + n) + f" Berth {n} reopened after the crane order."} for n in (9, 3, 6)]
    (settings.seeds_dir / "wire.jsonl").write_text("\n".join(json.dumps(r) for r in wire) + "\n")
    service = fast_service(settings)
    service.rebuild()
    built = service.serving
    assert built.records.on_disk() == len(built) > 7  # several chunks an article
    assert not list((settings.index_dir / "snapshots").glob("*.rows"))  # the spill file is gone
    pointer = service.store.current()
    again = snapshot_files.load_from_collection(service.store.collection(pointer.collection_name),
                                                built.name, built.fingerprint, pointer.seq)
    assert built.ids == again.ids and list(built.records) == list(again.records)
    assert np.array_equal(built.vectors, again.vectors)
    assert built.article_order == again.article_order and built.stories == again.stories
    assert np.array_equal(built.sketches, again.sketches)
    for words in (["harbour", "dredg"], ["crane", "berth", "port"]):
        assert np.allclose(built.bm25.scores(words), again.bm25.scores(words))
        assert np.allclose(built.article_bm25.scores(words), again.article_bm25.scores(words))


def test_a_folder_without_its_row_columns_is_read_by_parsing_the_records(tmp_path):
    """Folders saved before `columns.json` existed, or with one that does not match their
    `chunks.jsonl`, still load, to the same snapshot."""
    service = ports(tmp_path, 3)
    settings, built = service.settings, service.serving
    folder = snapshot_files.folder(settings.index_dir, built.name)
    quick = snapshot_files.load_cached(settings.index_dir, built.name)
    (folder / "columns.json").write_text('{"id": ["port-0::0@1"], "article_id": ["port-0"]}')
    mismatched = snapshot_files.load_cached(settings.index_dir, built.name)
    (folder / "columns.json").unlink()
    older = snapshot_files.load_cached(settings.index_dir, built.name)
    for loaded in (quick, mismatched, older):
        assert loaded.ids == built.ids and list(loaded.records) == list(built.records)
        assert loaded.article_order == built.article_order
        assert np.array_equal(loaded.published_ts, built.published_ts, equal_nan=True)


def test_a_rebuilding_server_holds_only_the_files_of_its_snapshot(tmp_path, monkeypatch):
    """A server that rebuilds in-process serves what it built from the saved files (not from
    the arrays it built them with), and lets go of the files of folders its updates dropped."""
    from rag.index import plan

    monkeypatch.setattr(plan, "COMPACT_MIN_ROWS", 1)
    monkeypatch.setattr(plan, "REWRITE_SHARE", 0.3)
    service = ports(tmp_path, 4)  # a whole build: one folder
    settings = service.settings
    served = service.serving
    assert all(isinstance(array, NpyRows) for array, _ in served.vectors.blocks)
    assert all(mapped(array) for array, _ in served.sketches.blocks)
    for n in range(4, 12):  # in-place updates, and compactions once removals pile up
        write_article(settings.seeds_dir, f"port-{n}.txt", f"Port {n} dredging approved", story(n))
        (settings.seeds_dir / f"port-{n - 4}.txt").unlink()
        service.rebuild()
        served = service.serving
        folders = snapshot_files.chain(settings.index_dir, served.name)
        assert len(served.records.files) <= len(folders)
        assert all(f.path.parent.name in folders for f in served.records.files)
        assert all(isinstance(array, NpyRows) for array, _ in served.vectors.blocks)
    assert "111 million euros" in service.answer("How much will port 11's dredging cost?").answer


def test_rows_written_as_they_come_and_saved_by_blocks_read_back_the_same(tmp_path):
    import pytest

    from rag.index.row_blocks import NpyWriter, RowBlocks, save_npy

    rng = np.random.default_rng(0)
    first, second = rng.random((300, 16)), rng.random((7, 16))
    writer = NpyWriter(tmp_path / "v.npy", np.float16)
    writer.append(first)
    writer.append(second)
    with pytest.raises(ValueError):
        writer.append(rng.random((2, 8)))  # another width cannot join the file
    spilled = writer.finish(16)
    whole = np.vstack([first, second]).astype(np.float16)
    assert np.array_equal(np.load(tmp_path / "v.npy"), whole)  # a valid .npy for numpy itself
    assert np.array_equal(spilled[[301, 5, 6]], whole[[301, 5, 6]])
    # Saved again from blocks of that file and of memory, kept rows only.
    blocks = RowBlocks([(spilled, np.array([1, 4, 200])), (second.astype(np.float16), None)])
    save_npy(tmp_path / "saved.npy", blocks)
    assert np.array_equal(np.load(tmp_path / "saved.npy"), np.asarray(blocks))
    empty_rows = NpyWriter(tmp_path / "none.npy", np.uint32).finish(128)
    assert np.load(tmp_path / "none.npy").shape == (0, 128) and len(empty_rows) == 0


def test_a_manifest_written_entry_by_entry_reads_back_whole(tmp_path):
    from rag.index.snapshot import ArticleEntry

    articles = {aid: ArticleEntry(aid, title, "2025-03-01", "a/b.txt", None, "00" * 32, "11" * 32, 2)
                for aid, title in [("a\"1", 'Quote " and \\ back'), ("b\n2", "Line\nbreak é ✓"),
                                   ("c", "</script>{}")]}
    snapshot_files._write_manifest(tmp_path / "articles.json", articles, ["c", "a\"1", "b\n2"])
    read = json.loads((tmp_path / "articles.json").read_text(encoding="utf-8"))
    assert list(read) == ["c", "a\"1", "b\n2"]
    assert {aid: ArticleEntry(**entry) for aid, entry in read.items()} == articles
    snapshot_files._write_manifest(tmp_path / "none.json", articles, [])
    assert json.loads((tmp_path / "none.json").read_text()) == {}


def test_copies_are_grouped_the_same_when_sketches_are_read_in_pieces(monkeypatch):
    from rag.index import copies
    from rag.index.row_blocks import RowBlocks

    texts = [f"Port {n % 3} dredging approved by the council at a cost of {n % 3} million euros "
             "after a year of talks with the shipping lines and the city" for n in range(9)]
    sketches = copies.sketch_texts(texts)
    ids = [f"a{n}" for n in range(9)]
    whole = copies.group_stories(ids, sketches)
    monkeypatch.setattr(copies, "SKETCH_ROWS", 2)
    blocks = RowBlocks([(sketches[:4], None), (sketches, np.arange(4, 9))])
    assert copies.group_stories(ids, blocks) == whole
    assert len(set(whole.values())) == 3  # three stories of three copies each
