"""train.loggers: TensorBoard, W&B (offline) and MLflow (a store in the run folder) get what metrics.jsonl holds.

One tiny run logs to all four, is cut back to its step-10 checkpoint and resumed to step 20 (with a changed
train.keep_checkpoints), with Python's sockets refusing every connection; each backend is then read back with its
own reader and compared with metrics.jsonl.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

import genlab
from genlab import build
from genlab.build import build_trainer, resume_trainer
from genlab.config import Config, load_config, read_run_config, validate_config
from genlab.errors import ConfigError
from genlab.runs import open_run
from genlab.schema import flatten
from genlab.train import RunDir, load_checkpoint, read_metrics, save_checkpoint
from genlab.train.logger import scalars
from genlab.train.sinks.base import environment_default
from genlab.train.sinks.mlflow import metric_name

from ..conftest import TINY

EVERY_LOGGER = "train.loggers=[jsonl,tensorboard,wandb,mlflow]"


@dataclass
class Logged:
    run: RunDir
    config: Config
    resumed: Config
    """The config of the resumed session: the first one with train.keep_checkpoints 2 instead of 3."""
    records: list[dict]
    """metrics.jsonl after the resume."""
    network: list[object]
    """The hosts Python code tried to look up and the addresses it tried to reach while training."""


@pytest.fixture(scope="module")
def logged(tmp_path_factory) -> Logged:
    run = RunDir(tmp_path_factory.mktemp("sinks") / "run")
    config = load_config(TINY, [EVERY_LOGGER])
    attempts: list[object] = []
    connect = socket.socket.connect

    def refuse_connection(sock: socket.socket, address: object) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            attempts.append(address)
            raise OSError("tests allow no network")
        connect(sock, address)

    def refuse_lookup(host: object, *args: object, **kwargs: object) -> None:
        attempts.append(host)
        raise socket.gaierror("tests allow no network")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse_connection)
        patch.setattr(socket, "getaddrinfo", refuse_lookup)
        for module in ("wandb", "mlflow", "sqlalchemy", "tensorboard"):  # pip install ".[wandb,mlflow]" has them
            pytest.importorskip(module)
        build_trainer(config, RunDir.create(run.path, config.name)).fit()
        (run.checkpoints_dir / "ckpt-00000020.pt").unlink()  # steps 11-20 are trained (and logged) again
        resume_trainer(run.path, ["train.keep_checkpoints=2"]).fit()
    return Logged(run, config, read_run_config(run), read_metrics(run.metrics_path), attempts)


def by_step(records: list[dict]) -> dict[int, dict[str, float]]:
    """The finite numbers logged at each step (several records of one step merged, as W&B merges them)."""
    merged: dict[int, dict[str, float]] = {}
    for record in records:
        merged.setdefault(record["step"], {}).update(scalars(record))
    return merged


def same_picture(a: Path, b: Path) -> bool:
    return np.array_equal(np.asarray(Image.open(a).convert("RGB")), np.asarray(Image.open(b).convert("RGB")))


def test_training_with_every_logger_reaches_no_network(logged):
    assert logged.network == []
    assert not {"WANDB_ERROR_REPORTING", "MLFLOW_DISABLE_TELEMETRY"} & set(os.environ)  # the sinks set them back
    assert [r["step"] for r in logged.records] == [5, 10, 15, 20]


def test_a_sinks_environment_default_lasts_for_its_block_and_never_replaces_the_users(monkeypatch):
    monkeypatch.delenv("GENLAB_TEST_SWITCH", raising=False)
    with environment_default("GENLAB_TEST_SWITCH", "false"):
        assert os.environ["GENLAB_TEST_SWITCH"] == "false"
    assert "GENLAB_TEST_SWITCH" not in os.environ
    monkeypatch.setenv("GENLAB_TEST_SWITCH", "mine")
    with environment_default("GENLAB_TEST_SWITCH", "false"):
        assert os.environ["GENLAB_TEST_SWITCH"] == "mine"
    assert os.environ["GENLAB_TEST_SWITCH"] == "mine"


# --- W&B -------------------------------------------------------------------------------------------------------


def wandb_records(path: Path):
    """The records of an offline run's .wandb file: a 7-byte header, then LevelDB-log chunks (CRC, length, type)
    in 32 KiB blocks, each record a protobuf ``Record`` split over one or more chunks."""
    from wandb.proto import wandb_internal_pb2

    data, block = path.read_bytes(), 32768
    assert data[:4] == b":W&B"
    position, payload = 7, b""
    while position + 7 <= len(data):
        if block - position % block < 7:  # a block's tail too short for a chunk header is padding
            position += block - position % block
            continue
        _, length, kind = struct.unpack("<IHB", data[position : position + 7])
        payload += data[position + 7 : position + 7 + length]
        position += 7 + length
        if kind in (1, 4):  # a full record, or the last chunk of one
            record = wandb_internal_pb2.Record()
            record.ParseFromString(payload)
            payload = b""
            yield record


def wandb_session(folder: Path) -> tuple[dict[int, dict], dict]:
    """History rows by step (keys of nested values joined by '/') and the last config of one offline session."""
    (path,) = folder.glob("run-*.wandb")
    history: dict[int, dict] = {}
    config: dict = {}
    for record in wandb_records(path):
        kind = record.WhichOneof("record_type")
        if kind == "history":
            items = {item.key or "/".join(item.nested_key): json.loads(item.value_json) for item in record.history.item}
            history[record.history.step.num] = {k: v for k, v in items.items() if not k.startswith("_")}
        elif kind == "config":
            config |= {item.key: json.loads(item.value_json) for item in record.config.update}
    return history, config


def test_wandb_offline_sessions_share_one_run_id_and_hold_what_metrics_jsonl_holds(logged):
    run_id = (logged.run.path / "wandb-id").read_text().strip()
    sessions = sorted((logged.run.path / "wandb").glob("offline-run-*"))
    assert [folder.name.rsplit("-", 1)[1] for folder in sessions] == [run_id, run_id]
    (first, first_config), (second, second_config) = (wandb_session(folder) for folder in sessions)
    assert sorted(first) == [5, 10, 15, 20] and sorted(second) == [15, 20]  # the resumed session: after step 10
    expected = by_step(logged.records)
    for step, values in (first | second).items():
        assert {k: v for k, v in values.items() if not k.startswith("samples/")} == expected[step]
    assert first_config == logged.config.model_dump(mode="json")
    assert second_config == logged.resumed.model_dump(mode="json") and second_config["train"]["keep_checkpoints"] == 2
    picture = sessions[0] / "files" / first[10]["samples/path"]
    assert same_picture(picture, logged.run.samples_dir / "step-00000010.png")


# --- MLflow ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mlflow_run(logged):
    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{logged.run.path / 'mlflow.db'}")
    return client, client.get_run((logged.run.path / "mlflow-id").read_text().strip())


def test_mlflow_metrics_equal_metrics_jsonl_at_the_same_steps(logged, mlflow_run):
    client, run = mlflow_run
    assert metric_name("D(G(z))") == "D_G_z__" and metric_name("loss/d") == "loss/d"
    expected = by_step(logged.records)
    for key in expected[20]:
        history = sorted(client.get_metric_history(run.info.run_id, metric_name(key)), key=lambda m: m.timestamp)
        last = {m.step: m.value for m in history}  # the resumed session logged steps 15 and 20 again
        assert last == {step: values[key] for step, values in expected.items() if key in values}, key
        assert [m.step for m in history] == [5, 10, 15, 20, 15, 20]
    assert run.info.status == "FINISHED"


def test_mlflow_params_hold_the_flattened_config_and_the_artifacts_config_yaml_and_pictures(
    logged, mlflow_run, tmp_path
):
    client, run = mlflow_run
    first = flatten(logged.config.model_dump(mode="json"))
    assert run.data.params == {key: str(value) for key, value in first.items()}  # MLflow cannot change a parameter
    assert run.data.params["train.keep_checkpoints"] == "3" and run.data.params["model.z_dim"] == "8"
    config_yaml = Path(client.download_artifacts(run.info.run_id, "config.yaml", str(tmp_path)))
    assert yaml.safe_load(config_yaml.read_text()) == logged.resumed.model_dump(mode="json")  # replaced
    images = Path(client.download_artifacts(run.info.run_id, "images", str(tmp_path)))
    (step_10,) = images.glob("samples+step+10+*[0-9a-f].png")
    assert same_picture(step_10, logged.run.samples_dir / "step-00000010.png")
    assert len(list(images.glob("samples+step+20+*[0-9a-f].png"))) == 2  # one a session


# --- TensorBoard ---------------------------------------------------------------------------------------------


def test_tensorboard_holds_each_step_once_after_the_resume(logged):
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    events = accumulator.EventAccumulator(str(logged.run.tensorboard_dir), size_guidance={"tensors": 0})
    events.Reload()
    expected = by_step(logged.records)
    for key in expected[20]:
        logged_values = [(e.step, e.value) for e in events.Scalars(key)]
        # TensorBoard stores float32; resuming from step 10 purges the first session's steps 15 and 20, never 10
        assert logged_values == [(s, pytest.approx(v[key], rel=1e-6)) for s, v in expected.items() if key in v]
    assert "config/text_summary" in events.Tags()["tensors"]
    assert [e.step for e in events.Images("samples")] == [10, 20]


# --- the config ----------------------------------------------------------------------------------------------


def tiny_train(**train: object) -> dict:
    return {**TINY, "train": {k: v for k, v in TINY["train"].items() if k != "loggers"} | train}


@pytest.mark.parametrize(
    ("old", "loggers"),
    [
        ({"tensorboard": False}, ("jsonl",)),
        ({"tensorboard": True}, ("jsonl", "tensorboard")),
        ({"tensorboard": False, "loggers": ["jsonl", "tensorboard", "wandb"]}, ("jsonl", "wandb")),
        ({"tensorboard": True, "loggers": ["jsonl", "mlflow"]}, ("jsonl", "mlflow", "tensorboard")),
        ({}, ("jsonl", "tensorboard")),
    ],
)
def test_the_old_tensorboard_switch_becomes_train_loggers(old, loggers):
    assert load_config(tiny_train(**old)).train.loggers == loggers


def test_the_config_genlab_0_1_stored_in_the_shipped_digits_classifier_still_loads():
    info = torch.load(Path(genlab.__file__).parent / "metrics/weights/classifier-digits.pt", weights_only=True)["info"]
    assert info["genlab_version"] == "0.1.0" and "  tensorboard: false\n" in info["config"]
    assert validate_config(yaml.safe_load(info["config"])).train.loggers == ("jsonl",)


def test_a_run_and_checkpoint_written_with_the_old_switch_still_resume(tiny_config, tmp_path):
    cfg = tiny_config("train.steps=2")
    run = RunDir(tmp_path / "old")
    build_trainer(cfg, RunDir.create(run.path, cfg.name)).fit()
    old_text = run.config_path.read_text().replace("  loggers:\n  - jsonl\n", "  tensorboard: false\n")
    assert "tensorboard: false" in old_text and "loggers" not in old_text
    run.config_path.write_text(old_text)
    (checkpoint,) = run.checkpoints()
    state = load_checkpoint(checkpoint)
    state["config"]["train"] = {k: v for k, v in state["config"]["train"].items() if k != "loggers"} | {
        "tensorboard": False
    }
    save_checkpoint(checkpoint, state)
    assert read_run_config(run).train.loggers == ("jsonl",)
    assert open_run(run.path, "cpu").config.train.loggers == ("jsonl",)  # what sample, eval, export, report open
    assert resume_trainer(run.path, ["train.steps=4"]).fit().step == 4
    assert not run.tensorboard_dir.exists()


@pytest.mark.parametrize(
    ("loggers", "message"),
    [
        (
            "[tensorboard, wandb]",
            r"train\.loggers: must include jsonl: genlab report.*train\.loggers=\[jsonl, tensorboard",
        ),
        ("[jsonl, wnadb]", r"train\.loggers: unknown logger 'wnadb' \(did you mean 'wandb'\?\); choose from jsonl, "),
        ("[jsonl, mlflow, mlflow]", r"train\.loggers: names a logger twice"),
    ],
)
def test_bad_logger_lists_are_refused_naming_the_field(tiny_config, loggers, message):
    with pytest.raises(ConfigError, match=message):
        tiny_config(f"train.loggers={loggers}")


def test_a_non_boolean_old_switch_is_refused():
    with pytest.raises(
        ConfigError, match=r"train: tensorboard \(now train\.loggers\) must be true or false, got 'maybe'$"
    ):
        validate_config(tiny_train(tensorboard="maybe"))


@pytest.mark.parametrize(("logger", "module"), [("wandb", "wandb"), ("mlflow", "mlflow"), ("mlflow", "sqlalchemy")])
def test_a_logger_whose_package_is_missing_is_refused_before_data_loads(
    tiny_config, tmp_path, monkeypatch, logger, module
):
    monkeypatch.setitem(sys.modules, module, None)  # what `import module` and find_spec see when it is not installed
    monkeypatch.setattr(build, "open_dataset", lambda *a: pytest.fail("data loaded before the check"))
    cfg = tiny_config(f"train.loggers=[jsonl, {logger}]")
    with pytest.raises(
        ConfigError,
        match=rf"names {logger}, but the {module} package is not installed: pip install 'genlab\[{logger}\]'",
    ):
        build_trainer(cfg, RunDir.create(tmp_path / "run", cfg.name))


def test_without_tensorboard_installed_the_default_loggers_train_with_a_note(
    tiny_config, tmp_path, monkeypatch, capsys
):
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    cfg = tiny_config("train.loggers=[jsonl, tensorboard]", "train.steps=2")
    assert build_trainer(cfg, RunDir.create(tmp_path / "run", cfg.name)).fit().step == 2
    assert "note: tensorboard is not installed, so no TensorBoard events are written" in capsys.readouterr().err
    assert not RunDir(tmp_path / "run").tensorboard_dir.exists()
