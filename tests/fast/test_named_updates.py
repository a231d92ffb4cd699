"""Updates of named files (an upload, `rag index --changed`, `changed` in POST
/api/index/rebuild), over the fakes: the folder is not listed, only the named files are read,
and the index ends exactly where a scan of the whole folder would have left it; wherever it
could not (a shared id or text, boilerplate crossing its threshold, a cache the serving index
was not built from), the whole folder is scanned instead. The real-parts twin:
tests/test_updates.py."""

import time

import pytest

from rag.errors import BadRequest, RebuildInProgress
from rag.index import build as build_module
from rag.ingest import changed_files, file_cache, loading
from rag.web.app import create_app
from tests.conftest import write_article
from tests.fast.conftest import BlockingEmbedder, fast_service, fast_settings
from tests.fast.test_updates import FURNITURE, counting_reads, ports, story


def listings(monkeypatch) -> list[str]:
    """The folders listed whole (a scan of the whole folder lists it once)."""
    listed = []
    real = loading.iter_files

    def iter_files(root):
        listed.append(str(root))
        return real(root)

    monkeypatch.setattr(loading, "iter_files", iter_files)
    return listed


def whole_scan_agrees(service) -> None:
    """A scan of the whole folder finds nothing left to do: the named update left the index, its
    digest and the file cache as that scan would have."""
    again = service.rebuild()
    assert (again.added, again.updated, again.removed, again.changed) == (0, 0, 0, False)


@pytest.fixture
def archive(tmp_path):
    return ports(tmp_path, 6)


def test_named_files_alone_are_read_and_the_folder_is_not_listed(archive, monkeypatch):
    seeds = archive.settings.seeds_dir
    write_article(seeds, "port-9.txt", "Port 9 dredging approved", story(9))
    write_article(seeds, "port-1.txt", "Port 1 dredging postponed", story(41))
    (seeds / "port-2.txt").unlink()
    write_article(seeds, "port-3.txt", "Port 3 edited but not named", story(33))
    listed, read = listings(monkeypatch), counting_reads(monkeypatch)
    summary = archive.rebuild(changed=["port-9.txt", str(seeds / "port-1.txt"), "port-2.txt"])
    assert listed == [] and sorted(set(read)) == ["port-1.txt", "port-9.txt"]
    assert (summary.added, summary.updated, summary.removed, summary.unchanged) == (1, 1, 1, 4)
    assert summary.in_place and summary.articles == 6
    served = archive.serving.articles
    assert "port-2" not in served and served["port-9"].source == "port-9.txt"
    assert served["port-1"].title == "Port 1 dredging postponed"
    # A file changed but not named waits for a scan of the whole folder, which finds it alone.
    assert served["port-3"].title == "Port 3 dredging approved"
    later = archive.rebuild()
    assert (later.added, later.updated, later.removed) == (0, 1, 0)
    assert archive.serving.articles["port-3"].title == "Port 3 edited but not named"
    whole_scan_agrees(archive)


def test_a_name_no_file_can_have_sends_the_update_to_the_listing(archive, monkeypatch):
    write_article(archive.settings.seeds_dir, "port-9.txt", "Port 9 dredging approved", story(9))
    listed = listings(monkeypatch)
    summary = archive.rebuild(changed=["x" * 300 + ".txt"])  # longer than a file name may be
    assert listed == [str(archive.settings.seeds_dir)] and summary.added == 1


def test_naming_unchanged_files_changes_nothing(archive, monkeypatch):
    listed = listings(monkeypatch)
    before = archive.serving.name
    summary = archive.rebuild(changed=["port-1.txt", "never-there.txt"])
    assert listed == [] and not summary.changed and archive.serving.name == before


def test_a_renamed_file_named_under_both_names(archive):
    seeds = archive.settings.seeds_dir
    (seeds / "port-4.txt").rename(seeds / "harbour-4.txt")
    summary = archive.rebuild(changed=["port-4.txt", "harbour-4.txt"])
    # The id follows the file name, so a renamed file is a new article and the old one goes.
    assert (summary.added, summary.removed) == (1, 1)
    assert archive.serving.articles["harbour-4"].source == "harbour-4.txt"
    whole_scan_agrees(archive)


@pytest.mark.parametrize("case", ["same id in another file", "same id, both files named",
                                  "same text in another file", "removing the kept copy",
                                  "boilerplate crossing its threshold"])
