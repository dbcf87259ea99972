"""The csv and jsonl adapters: plain files in tmp_path, no HTTP."""

import datetime as dt
import io
import json
import os
import threading

import pytest

import staffbridge
from staffbridge import Address, NotFound, Person, PersonValidationError, Ref, StaffbridgeError
from staffbridge.adapters.files import CsvAdapter, JsonlAdapter, write_csv, write_jsonl
from staffbridge.jobs.migration.run import migrate


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def staff_csv(tmp_path):
    return write(
        tmp_path / "staff.csv",
        "first_name,last_name,email,birthday,department,tags,Kostenstelle,active\n"
        "Ada,Lovelace,ada@example.com,1815-12-10,Mathematik,a;b,42,yes\n"
        "Bob,Bad,bob@example.com,31.02.1990,Dev,,,no\n"
        "Cy,Extra,cy@example.com,,Dev,,,true,surplus\n",
    )


def ada() -> Person:
    return Person(
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        work_phone="+44 1",
        active=True,
        external=False,
        birthday=dt.date(1815, 12, 10),
        language="en",
        address=Address(street="St James's Square 12", zip="SW1", city="London", country="GB"),
        department=Ref("7", "Mathematik"),
        role=Ref(name="Analyst"),
        employee_number="E1",
        employment_start=dt.date(1833, 6, 5),
        tags=["poet", "math"],
        custom_fields={"Kostenstelle": "42", "Lieblingszahl": 7},
        notes="line one\nline two",
    )


def test_registered_through_entry_points(tmp_path):
    assert {"csv", "jsonl"} <= set(staffbridge.available())
    assert isinstance(staffbridge.connect("csv", path=str(tmp_path / "x.csv")), CsvAdapter)
    assert isinstance(staffbridge.connect("jsonl", path=str(tmp_path / "x.jsonl")), JsonlAdapter)
    caps = staffbridge.connect("csv", path=str(tmp_path / "x.csv")).capabilities
    assert set(caps.operations) == {"list", "get", "create", "update", "delete"}
    assert "email" in caps.write_fields and "custom_fields" in caps.write_fields


def test_reads_canonical_columns_and_keeps_unknown_ones_as_custom_fields(staff_csv):
    people = list(staffbridge.connect("csv", path=str(staff_csv)).list())
    assert [p.id for p in people] == ["1", "2", "3"]  # no id column: the row numbers
    first = people[0]
    assert (first.first_name, first.email, first.active) == ("Ada", "ada@example.com", True)
    assert first.birthday == dt.date(1815, 12, 10)
    assert first.department == Ref(name="Mathematik") and first.tags == ["a", "b"]
    assert first.custom_fields == {"Kostenstelle": "42"}
    assert first.system == "csv" and first.problems == []
    assert first.raw["Kostenstelle"] == "42"


def test_an_unreadable_row_is_a_person_with_problems_not_a_crash(staff_csv):
    bob, cy = list(staffbridge.connect("csv", path=str(staff_csv)).list())[1:]
    assert bob.email == "bob@example.com" and bob.active is False and bob.birthday is None
    assert len(bob.problems) == 1 and bob.problems[0].startswith("birthday:") and "31.02.1990" in bob.problems[0]
    assert cy.email == "cy@example.com" and "extra cells" in cy.problems[0]


def test_bad_values_of_every_kind_are_reported_per_field(tmp_path):
    path = write(
        tmp_path / "bad.csv",
        "email,active,language,employment_start,updated_at\nnot-an-email,perhaps,english please,2020-13-01,yesterday\n",
    )
    person = staffbridge.connect("csv", path=str(path)).get("1")
    assert sorted(p.split(":")[0] for p in person.problems) == [
        "active",
        "email",
        "employment_start",
        "language",
        "updated_at",
    ]


