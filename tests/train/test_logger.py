"""metrics.jsonl: records appended one line each, read back by reports, curves and resumed runs."""

import json
import math
from collections.abc import Callable

import numpy as np
import pytest

from genlab.errors import CheckpointError
from genlab.train import MetricsLog, RunDir, read_metrics
from genlab.train.sinks import Sink

RECORDS = [{"step": 5, "loss/d": 0.7}, {"step": 10, "loss/d": 0.6}]


def write_lines(path, *lines):
    path.write_text("".join(json.dumps(r) + "\n" for r in RECORDS) + "".join(lines))


def test_a_cut_off_last_line_is_left_out_with_a_warning_and_dropped_on_resume(tmp_path):
    path = tmp_path / "metrics.jsonl"
    write_lines(path, '{"step": 15, "loss/d": 0.')  # the disk filled up while it was written
    with pytest.warns(UserWarning, match=rf"{path}, line 3 is cut off"):
        assert read_metrics(path) == RECORDS
    with pytest.warns(UserWarning):
        MetricsLog(RunDir(tmp_path), resumed_step=10).close()
    assert path.read_text() == "".join(json.dumps(r) + "\n" for r in RECORDS)


@pytest.mark.parametrize("bad", ['{"step": 7, "loss', "[1, 2]", "{}"])
def test_a_damaged_line_before_the_last_is_an_error_naming_file_and_line(tmp_path, bad):
    path = tmp_path / "metrics.jsonl"
    write_lines(path, bad + "\n", json.dumps({"step": 15}) + "\n")
    with pytest.raises(CheckpointError, match=rf"{path}, line 3 is not a metrics record"):
        read_metrics(path)


def recording(sinks: list) -> Callable:
    """An opener of Recorder sinks that appends each one it opens to ``sinks``."""

    def open_recorder(run, resumed_step):
        sinks.append(Recorder(run, resumed_step))
        return sinks[-1]

    return open_recorder


class Recorder(Sink):
    """A sink that keeps what it is sent."""

    name, packages = "recorder", ()

    def __init__(self, run, resumed_step):
        self.opened_with, self.got, self.closed = (run.path, resumed_step), [], False

    def scalars(self, values, step):
        self.got.append(("scalars", dict(values), step))

    def image(self, tag, grid, step):
        self.got.append(("image", tag, grid.shape, step))

    def config(self, config):
        self.got.append(("config", config))

    def close(self):
        self.closed = True


def test_every_sink_gets_the_finite_numbers_of_each_record_the_pictures_and_the_config(tmp_path):
    sinks = []
    with MetricsLog(RunDir(tmp_path), sinks=[recording(sinks)] * 2) as log:
        log.config({"train": {"steps": 20}})
        log.write({"step": 3, "loss/d": 0.5, "n": 2, "doctor": "d-too-strong", "stopped": True, "bad": math.nan})
        log.write({"step": 4, "doctor": "mode-collapse"})  # no numbers: nothing to send
        log.image("samples", np.zeros((8, 6, 3), np.uint8), 4)
    assert read_metrics(tmp_path / "metrics.jsonl")[1] == {"step": 4, "doctor": "mode-collapse"}
    for sink in sinks:
        assert sink.opened_with == (tmp_path, None) and sink.closed
        assert sink.got == [
            ("config", {"train": {"steps": 20}}),
            ("scalars", {"loss/d": 0.5, "n": 2}, 3),
            ("image", "samples", (8, 6, 3), 4),
        ]


def test_a_sink_that_fails_to_open_closes_those_opened_before_it(tmp_path):
    opened = []

    def broken(run, resumed_step):
        raise RuntimeError("backend down")

    with pytest.raises(RuntimeError, match="backend down"):
        MetricsLog(RunDir(tmp_path), sinks=[recording(opened), broken])
    assert [sink.closed for sink in opened] == [True]
