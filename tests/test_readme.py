"""The README's example of training your own networks runs as printed (shortened to a few steps)."""

import re
from pathlib import Path

README = Path(__file__).parents[1] / "README.md"


def readme_example(heading: str) -> str:
    text = README.read_text()
    section = text[text.index(heading) :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_own_networks_example_trains_and_its_generator_samples(tmp_path, monkeypatch):
    code = readme_example("### Your own networks and data")
    assert len([line for line in code.splitlines() if line.strip()]) <= 15, "the example should stay short"
    code = code.replace('"steps": 1500}', '"steps": 30, "progress": False, "loggers": ["jsonl"]}, "device": "cpu"')
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, str(README), "exec"), namespace)
    assert namespace["result"].step == 30
    assert namespace["samples"].shape == (16, 1, 8, 8)
    assert (tmp_path / "runs" / "mine" / "checkpoints" / "ckpt-00000030.pt").is_file()
