"""metrics.jsonl: records appended one line each, read back by reports, curves and resumed runs."""

import json

import pytest

from genlab.errors import CheckpointError
from genlab.train.logger import MetricsLog, read_metrics

RECORDS = [{"step": 5, "loss/d": 1.0}, {"step": 10, "loss/d": 0.5}]


def write(path, tail: str = "") -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in RECORDS) + tail)


def test_a_line_cut_off_by_a_killed_run_is_left_out_with_a_warning(tmp_path):
    path = tmp_path / "metrics.jsonl"
    write(path, '{"step": 15, "loss/d": 0.')
    with pytest.warns(UserWarning, match="leaving out line 3, cut off when the run stopped mid-write"):
        assert read_metrics(path) == RECORDS
    with pytest.warns(UserWarning), MetricsLog(path, None, resumed_step=10):  # resuming drops it from the file
        pass
    assert read_metrics(path) == RECORDS and path.read_text().endswith("\n")


@pytest.mark.parametrize("line", ["garbage", "[1, 2]", '{"loss/d": 1.0}'])
def test_any_other_damaged_line_is_an_error_naming_the_file_and_line(tmp_path, line):
    path = tmp_path / "metrics.jsonl"
    write(path, line + "\n" + json.dumps({"step": 15}) + "\n")
    with pytest.raises(CheckpointError, match=r"metrics\.jsonl line 3 is not a metrics record.*delete or mend"):
        read_metrics(path)
