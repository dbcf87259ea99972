"""staffbridge.toml: systems, environment variables, errors that name file, system and setting."""

from pathlib import Path

import pytest

from staffbridge import ConfigError
from staffbridge.adapters.files import CsvAdapter, JsonlAdapter
from staffbridge.sdk.config import Config, find_config, load_config

SECRET = "planted-Secret-4f9c2e"


def config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "staffbridge.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_systems_connect_with_settings_from_the_environment(tmp_path):
    path = config_file(
        tmp_path,
        '[systems.moco]\nadapter = "moco"\ndomain = "acme"\n'
        'api_key = "${MOCO_API_KEY}"\n\n'
        '[systems.staff]\nadapter = "csv"\npath = "exports/staff.csv"\n',
    )
    config = load_config(path)
    system = config.system("moco", environ={"MOCO_API_KEY": SECRET})
    assert system.settings == {"domain": "acme", "api_key": SECRET} and system.secrets == [SECRET]
    assert SECRET not in repr(system)
    moco = system.connect()
    assert moco.transport.base_url.startswith("https://acme.mocoapp.com") and SECRET not in repr(moco)
    staff = config.connect("staff", environ={})
    assert isinstance(staff, CsvAdapter) and staff.path == tmp_path / "exports" / "staff.csv"  # relative to the file


def test_found_in_the_current_directory_or_through_the_environment(tmp_path):
    path = config_file(tmp_path, "[systems]\n")
    assert find_config(cwd=tmp_path, environ={}) == path
    assert find_config(cwd=tmp_path / "nowhere", environ={}) is None
    assert find_config(cwd=tmp_path / "nowhere", environ={"STAFFBRIDGE_CONFIG": str(path)}) == path
    with pytest.raises(ConfigError, match="not found"):
        find_config("missing.toml", environ={})
    assert load_config(cwd=tmp_path / "nowhere", environ={}).systems == {}


def test_file_paths_need_no_config():
    config = Config()
    assert config.system("people.CSV").adapter == "csv"
    assert isinstance(config.connect("out/people.jsonl"), JsonlAdapter)
    with pytest.raises(ConfigError, match=r"no staffbridge\.toml here"):
        config.system("moco")


def test_a_missing_environment_variable_names_file_system_and_setting(tmp_path):
    path = config_file(tmp_path, '[systems.moco]\nadapter = "moco"\ndomain = "acme"\napi_key = "${MOCO_API_KEY}"\n')
    config = load_config(path)
    with pytest.raises(ConfigError) as info:
        config.system("moco", environ={})
    error = info.value
    assert error.setting == "api_key" and error.source == f"{path} [systems.moco]"
    assert str(path) in str(error) and "MOCO_API_KEY" in str(error) and "systems.moco" in str(error)


def test_fallbacks_and_dollar_escapes(tmp_path):
    path = config_file(tmp_path, '[systems.f]\nadapter = "csv"\npath = "${DIR:-people}/$$x.csv"\n')
    assert load_config(path).system("f", environ={}).settings["path"] == str(tmp_path / "people" / "$x.csv")


def test_an_unknown_adapter_is_named_with_the_installed_ones(tmp_path):
    path = config_file(tmp_path, '[systems.hr]\nadapter = "personio"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path).connect("hr", environ={})
    assert info.value.setting == "adapter" and "personio" in str(info.value)
    assert "moco" in str(info.value) and "[systems.hr]" in str(info.value)


def test_a_bad_setting_is_named_and_its_value_is_not_quoted(tmp_path):
    path = config_file(
        tmp_path, f'[systems.moco]\nadapter = "moco"\ndomain = "Not A Domain {SECRET}"\napi_key = "{SECRET}"\n'
    )
    with pytest.raises(ConfigError) as info:
        load_config(path).connect("moco", environ={})
    assert info.value.setting == "domain" and "[systems.moco]" in info.value.source
    assert SECRET not in str(info.value)
    path = config_file(tmp_path, '[systems.moco]\nadapter = "moco"\napi_key = "k"\ncolour = "blue"\n')
    with pytest.raises(ConfigError, match="colour") as info:
        load_config(path).connect("moco", environ={})
    assert info.value.setting == "colour"


@pytest.mark.parametrize(
    "text, setting",
    [
        ("[systems.moco\n", "config"),
        ("[moco]\nadapter = 'moco'\n", "moco"),
        ("systems = 3\n", "systems"),
        ("[systems]\nmoco = 'moco'\n", "moco"),
        ("[systems.moco]\ndomain = 'acme'\n", "adapter"),
    ],
)
def test_malformed_files_are_config_errors(tmp_path, text, setting):
    path = config_file(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path).system("moco", environ={})
    assert info.value.setting == setting and str(path) in str(info.value)


def test_an_unknown_system_lists_the_known_ones(tmp_path):
    path = config_file(tmp_path, '[systems.moco]\nadapter = "moco"\n[systems.hr]\nadapter = "csv"\npath = "x.csv"\n')
    with pytest.raises(ConfigError, match="hr, moco"):
        load_config(path).system("personio")
