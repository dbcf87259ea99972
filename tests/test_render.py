"""One form per value type in JSON and text, and one way to write an output file."""

from __future__ import annotations

import datetime as dt
import io
import json
import os

import pytest

from staffbridge import Address, Person, Ref
from staffbridge.jobs.migration.report import Report, Row
from staffbridge.jobs.migration.translate import Change
from staffbridge.jobs.unification.directory import Conflict
from staffbridge.model.output import write_text
from staffbridge.model.render import json_text, json_value, text_value

ADDRESS = Address(street="Hauptstraße 1", zip="10115", city="Berlin")
WHEN = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "value, as_json, as_text",
    [
        (None, None, ""),
        (Ref("7", "Vertrieb"), {"id": "7", "name": "Vertrieb"}, "Vertrieb"),
        (Ref("7"), {"id": "7", "name": None}, "7"),
        (ADDRESS, {"street": "Hauptstraße 1", "zip": "10115", "city": "Berlin"}, "Hauptstraße 1, 10115 Berlin"),
        (Address(formatted="Ada L\nHauptstraße 1"), {"formatted": "Ada L\nHauptstraße 1"}, "Ada L, Hauptstraße 1"),
        (dt.date(1815, 12, 10), "1815-12-10", "1815-12-10"),
        (WHEN, "2024-01-02T03:04:05+00:00", "2024-01-02T03:04:05+00:00"),
        (True, True, "yes"),
        (["a", "b"], ["a", "b"], "a, b"),
        ([], [], ""),
        (
            {"Kostenstelle": 42, "seit": dt.date(2020, 1, 1)},
            {"Kostenstelle": 42, "seit": "2020-01-01"},
            "Kostenstelle=42, seit=2020-01-01",
        ),
        ("two\nlines", "two\nlines", "two lines"),
        (4.5, 4.5, "4.5"),
    ],
)
def test_one_form_per_type(value, as_json, as_text) -> None:
    assert json_value(value) == as_json
    assert text_value(value) == as_text
    json.dumps(json_value(value))  # really JSON-ready


def test_an_address_looks_the_same_in_plan_directory_and_person_json() -> None:
    in_plan = Change("address", None, ADDRESS).to_dict()["after"]
    in_directory = Conflict("address", {"a": ADDRESS}, "a", "newest").to_dict()["values"]["a"]
    in_person = Person(address=ADDRESS).to_dict()["address"]
    assert in_plan == in_directory == in_person == {"street": "Hauptstraße 1", "zip": "10115", "city": "Berlin"}


def test_json_text_renders_every_value_it_meets() -> None:
    text = json_text({"when": WHEN, "who": [Ref("1", "x")], "where": ADDRESS})
    assert text.endswith("}\n") and json.loads(text)["who"] == [{"id": "1", "name": "x"}]
    assert "Hauptstraße" in text  # UTF-8 as it is, not \u escapes


def test_write_text_to_a_path_replaces_the_file_whole(tmp_path) -> None:
    path = tmp_path / "report.csv"
    write_text("a,b\r\nc,d\n", path)
    assert path.read_bytes() == b"a,b\r\nc,d\n"  # line ends as given
    write_text("new\n", str(path))
    assert path.read_text(encoding="utf-8") == "new\n"
    assert os.listdir(tmp_path) == ["report.csv"]  # no temporary file left behind


def test_a_failed_write_leaves_the_old_file_as_it_was(tmp_path) -> None:
    path = tmp_path / "report.json"
    path.write_text("old\n", encoding="utf-8")
    with pytest.raises(UnicodeEncodeError):
        write_text("half \ud800 broken", path)
    assert path.read_text(encoding="utf-8") == "old\n" and os.listdir(tmp_path) == ["report.json"]


def test_written_files_get_the_mode_the_umask_gives(tmp_path) -> None:
    umask = os.umask(0)
    os.umask(umask)
    write_text("x", tmp_path / "out.json")
    assert os.stat(tmp_path / "out.json").st_mode & 0o777 == 0o666 & ~umask


def test_write_text_to_an_open_file_writes_it_as_it_is() -> None:
    stream = io.StringIO()
    write_text("as it is\n", stream)
    assert stream.getvalue() == "as it is\n"


def test_reports_write_through_the_one_writer(tmp_path) -> None:
    report = Report([Row("1", "a", "update", "ok", fields=["address"])])
    report.to_csv(tmp_path / "report.csv")
    report.to_json(tmp_path / "report.json")
    assert (tmp_path / "report.csv").read_text(encoding="utf-8").splitlines()[1] == "1,a,,,update,ok,,address"
    assert json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["rows"][0]["fields"] == ["address"]
