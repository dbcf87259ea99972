"""Bad input never turns into bad data (issue 11, item 1): a CSV's delimiter is found from its header
(, ; tab |) or given, a header naming no canonical field is refused (exit 2), and a person with none
of the target's identifying fields (name, email, login) is never created."""

from __future__ import annotations

import pytest

import staffbridge
from staffbridge import Person
from staffbridge.faces.cli.main import main
from staffbridge.model.errors import ConfigError
from staffbridge.sandbox.fieldservice import FieldServiceSandbox

SEMI = "first_name;last_name;email\nAda;Lovelace;ada@example.com\n"


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STAFFBRIDGE_CONFIG", raising=False)
    return tmp_path


@pytest.mark.parametrize("delimiter", [";", "\t", "|", ","])
def test_the_delimiter_is_found_from_the_header(tmp_path, delimiter):
    path = tmp_path / "staff.csv"
    path.write_text(SEMI.replace(";", delimiter))
    staff = staffbridge.connect("csv", path=path)
    [ada] = staff.list()
    assert (ada.first_name, ada.last_name, ada.email, ada.custom_fields) == (
        "Ada",
        "Lovelace",
        "ada@example.com",
        {},
    )
    staff.create(Person(first_name="Grace", last_name="Hopper", email="grace@example.com"))
    lines = path.read_text().splitlines()
    assert lines[0] == delimiter.join(["id", "first_name", "last_name", "email"])  # a rewrite keeps it
    assert lines[2] == delimiter.join(["2", "Grace", "Hopper", "grace@example.com"])


def test_a_delimiter_setting_wins(tmp_path):
    path = tmp_path / "staff.csv"
    path.write_text("first_name,last_name;email\nAda,Lovelace;ada@example.com\n")
    [ada] = staffbridge.connect("csv", path=path, delimiter=";").list()
    assert ada.email == "ada@example.com" and ada.custom_fields == {"first_name,last_name": "Ada,Lovelace"}


def test_a_header_naming_no_canonical_field_is_refused(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("Vorname:Nachname:Mail\nAda:Lovelace:ada@example.com\n")
    staff = staffbridge.connect("csv", path=path)
    with pytest.raises(ConfigError) as caught:
        list(staff.list())
    message = str(caught.value)
    assert str(path) in message and "'Vorname:Nachname:Mail'" in message and "delimiter" in message
    with pytest.raises(ConfigError):  # nor is a row added to it
        staff.create(Person(first_name="Grace"))
    assert path.read_text() == "Vorname:Nachname:Mail\nAda:Lovelace:ada@example.com\n"
    with pytest.raises(ConfigError, match=r"columns seen: 'first_name;last_name;email'; read with the delimiter ','"):
        (tmp_path / "semi.csv").write_text(SEMI)
        list(staffbridge.connect("csv", path=tmp_path / "semi.csv", delimiter=",").list())


def test_the_cli_refuses_such_a_file_with_exit_2(here, capsys):
    (here / "export.csv").write_text("Name,Mail\nAda Lovelace,ada@example.com\n")
    assert main(["migrate", "export.csv", "out.jsonl", "--apply"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "export.csv" in err and "'Name', 'Mail'" in err
    assert not (here / "out.jsonl").exists()


def test_migrating_a_semicolon_csv_creates_real_people(here, capsys, monkeypatch):
    (here / "semi.csv").write_text(SEMI)
    with FieldServiceSandbox(seed_people=0, api_key="intake-key") as sandbox:
        (here / "staffbridge.toml").write_text(
            f'[systems.fs]\nadapter = "fieldservice"\nbase_url = "{sandbox.url}"\napi_key = "intake-key"\n'
        )
        assert main(["migrate", "semi.csv", "fs", "--apply"]) == 0
        [created] = staffbridge.connect("fieldservice", base_url=sandbox.url, api_key="intake-key").list()
    assert (created.first_name, created.last_name, created.email) == ("Ada", "Lovelace", "ada@example.com")
    assert created.custom_fields == {}


def test_a_person_without_name_email_or_login_is_cannot_migrate(tmp_path):
    source = tmp_path / "source.jsonl"
    source.write_text(
        '{"first_name": "Ada", "email": "ada@example.com"}\n'
        '{"employee_number": "E7", "custom_fields": {"Vorname;Nachname": "Alan;Turing"}}\n'
    )
    target = staffbridge.connect("csv", path=tmp_path / "target.csv")
    plan = staffbridge.migrate(staffbridge.connect("jsonl", path=source), target, dry_run=False)
    [blank] = plan.cannot_migrate
    assert "none of csv's identifying fields (first_name, last_name, email, username) has a value" in blank.reason
    assert [p.first_name for p in target.list()] == ["Ada"]  # never written
