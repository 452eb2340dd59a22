import pytest
import yaml

from genlab.config import dump_config, load_config, presets, read_run_config
from genlab.errors import ConfigError
from genlab.models.gan import GANConfig
from genlab.nets.dcgan import DCGAN
from genlab.train import RunDir


def error_of(*overrides, source=None) -> str:
    with pytest.raises(ConfigError) as err:
        load_config(source if source is not None else {}, list(overrides))
    return str(err.value)


def test_defaults_validate_and_round_trip_through_yaml(tmp_path):
    cfg = load_config({})
    path = tmp_path / "c.yaml"
    path.write_text(dump_config(cfg))
    assert load_config(path) == cfg
    assert isinstance(cfg.model, GANConfig) and cfg.model.objective.name == "nonsaturating"


@pytest.mark.parametrize("name", presets())
def test_presets_load_by_name_and_from_the_configs_folder(name):
    by_name = load_config(name)
    assert by_name == load_config(f"configs/{name}.yaml")
    assert by_name.name == name


def test_every_objective_has_ready_configs_for_mnist_and_the_2d_mixtures():
    from genlab.objectives import OBJECTIVES

    assert {"dcgan-digits", "dcgan-mnist"} <= set(presets())
    for objective in OBJECTIVES.names():
        for data in ("mnist", "grid25", "ring8"):
            cfg = load_config(f"{objective}-{data}")
            assert (cfg.model.objective.name, cfg.data.name) == (objective, data)


def test_overrides_parse_values_as_yaml():
    cfg = load_config(
        "dcgan-digits",
        [
            "train.steps=7",
            "model.d_optim.lr=1e-4",
            "model.d_optim.betas=[0.0, 0.9]",
            "train.progress=false",
            "model.objective={name: nonsaturating}",
        ],
    )
    assert cfg.train.steps == 7 and cfg.model.d_optim.lr == 1e-4
    assert cfg.model.d_optim.betas == (0.0, 0.9) and cfg.train.progress is False


def test_unknown_keys_name_the_key_and_suggest_the_nearest():
    assert "train: unknown key 'stepz' (did you mean 'steps'?)" in error_of("train.stepz=5")
    assert "config: unknown key 'trian' (did you mean 'train'?)" in error_of("trian.steps=5")
    assert "model.generator: unknown key 'widht' (did you mean 'width'?)" in error_of("model.generator.widht=3")


def test_unknown_names_in_registries_suggest_the_nearest():
    assert "data.name: unknown data set 'mnsit' (did you mean 'mnist'?)" in error_of("data.name=mnsit")
    assert "unknown objective 'nonsat' (did you mean 'nonsaturating'?)" in error_of("model.objective=nonsat")
    assert "model.generator: unknown architecture 'dcgn' (did you mean 'dcgan'?)" in error_of(
        "model.generator.arch=dcgn"
    )
    assert "unknown recipe 'gann'" in error_of("model.recipe=gann")


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("train.steps=0", "train.steps: must be >= 1 (got 0)"),
        ("data.size=2000", "data.size: must be in [4, 1024] (got 2000)"),
        ("model.d_optim.lr=-1", "model.d_optim.lr: must be in (0, 10] (got -1)"),
        ("model.d_optim.betas=[0.5, 1.0]", "model.d_optim.betas.1: must be in [0, 1) (got 1.0)"),
        ("model.d_steps=0", "model.d_steps: must be in [1, 100] (got 0)"),
        ("device=gpu", "device: Input should be 'auto', 'cpu' or 'cuda' (got 'gpu')"),
        ("train.steps=abc", "train.steps: Input should be a valid integer"),
        ("name=my run", "name: must start with a letter or digit"),
    ],
)
def test_out_of_range_values_name_the_field_and_the_allowed_range(override, expected):
    assert expected in error_of(override)


def test_all_problems_are_reported_at_once():
    message = error_of("train.steps=0", "data.size=1")
    assert "train.steps" in message and "data.size" in message


def test_malformed_overrides_and_files(tmp_path):
    assert "must look like section.key=value" in error_of("train.steps")
    assert "not a section" in error_of("model.objective=nonsaturating", "model.objective.extra=1")
    (tmp_path / "bad.yaml").write_text("train: [unclosed")
    assert "is not valid YAML" in error_of(source=tmp_path / "bad.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    assert "must hold a mapping" in error_of(source=tmp_path / "list.yaml")
    assert "`genlab config --list` shows the" in error_of(source=tmp_path / "missing.yaml")
    assert "did you mean 'wgan-gp-grid25'?" in error_of(source="wgan-gb-grid25")


def test_configs_are_immutable_and_dumps_are_complete():
    cfg = load_config({})
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        cfg.train.steps = 3
    dumped = yaml.safe_load(dump_config(cfg))
    generator = dumped["model"]["generator"]
    assert set(generator) == set(DCGAN.model_fields) and generator["arch"] == "dcgan" and generator["width"] == 64
    assert dumped["train"]["steps"] == 2000


def test_extends_merges_a_base_config_and_switching_kind_starts_afresh(tmp_path):
    (tmp_path / "base.yaml").write_text(
        "name: base\nmodel:\n  z_dim: 7\n  objective: {name: wgan-gp, gp_weight: 3}\n"
        "train: {steps: 11, batch_size: 8}\n"
    )
    (tmp_path / "child.yaml").write_text("extends: base.yaml\nname: child\ntrain: {steps: 22}\n")
    cfg = load_config(tmp_path / "child.yaml")
    assert (cfg.name, cfg.model.z_dim, cfg.train.steps, cfg.train.batch_size) == ("child", 7, 22, 8)
    assert cfg.model.objective.gp_weight == 3
    (tmp_path / "hinge.yaml").write_text("extends: base.yaml\nmodel: {objective: {name: hinge}}\n")
    assert load_config(tmp_path / "hinge.yaml").model.objective.gp_weight == 0  # not wgan-gp's 3
    (tmp_path / "preset.yaml").write_text("extends: dcgan-digits\ntrain: {steps: 5}\n")
    assert load_config(tmp_path / "preset.yaml").data.name == "digits"
    (tmp_path / "loop.yaml").write_text("extends: loop.yaml\n")
    with pytest.raises(ConfigError, match="loops back"):
        load_config(tmp_path / "loop.yaml")


def test_setting_a_key_inside_a_switched_off_section_switches_it_on():
    assert load_config({}).model.tricks.ema is None
    cfg = load_config({"model": {"tricks": {"ema": None}}}, ["model.tricks.ema.decay=0.99"])
    assert cfg.model.tricks.ema.decay == 0.99 and cfg.model.tricks.ema.start == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"name: [unclosed\n", "is not valid YAML"), (b"\xff\xfe\x00", "is not valid YAML"), (b"- 1\n", "mapping")],
)
def test_a_damaged_run_config_is_named(tmp_path, content, message):
    (tmp_path / "config.yaml").write_bytes(content)
    with pytest.raises(ConfigError, match=message) as err:
        read_run_config(RunDir.open(tmp_path))
    assert "config.yaml" in str(err.value)