def test_undecodable_bytes_and_csv_errors_are_problems(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("first_name,email\nJürgen,j@example.com\nAda,ada@example.com\n".encode("latin-1"))
    people = list(staffbridge.connect("csv", path=str(path)).list())
    assert "replaced" in people[0].problems[0] and people[1].problems == []
    huge = write(tmp_path / "huge.csv", "first_name,email\n" + "x" * 200_000 + ",a@example.com\nAda,ada@example.com\n")
    broken, fine = list(staffbridge.connect("csv", path=str(huge)).list())
    assert "field larger" in broken.problems[0] and fine.first_name == "Ada"
    with pytest.raises(StaffbridgeError, match="fix the file first"):  # writing would lose that row
        staffbridge.connect("csv", path=str(huge)).create(Person(first_name="New"))


def test_round_trip_through_csv_keeps_every_field(tmp_path):
    staff = staffbridge.connect("csv", path=str(tmp_path / "new" / "staff.csv"))
    assert list(staff.list()) == []  # a missing file is an empty directory
    created = staff.create(ada().replace(id="moco-99", system="moco"))
    assert created.id == "1"  # a new id, not the source's
    again = staff.get("1")
    assert again == ada().replace(id="1", system="csv", custom_fields={"Kostenstelle": "42", "Lieblingszahl": "7"})
    header = (tmp_path / "new" / "staff.csv").read_text().splitlines()[0].split(",")
    assert header[:4] == ["id", "first_name", "last_name", "email"]
    assert {"department.id", "department.name", "role", "address.street", "Kostenstelle"} <= set(header)


def test_round_trip_through_jsonl_keeps_every_field_and_types(tmp_path):
    staff = staffbridge.connect("jsonl", path=str(tmp_path / "staff.jsonl"))
    staff.create(ada())
    assert staff.get("1") == ada().replace(id="1", system="jsonl")
    line = json.loads((tmp_path / "staff.jsonl").read_text().splitlines()[0])
    assert line["id"] == "1" and line["department"] == {"id": "7", "name": "Mathematik"}
    assert line["custom_fields"]["Lieblingszahl"] == 7


def test_update_rewrites_only_the_cells_that_change(staff_csv):
    staff = staffbridge.connect("csv", path=str(staff_csv))
    updated = staff.update("2", {"email": "bob@new.example", "custom_fields": {"Kostenstelle": "9"}})
    assert updated.email == "bob@new.example" and updated.custom_fields == {"Kostenstelle": "9"}
    lines = staff_csv.read_text().splitlines()
    assert lines[0] == "id,first_name,last_name,email,birthday,department,tags,Kostenstelle,active"
    assert lines[2] == "2,Bob,Bad,bob@new.example,31.02.1990,Dev,,9,no"  # the bad date survives as it was
    assert lines[3] == "3,Cy,Extra,cy@example.com,,Dev,,,true,surplus"  # and so do the extra cells
    assert staff.update("2", {"email": "bob@new.example"}).email == "bob@new.example"  # no change, no write
    staff.update("1", {"department": None, "tags": []})
    assert staff.get("1").department is None and staff.get("1").tags == []


def test_update_with_a_person_sends_only_the_differences(staff_csv):
    staff = staffbridge.connect("csv", path=str(staff_csv))
    wanted = staff.get("1").replace(work_phone="+49 1", birthday=None)  # None means "not known", kept
    assert staff.update("1", wanted).work_phone == "+49 1"
    assert staff.get("1").birthday == dt.date(1815, 12, 10)


def test_created_people_get_new_ids_and_ids_stay_stable_after_deletes(staff_csv):
    staff = staffbridge.connect("csv", path=str(staff_csv))
    staff.delete("1")
    assert [p.id for p in staff.list()] == ["2", "3"]  # the first write wrote the row numbers down
    assert staff.create(Person(first_name="Dora", email="dora@example.com")).id == "4"
    with pytest.raises(NotFound):
        staff.get("1")
    with pytest.raises(NotFound):
        staff.delete("1")
    with pytest.raises(LookupError):
        staff.update("77", {"email": "x@example.com"})


def test_ids_from_an_id_column_duplicates_and_blanks(tmp_path):
    path = write(tmp_path / "ids.csv", "id,email\nE7,a@example.com\nE7,b@example.com\n,c@example.com\n")
    people = list(staffbridge.connect("csv", path=str(path)).list())
    assert [p.id for p in people] == ["E7", "2", "3"]
    assert "earlier row" in people[1].problems[0]


def test_invalid_people_and_changes_are_refused_before_writing(staff_csv):
    staff = staffbridge.connect("csv", path=str(staff_csv))
    before = staff_csv.read_bytes()
    with pytest.raises(PersonValidationError):
        staff.create(Person(email="not an email"))
    with pytest.raises(PersonValidationError):
        staff.update("1", {"nickname": "x"})
    assert staff_csv.read_bytes() == before


def test_writes_are_atomic_and_keep_bom_and_mode(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufefffirst_name,email\nJürgen,j@example.com\n".encode("utf-8"))
    os.chmod(path, 0o640)
    staff = staffbridge.connect("csv", path=str(path))
    assert staff.get("1").first_name == "Jürgen"
    staff.create(Person(first_name="Åsa"))
    assert path.read_bytes().startswith("\ufeffid,".encode("utf-8"))
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["excel.csv"]  # no temporary file left behind


def test_filters(staff_csv):
    staff = staffbridge.connect("csv", path=str(staff_csv))
    assert [p.id for p in staff.list(active=True)] == ["1", "3"]
    assert [p.id for p in staff.list(active="false")] == ["2"]
    assert [p.id for p in staff.list(email="ADA@example.com")] == ["1"]
    assert [p.id for p in staff.list(department="dev")] == ["2", "3"]
    with pytest.raises(staffbridge.ConfigError, match="unknown filter"):
        list(staff.list(colour="blue"))


def test_jsonl_bad_lines_are_kept_and_reported(tmp_path):
    path = write(
        tmp_path / "staff.jsonl",
        '{"id": "a1", "first_name": "Ada", "Raum": "3.14", "department": "Mathe"}\n'
        "{not json\n\n[1, 2]\n"
        '{"first_name": "Line\u2028Sep", "birthday": "soon"}\n',
    )
    staff = staffbridge.connect("jsonl", path=str(path))
    people = list(staff.list())
    assert [p.id for p in people] == ["a1", "2", "3", "4"]
    assert people[0].custom_fields == {"Raum": "3.14"} and people[0].department == Ref(name="Mathe")
    assert "not JSON" in people[1].problems[0] and "JSON object" in people[2].problems[0]
    assert people[3].first_name == "Line\u2028Sep" and people[3].problems[0].startswith("birthday:")
    staff.update("a1", {"first_name": "Ada K."})
    text = path.read_text()
    assert "{not json\n" in text and "[1, 2]\n" in text  # unreadable lines are written back as they were
    with pytest.raises(PersonValidationError, match="cannot be read"):
        staff.update("2", {"first_name": "x"})


def test_concurrent_writes_lose_nothing(tmp_path):
    staff = staffbridge.connect("csv", path=str(tmp_path / "staff.csv"))
    threads = [
        threading.Thread(target=lambda n=n: staff.create(Person(first_name=f"P{n}", email=f"p{n}@example.com")))
        for n in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(int(p.id) for p in staff.list()) == list(range(1, 21))


def test_a_file_changed_by_someone_else_is_read_again(staff_csv):
    staff = staffbridge.connect("csv", path=str(staff_csv))
    assert len(list(staff.list())) == 3
    with staff_csv.open("a") as out:
        out.write("Dora,New,dora@example.com,,,,,\n")
    assert [p.first_name for p in staff.list()][-1] == "Dora"


def test_export_writers_read_back(tmp_path):
    people = [ada().replace(id="10", system="moco"), Person(id="11", first_name="Bo", custom_fields={"x": "1"})]
    buffer = io.StringIO()
    assert write_csv(people, buffer) == 2
    (tmp_path / "out.csv").write_text(buffer.getvalue(), newline="")
    back = list(staffbridge.connect("csv", path=str(tmp_path / "out.csv")).list())
    assert [p.id for p in back] == ["10", "11"] and back[1].custom_fields == {"x": "1"}
    assert back[0].address == ada().address and back[0].notes == "line one\nline two"
    buffer = io.StringIO()
    write_jsonl(people, buffer)
    (tmp_path / "out.jsonl").write_text(buffer.getvalue())
    assert [p.id for p in staffbridge.connect("jsonl", path=str(tmp_path / "out.jsonl")).list()] == ["10", "11"]


def test_settings_errors_name_the_setting(tmp_path):
    with pytest.raises(staffbridge.ConfigError) as info:
        staffbridge.connect("csv")
    assert info.value.setting == "path"
    with pytest.raises(staffbridge.ConfigError) as info:
        staffbridge.connect("csv", path="x.csv", delimiter=";;")
    assert info.value.setting == "delimiter"
    with pytest.raises(staffbridge.ConfigError) as info:
        staffbridge.connect("csv", path="x.csv", encoding="klingon")
    assert info.value.setting == "encoding"
    with pytest.raises(staffbridge.ConfigError, match="not a file"):
        list(staffbridge.connect("csv", path=str(tmp_path)).list())


def test_a_pathlib_path_is_a_path(staff_csv):
    assert staffbridge.connect("csv", path=staff_csv).get("1").first_name == "Ada"


def test_semicolon_files(tmp_path):
    path = write(tmp_path / "de.csv", "first_name;tags\nAda;a|b\n")
    staff = staffbridge.connect("csv", path=str(path), delimiter=";", tag_separator="|")
    assert staff.get("1").tags == ["a", "b"]


def test_migration_from_csv_reports_an_unreadable_row_as_one_failure_and_goes_on(staff_csv, tmp_path):
    source = staffbridge.connect("csv", path=str(staff_csv))
    target = staffbridge.connect("jsonl", path=str(tmp_path / "target.jsonl"))
    report = migrate(source, target, dry_run=False).report
    failed = [row for row in report.rows if not row.ok]
    assert not report.ok and {row.email for row in failed} == {"bob@example.com", "cy@example.com"}
    emails = {p.email for p in target.list()}
    assert "ada@example.com" in emails
    again = migrate(source, target)
    assert again.summary()["create"] == 0 and again.summary()["update"] == 0
