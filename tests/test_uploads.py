"""Uploads into the seeds folder: types, sizes, names that cannot escape, no silent overwrite."""

from rag.ingest.uploads import MAX_UPLOAD_BYTES, safe_name, save_uploads


def temp_file(tmp_path, name, content=b"Title\n\nSome article text.\n"):
    path = tmp_path / "incoming" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def test_names_cannot_escape_the_folder():
    assert safe_name("../../etc/passwd.txt") == "passwd.txt"
    assert safe_name("..\\..\\windows\\evil.md") == "evil.md"
    assert safe_name("/abs/path/story.html") == "story.html"
    assert safe_name("..") is None and safe_name("") is None and safe_name("...") is None
    assert safe_name(".hidden.txt") == "hidden.txt"  # never a dotfile the loader would ignore
    assert safe_name("we<ird>|name?.txt") == "we_ird_name_.txt"


def test_save_uploads(tmp_path):
    seeds = tmp_path / "seeds"
    outside = tmp_path / "outside.txt"
    ok = temp_file(tmp_path, "story.txt")
    sneaky = temp_file(tmp_path, "sneaky.txt")
    exe = temp_file(tmp_path, "tool.exe", b"MZ")
    big = temp_file(tmp_path, "big.txt", b"a" * (MAX_UPLOAD_BYTES + 1))
    empty = temp_file(tmp_path, "empty.md", b"")
    result = save_uploads(seeds, [("story.txt", ok), ("../outside.txt", sneaky), ("tool.exe", exe),
                                  ("big.txt", big), ("empty.md", empty)])
    assert sorted(result.saved) == ["outside.txt", "story.txt"]
    assert not outside.exists() and (seeds / "outside.txt").exists()
    why = dict(result.rejected)
    assert "unsupported file type" in why["tool.exe"]
    assert "larger than" in why["big.txt"]
    assert why["empty.md"] == "empty file"

    changed = temp_file(tmp_path, "story2.txt", b"New title\n\nNew text.\n")
    again = save_uploads(seeds, [("story.txt", changed)])
    assert again.saved == [] and "already exists" in again.rejected[0][1]
    assert (seeds / "story.txt").read_bytes() == b"Title\n\nSome article text.\n"
    replaced = save_uploads(seeds, [("story.txt", changed)], overwrite=True)
    assert replaced.saved == ["story.txt"] and (seeds / "story.txt").read_bytes().startswith(b"New title")


def _gzip_of(tmp_path, name, pieces):
    """A gzip file written piece by piece, so a test never holds what it decompresses to."""
    import gzip

    path = tmp_path / "incoming" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb") as fh:
        for piece in pieces:
            fh.write(piece)
    return path


def test_compressed_uploads_are_checked_on_their_decompressed_size(tmp_path):
    import json
    import os

    seeds = tmp_path / "seeds"
    record = (json.dumps({"id": "bomb", "title": "Bomb", "text": "Boom. " + "a" * 20_000}) + "\n").encode()
    uploads = {
        "bomb.txt.gz": _gzip_of(tmp_path, "bomb.txt.gz", [b"Title\n\n"] + [b"a" * (1024 * 1024)] * 50),
        "bomb.jsonl.gz": _gzip_of(tmp_path, "bomb.jsonl.gz", [record * 50] * 100),
        # Hex compresses about 2:1: a normal ratio, but over 5 MB once decompressed.
        "long.txt.gz": _gzip_of(tmp_path, "long.txt.gz", [os.urandom(1024 * 1024).hex().encode()] * 3),
        "fine.txt.gz": _gzip_of(tmp_path, "fine.txt.gz", [b"Zipped title\n\nA small zipped article.\n"]),
        "broken.txt.gz": temp_file(tmp_path, "broken.txt.gz", b"\x1f\x8b\x08\x00 not really gzip"),
    }
    assert all(os.path.getsize(p) < MAX_UPLOAD_BYTES for p in uploads.values())
    result = save_uploads(seeds, list(uploads.items()))
    assert result.saved == ["fine.txt.gz"]
    why = dict(result.rejected)
    assert "compressed over 100:1" in why["bomb.txt.gz"]
    assert "compressed over 100:1" in why["bomb.jsonl.gz"]
    assert "larger than 5 MB when decompressed" in why["long.txt.gz"]
    assert "gzip" in why["broken.txt.gz"]
    assert sorted(p.name for p in seeds.iterdir()) == ["fine.txt.gz"]  # no bomb, no partial copy
