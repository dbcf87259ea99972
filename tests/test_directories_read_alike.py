"""Directories read the same way everywhere (issue 11, item 5): JSONL values are trimmed as CSV cells
are, a missing source file is an error in the library too (a migration's target file may still be
made), and a SCIM export holds no ambiguous record and no repeated id or userName (RFC 7643)."""

from __future__ import annotations

import json

import pytest

import staffbridge
from staffbridge.jobs.unification.run import unify
from staffbridge.mapping.scim import to_scim
from staffbridge.model.errors import ConfigError
from staffbridge.model.person import Person

from .test_unify_fakes import MemoryAdapter, staff


def test_a_jsonl_value_is_trimmed_as_the_same_csv_cell_is(tmp_path):
    (tmp_path / "staff.csv").write_text("first_name,email,department\n Ada , ada@example.org , Mathematik \n")
    (tmp_path / "staff.jsonl").write_text(
        json.dumps({"first_name": " Ada ", "email": " ada@example.org ", "department": {"name": " Mathematik "}}) + "\n"
    )
    [from_csv] = staffbridge.connect("csv", path=tmp_path / "staff.csv").list()
    [from_jsonl] = staffbridge.connect("jsonl", path=tmp_path / "staff.jsonl").list()
    assert from_jsonl.problems == [] and from_jsonl.email == "ada@example.org"
    assert from_jsonl.replace(id=None, system=None, raw={}) == from_csv.replace(id=None, system=None, raw={})
    directory = unify([staffbridge.connect("csv", path=tmp_path / "staff.csv"), from_jsonl_adapter(tmp_path)])
    assert len(directory.matched) == 1  # the same person: matched by email


def from_jsonl_adapter(tmp_path):
    return staffbridge.connect("jsonl", path=tmp_path / "staff.jsonl")


def test_a_missing_file_is_an_error_for_unify_not_an_empty_directory(tmp_path):
    path = tmp_path / "staff.jsonl"
    path.write_text(
        "".join(json.dumps({"first_name": f"P{n}", "email": f"p{n}@example.org"}) + "\n" for n in range(33))
    )
    state = tmp_path / "state.db"
    assert len(unify([staffbridge.connect("jsonl", path=path)], state=state)) == 33
    path.unlink()
    with pytest.raises(ConfigError, match=r"staff.jsonl: no such file"):
        unify([staffbridge.connect("jsonl", path=path)], state=state)
    path.write_text(json.dumps({"first_name": "P0", "email": "p0@example.org"}) + "\n")
    directory = unify([staffbridge.connect("jsonl", path=path)], state=state)
    assert len(directory.removed) == 32  # the state was left as it was: the refused run removed nobody


def test_a_missing_source_file_is_an_error_for_migrate_but_a_target_file_is_made(tmp_path):
    target = staffbridge.connect("csv", path=tmp_path / "new" / "target.csv")
    with pytest.raises(ConfigError, match=r"missing.jsonl: no such file"):
        staffbridge.migrate(staffbridge.connect("jsonl", path=tmp_path / "missing.jsonl"), target, dry_run=False)
    source = tmp_path / "source.jsonl"
    source.write_text(json.dumps({"first_name": "Ada", "email": "ada@example.org"}) + "\n")
    staffbridge.migrate(staffbridge.connect("jsonl", path=source), target, dry_run=False)
    assert [p.email for p in target.list()] == ["ada@example.org"]


def test_an_ambiguous_record_never_becomes_a_scim_user():
    a = MemoryAdapter("a", [staff(1, "a1"), staff(2, "a2")])
    b = MemoryAdapter("b", [staff(1, "b1"), staff(1, "b2")])  # two b records claim person 1
    directory = unify([a, b])
    assert len(directory.ambiguous) == 2
    listing = directory.to_scim()
    users = listing["Resources"]
    assert listing["totalResults"] == len(users) == 2  # a1 and a2; neither b record
    assert all(
        "b" not in u.get("urn:staffbridge:params:scim:schemas:extension:person:1.0:User", {})["sources"] for u in users
    )
    assert_unique(users)


def test_ids_and_user_names_are_unique_in_every_export():
    people = [
        Person(id="1", email="ada@example.org"),
        Person(id="2", email="ADA@example.org"),  # the same userName to SCIM (not case-exact)
        Person(id="1", email="other@example.org"),  # the same id
        Person(id="3", username="grace"),
        Person(email="no-id@example.org"),
        Person(email="no-id-either@example.org"),
    ]
    users = to_scim(people)["Resources"]
    assert [u.get("id") for u in users] == ["1", "3", None, None]
    assert_unique(users)


def assert_unique(users):
    ids = [u["id"] for u in users if u.get("id")]
    names = [u["userName"].casefold() for u in users]
    assert len(ids) == len(set(ids)) and len(names) == len(set(names))
