"""metrics.jsonl: records appended one line each, read back by reports, curves and resumed runs."""

import json

import pytest

from genlab.errors import CheckpointError
from genlab.train import MetricsLog, read_metrics

RECORDS = [{"step": 5, "loss/d": 0.7}, {"step": 10, "loss/d": 0.6}]


def write_lines(path, *lines):
    path.write_text("".join(json.dumps(r) + "\n" for r in RECORDS) + "".join(lines))


def test_a_cut_off_last_line_is_left_out_with_a_warning_and_dropped_on_resume(tmp_path):
    path = tmp_path / "metrics.jsonl"
    write_lines(path, '{"step": 15, "loss/d": 0.')  # the disk filled up while it was written
    with pytest.warns(UserWarning, match=rf"{path}, line 3 is cut off"):
        assert read_metrics(path) == RECORDS
    with pytest.warns(UserWarning):
        MetricsLog(path, None, resumed_step=10).close()
    assert path.read_text() == "".join(json.dumps(r) + "\n" for r in RECORDS)


@pytest.mark.parametrize("bad", ['{"step": 7, "loss', "[1, 2]", "{}"])
def test_a_damaged_line_before_the_last_is_an_error_naming_file_and_line(tmp_path, bad):
    path = tmp_path / "metrics.jsonl"
    write_lines(path, bad + "\n", json.dumps({"step": 15}) + "\n")
    with pytest.raises(CheckpointError, match=rf"{path}, line 3 is not a metrics record"):
        read_metrics(path)
