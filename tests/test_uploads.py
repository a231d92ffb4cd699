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