def test_the_whole_folder_is_scanned_where_named_files_bear_on_others(tmp_path, monkeypatch, case):
    service = ports(tmp_path, 6)
    seeds = service.settings.seeds_dir
    if case == "same id in another file":
        # An article's id is its file's path less the suffix.
        write_article(seeds, "port-0.md", "Another port 0 story", story(50))
        named = ["port-0.md"]
    elif case == "same id, both files named":
        # port-0.txt is named but unchanged: its article is another file's, not one of the update's.
        write_article(seeds, "port-0.md", "Another port 0 story", story(50))
        named = ["port-0.txt", "port-0.md"]
    elif case == "same text in another file":
        write_article(seeds, "copy-of-3.txt", "Port 3 dredging approved", story(3))
        named = ["copy-of-3.txt"]
    elif case == "removing the kept copy":
        write_article(seeds, "zz-copy-of-3.txt", "Port 3 dredging approved", story(3))
        service.rebuild()  # the copy is skipped: same text as port-3.txt
        (seeds / "port-3.txt").unlink()
        named = ["port-3.txt"]
    else:
        for n in (0, 1):
            write_article(seeds, f"port-{n}.txt", f"Port {n} dredging approved", story(n, furniture=True))
        service.rebuild()
        write_article(seeds, "port-2.txt", "Port 2 dredging approved", story(2, furniture=True))
        named = ["port-2.txt"]
    listed = listings(monkeypatch)
    summary = service.rebuild(changed=named)
    assert listed == [str(seeds)], "the update needed the whole folder"
    whole_scan_agrees(service)
    served = service.serving.articles
    if case == "removing the kept copy":
        assert served["zz-copy-of-3"].source == "zz-copy-of-3.txt" and "port-3" not in served
    elif case == "boilerplate crossing its threshold":
        # The newsletter line now repeats in three articles: cleaned out of all of them, so the
        # two that had it indexed change (port-2 cleaned is what it was).
        assert summary.updated == 2
        assert all(FURNITURE not in r["text"] for r in service.serving.records)
    else:
        assert any(s["reason"].startswith(("duplicate article id", "same text as"))
                   for s in summary.skipped)


def test_after_a_failed_update_the_next_named_one_scans_the_whole_folder(archive, monkeypatch):
    seeds = archive.settings.seeds_dir
    write_article(seeds, "port-7.txt", "Port 7 dredging approved", story(7))

    def fail(*args, **kwargs):
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(build_module, "_update_in_place", fail)
        with pytest.raises(OSError):
            archive.rebuild(changed=["port-7.txt"])
    # The cache has read port-7.txt, the index has not got it: naming another file must not
    # leave port-7 out for good.
    write_article(seeds, "port-8.txt", "Port 8 dredging approved", story(8))
    listed = listings(monkeypatch)
    summary = archive.rebuild(changed=["port-8.txt"])
    assert listed == [str(seeds)] and summary.added == 2
    assert {"port-7", "port-8"} <= set(archive.serving.articles)
    whole_scan_agrees(archive)


@pytest.mark.parametrize("name", ["../elsewhere.txt", "/etc/passwd", ".hidden.txt", "news/.draft.txt",
                                  "port-1.txt\0.md"])
def test_a_named_file_no_scan_would_read_is_refused_and_nothing_changes(archive, name):
    before = archive.serving.name
    with pytest.raises(BadRequest):
        archive.rebuild(changed=[name])
    assert archive.serving.name == before and archive.rebuild_state.state == "idle"


def test_named_files_over_http(archive):
    from fastapi.testclient import TestClient

    seeds = archive.settings.seeds_dir
    client = TestClient(create_app(archive))
    bad = client.post("/api/index/rebuild", json={"changed": ["../../etc/passwd"]})
    assert bad.status_code == 400 and "not a file in the seeds folder" in bad.json()["error"]
    assert client.post("/api/index/rebuild", json={"changed": "port-1.txt"}).status_code == 422
    write_article(seeds, "port-9.txt", "Port 9 dredging approved", story(9))
    assert client.post("/api/index/rebuild", json={"changed": ["port-9.txt"]}).status_code == 202
    for _ in range(1000):
        if archive.rebuild_state.state != "running":
            break
        time.sleep(0.01)
    assert archive.rebuild_state.last_summary["added"] == 1
    assert "port-9" in archive.serving.articles


def test_a_cache_from_before_the_article_table_is_filled_once(archive, monkeypatch):
    cache = file_cache.FileCache(archive.settings.index_dir / "files.sqlite", archive.settings.seeds_dir)
    cache.db.execute("DELETE FROM articles")
    cache.db.execute("DELETE FROM meta WHERE name = 'articles_table'")
    cache.close()
    seeds = archive.settings.seeds_dir
    write_article(seeds, "other-0.txt", "Port 0 dredging approved", story(0))  # port-0's very text
    listed = listings(monkeypatch)
    archive.rebuild(changed=["other-0.txt"])
    # The table was filled again from the files, so the shared text was seen and the folder
    # scanned: the first of the two copies in the folder's order is the one kept.
    assert listed == [str(seeds)]
    assert "other-0" in archive.serving.articles and "port-0" not in archive.serving.articles
    assert changed_files.BadChangedFile.status == 400


