"""Output files: the check that a result can be written before the work for it."""

import os

import pytest

from genlab.errors import GenlabError
from genlab.fileio import ensure_writable


def test_ensure_writable_makes_the_folder_and_leaves_nothing_else(tmp_path):
    target = tmp_path / "new" / "deeper" / "eval.json"
    assert ensure_writable(target) == target
    assert list((tmp_path / "new" / "deeper").iterdir()) == []


@pytest.mark.parametrize(("where", "reason"), [("file.txt/eval.json", "file.txt is a file, not a folder"), ("dir", "")])
def test_ensure_writable_names_the_path_and_why(tmp_path, where, reason):
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "dir").mkdir()
    with pytest.raises(GenlabError, match="choose another output path") as err:
        ensure_writable(tmp_path / where)
    assert f"cannot write {tmp_path / where} (" in str(err.value) and reason in str(err.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_ensure_writable_refuses_a_read_only_folder(tmp_path):
    (tmp_path / "ro").mkdir(mode=0o555)
    with pytest.raises(GenlabError, match="Permission denied"):
        ensure_writable(tmp_path / "ro" / "eval.json")
