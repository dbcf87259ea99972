"""Messages that point the right way (issue 11, item 10): MOCO's 404 from a base_url without /api/v1
says so, `unify --authority` names the option, a failing command prints nothing on stdout first, and
unify takes --json."""

from __future__ import annotations

import json

import pytest

import staffbridge
from staffbridge.faces.cli.main import main
from staffbridge.model.errors import NotFound
from staffbridge.sandbox.moco import MocoSandbox

STAFF = "first_name,last_name,email\nAda,Lovelace,ada@example.com\n"


@pytest.fixture(scope="module")
def sandbox():
    with MocoSandbox(seed_people=3, api_key="msg-key") as started:
        yield started


@pytest.fixture
def here(tmp_path, monkeypatch, sandbox):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STAFFBRIDGE_CONFIG", raising=False)
    (tmp_path / "staff.csv").write_text(STAFF)
    (tmp_path / "staffbridge.toml").write_text(
        f'[systems.moco]\nadapter = "moco"\nbase_url = "{sandbox.url}"\napi_key = "msg-key"\n'
        f'[systems.bare]\nadapter = "moco"\nbase_url = "{sandbox.root}"\napi_key = "msg-key"\n'
        f'[systems.locked]\nadapter = "moco"\nbase_url = "{sandbox.url}"\napi_key = "wrong-key"\n'
    )
    return tmp_path


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_moco_404_from_a_base_url_without_api_v1_says_so(sandbox):
    bare = staffbridge.connect("moco", base_url=sandbox.root, api_key="msg-key")
    for attempt in (lambda: list(bare.list()), lambda: bare.get("933662733")):
        with pytest.raises(NotFound) as caught:
            attempt()
        assert f"check base_url: {sandbox.root} does not end in /api/v1" in str(caught.value)
        assert caught.value.status == 404
    right = staffbridge.connect("moco", base_url=sandbox.url, api_key="msg-key")
    with pytest.raises(NotFound) as caught:  # a person who is not there is only that
        right.get("1")
    assert "base_url" not in str(caught.value)


def test_the_cli_says_it_too(here, capsys):
    code, out, err = run(capsys, "list", "bare")
    assert code == 2 and out == "" and "does not end in /api/v1" in err


def test_unify_authority_names_the_option(here, capsys):
    code, out, err = run(capsys, "unify", "moco", "staff.csv", "--authority", "mocoo")
    assert code == 2 and out == ""
    assert "--authority mocoo: authority for default is 'mocoo', which is not one of the systems" in err
    assert "unify.toml" not in err
    code, _, err = run(capsys, "unify", "moco", "staff.csv", "--authority", "email=mocoo")
    assert code == 2 and "--authority email=mocoo" in err


def test_the_library_names_the_authority_argument(here):
    systems = [staffbridge.connect("csv", path=here / "staff.csv")]
    with pytest.raises(staffbridge.ConfigError) as caught:
        staffbridge.unify(systems, authority="mocoo")
    assert str(caught.value).startswith("the authority argument: authority for default is 'mocoo'")


@pytest.mark.parametrize("output", [[], ["--json"], ["--jsonl"], ["--csv"]])
def test_a_failing_list_prints_nothing_on_stdout(here, capsys, output):
    code, out, err = run(capsys, "list", "locked", *output)
    assert code == 2 and out == "" and err.startswith("staffbridge: ")


def test_unify_takes_json(here, capsys):
    code, out, _ = run(capsys, "unify", "moco", "staff.csv", "--json")
    assert code == 0
    document = json.loads(out)
    assert document["systems"] == ["moco", "staff.csv"] and document["summary"]["people"] >= 3
