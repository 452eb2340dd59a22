import json
import os
import socket
import subprocess
import sys

import pytest

from genlab.errors import ConfigError, GenlabError
from genlab.train import RunDir


def dead_pid() -> int:
    """The pid of a process that has ended."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def test_a_folder_of_other_files_is_refused_and_left_as_it_was(tmp_path):
    mine = tmp_path / "mine"
    (mine / "samples").mkdir(parents=True)
    (mine / "curves.png").write_bytes(b"my curves")
    with pytest.raises(ConfigError, match=r"mine is not a genlab run folder but holds other files \(curves.png"):
        RunDir.create(mine, "x")
    assert sorted(p.name for p in mine.iterdir()) == ["curves.png", "samples"]


@pytest.mark.parametrize("out", ["", "file"])
def test_an_empty_out_or_a_file_is_refused(tmp_path, monkeypatch, out):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file").write_text("mine")
    with pytest.raises(ConfigError, match="--out"):
        RunDir.create(out, "x")
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_an_empty_existing_folder_becomes_the_run(tmp_path):
    (tmp_path / "empty").mkdir()
    assert RunDir.create(tmp_path / "empty", "x").path == tmp_path / "empty"


def test_a_locked_folder_is_refused_naming_the_holder_until_it_is_unlocked(tmp_path):
    first = RunDir.create(tmp_path / "run", "x")
    pattern = rf"run is being trained by another process \(pid {os.getpid()} on {socket.gethostname()}, since 20"
    with pytest.raises(GenlabError, match=pattern):
        RunDir.create(tmp_path / "run", "x")
    with pytest.raises(GenlabError, match=pattern):
        RunDir(tmp_path / "run").lock()
    first.unlock()
    assert (tmp_path / "run" / ".lock").read_text() == ""  # released: nobody holds it
    RunDir(tmp_path / "run").lock().unlock()


def test_the_lock_of_a_process_that_died_is_taken_over_with_a_note(tmp_path, capsys):
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    pid = dead_pid()
    holder = {"pid": pid, "host": socket.gethostname(), "since": "2026-01-01 10:00:00"}
    (tmp_path / "run" / ".lock").write_text(json.dumps(holder))
    (tmp_path / "run" / "checkpoints" / f".ckpt-00000020.pt.{pid}.0123abcd.tmp").write_bytes(b"x" * 1000)
    RunDir(tmp_path / "run").lock()
    err = capsys.readouterr().err
    assert f"taking over the lock on {tmp_path / 'run'} left by pid {pid}" in err and "no longer running" in err
    assert f"removed the temporary file of an unfinished write of {tmp_path}/run/checkpoints/ckpt-00000020.pt" in err
    assert list((tmp_path / "run" / "checkpoints").iterdir()) == []
    assert json.loads((tmp_path / "run" / ".lock").read_text())["pid"] == os.getpid()