def test_a_named_file_loses_boilerplate_the_folder_already_repeats(tmp_path, monkeypatch):
    settings = fast_settings(tmp_path)
    for n in range(4):
        write_article(settings.seeds_dir, f"port-{n}.txt", f"Port {n} dredging approved",
                      story(n, furniture=True))
    service = fast_service(settings)
    service.rebuild()
    write_article(settings.seeds_dir, "port-9.txt", "Port 9 dredging approved", story(9, furniture=True))
    listed = listings(monkeypatch)
    assert service.rebuild(changed=["port-9.txt"]).added == 1 and listed == []
    row = service.serving.first_row["port-9"]
    assert FURNITURE not in service.serving.records[row]["text"]
    assert "109 million euros" in service.serving.records[row]["text"]
    whole_scan_agrees(service)


def test_a_cache_scanned_by_a_version_without_the_table_is_filled_again(archive, monkeypatch):
    index_dir, seeds = archive.settings.index_dir, archive.settings.seeds_dir
    write_article(seeds, "port-6.txt", "Port 6 dredging approved", story(6))
    # As an older version's scan would leave it: port-6 read into the files, not the table.
    archive.rebuild()
    cache = file_cache.FileCache(index_dir / "files.sqlite", seeds)
    cache.db.execute("DELETE FROM articles WHERE source = 'port-6.txt'")
    cache.db.execute("UPDATE meta SET value = 'older-version' WHERE name = 'scan_mark'")
    cache.close()
    archive.rebuild()  # the pointer's mark is not the cache's: a whole scan, which keeps the table stale
    write_article(seeds, "zz-6.txt", "Port 6 dredging approved", story(6))  # port-6's very text
    listed = listings(monkeypatch)
    archive.rebuild(changed=["zz-6.txt"])
    assert listed == [str(seeds)], "the table was not filled again, so the shared text went unseen"
    assert "zz-6" not in archive.serving.articles
    whole_scan_agrees(archive)


def test_a_named_file_changed_while_it_is_read_sends_the_update_to_the_listing(archive, monkeypatch):
    seeds = archive.settings.seeds_dir
    write_article(seeds, "port-9.txt", "Port 9 dredging approved", story(9))
    real, reads = file_cache.load_file, []

    def load_file(path, source):
        reads.append(source)
        if reads.count("port-9.txt") == 2:  # between the two readings of a named scan
            write_article(seeds, "port-9.txt", "Port 9 dredging approved", story(9, furniture=True))
        return real(path, source)

    monkeypatch.setattr(file_cache, "load_file", load_file)
    monkeypatch.setattr(changed_files, "load_file", load_file)
    listed = listings(monkeypatch)
    archive.rebuild(changed=["port-9.txt"])
    assert listed == [str(seeds)]
    whole_scan_agrees(archive)


def test_files_named_while_a_rebuild_runs_are_read_by_the_next(tmp_path):
    """An upload while another rebuild runs cannot start its own; the next upload's rebuild
    reads both its files and the earlier ones."""
    settings = fast_settings(tmp_path)
    for n in range(3):
        write_article(settings.seeds_dir, f"port-{n}.txt", f"Port {n} dredging approved", story(n))
    embedder = BlockingEmbedder()
    embedder.go.set()
    service = fast_service(settings, embedder=embedder)
    service.rebuild()
    seeds = settings.seeds_dir
    embedder.go.clear()
    embedder.waiting.clear()
    write_article(seeds, "port-7.txt", "Port 7 dredging approved", story(7))
    service.start_rebuild(changed=["port-7.txt"])
    assert embedder.waiting.wait(10)
    write_article(seeds, "port-8.txt", "Port 8 dredging approved", story(8))
    with pytest.raises(RebuildInProgress):
        service.start_rebuild(changed=["port-8.txt"])
    embedder.go.set()
    for _ in range(1000):
        if service.rebuild_state.state != "running":
            break
        time.sleep(0.01)
    assert "port-7" in service.serving.articles and "port-8" not in service.serving.articles
    write_article(seeds, "port-9.txt", "Port 9 dredging approved", story(9))
    summary = service.rebuild(changed=["port-9.txt"])
    assert summary.added == 2 and {"port-8", "port-9"} <= set(service.serving.articles)
