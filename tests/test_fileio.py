"""Output files: atomic writes with the permissions of a plain open, temporary files of killed writers, and the
check that a result can be written before the work for it."""

import errno
import os
import subprocess
import sys

import pytest

from genlab.errors import GenlabError
from genlab.fileio import atomic_write, ensure_writable, remove_stale_temporaries, write_json


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_written_files_get_the_permissions_of_a_plain_open(tmp_path, umask):
    previous = os.umask(umask)
    try:
        write_json(tmp_path / "a.json", {})
    finally:
        os.umask(previous)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o666 & ~umask


def test_an_oserror_while_writing_names_the_file_and_leaves_no_temporary(tmp_path):
    with pytest.raises(OSError) as error, atomic_write(tmp_path / "a.bin") as handle:
        handle.write(b"half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # as a full disk reports it: without a file name
    assert error.value.filename == str(tmp_path / "a.bin")
    assert list(tmp_path.iterdir()) == []


def test_temporary_files_of_killed_writers_are_removed_and_live_ones_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lost = tmp_path / f".ckpt-00000020.pt.{int(dead.stdout)}.0123abcd.tmp"
    live = tmp_path / f".eval.json.{os.getpid()}.0123abcd.tmp"  # a write of a running process, not finished yet
    for path in (lost, live, tmp_path / "notes.tmp"):
        path.write_bytes(b"x")
    assert remove_stale_temporaries(tmp_path) == [tmp_path / "ckpt-00000020.pt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [live.name, "notes.tmp"]


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
