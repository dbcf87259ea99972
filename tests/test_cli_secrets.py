"""A planted api key in the environment never appears in CLI output, --json output, reports or errors."""

import json

import pytest

from staffbridge.faces.cli.main import main
from staffbridge.sdk.registry import sandbox_class

SECRET = "planted-key-7Qx93LmZp2"


@pytest.fixture
def setup(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STAFFBRIDGE_CONFIG", raising=False)
    monkeypatch.setenv("MOCO_API_KEY", SECRET)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # `adapters` caches there, not in ~/.cache
    with (
        sandbox_class("moco")(seed_people=5, api_key=SECRET) as good,
        sandbox_class("moco")(seed_people=0, api_key="another-key") as refusing,
    ):
        (tmp_path / "staffbridge.toml").write_text(
            f'[systems.moco]\nadapter = "moco"\nbase_url = "{good.url}"\napi_key = "${{MOCO_API_KEY}}"\n'
            f'[systems.refusing]\nadapter = "moco"\nbase_url = "{refusing.url}"\napi_key = "${{MOCO_API_KEY}}"\n'
            f"max_retries = 0\n"
            f'[systems.leaky]\nadapter = "moco"\nbase_url = "http://127.0.0.1:9/${{MOCO_API_KEY}}"\n'
            f'api_key = "${{MOCO_API_KEY}}"\nmax_retries = 0\n'
            f'[systems.bad]\nadapter = "moco"\ndomain = "${{MOCO_API_KEY}}!"\napi_key = "${{MOCO_API_KEY}}"\n'
        )
        yield tmp_path


@pytest.mark.parametrize(
    "argv",
    [
        ["list", "moco"],
        ["list", "moco", "--json"],
        ["list", "moco", "--csv"],
        ["list", "moco", "--jsonl"],
        ["get", "moco", "933662733", "--json"],
        ["get", "moco", "933662733"],
        ["adapters", "--json"],
        ["migrate", "moco", "team.jsonl", "--apply", "--json", "--report", "report.json", "--journal", "j.db"],
        ["migrate", "moco", "team.csv", "--apply", "--verbose", "--report", "report.csv"],
        ["list", "refusing"],
        ["list", "leaky"],
        ["list", "bad"],
        ["migrate", "moco", "refusing", "--apply"],
    ],
)
def test_the_key_never_shows(setup, capsys, debug_logs, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    assert SECRET not in out and SECRET not in err
    assert SECRET not in debug_logs.text
    for written in setup.iterdir():
        if written.suffix in (".json", ".csv", ".jsonl"):
            assert SECRET not in written.read_text()
    if {"refusing", "leaky", "bad"} & set(argv):
        assert code == 2 and len(err.splitlines()) == 1 and err.startswith("staffbridge: ")
    else:
        assert code == 0 and out
    if "--json" in argv:
        json.loads(out)
