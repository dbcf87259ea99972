"""A Person read from each system goes into each other system, by create and by update; departments and
roles travel by name: the target resolves its own ids, the source's ids never reach it.

Every ordered pair of moco, whosoff, fieldservice, csv and jsonl, against the bundled sandboxes and
temporary files. What a target cannot store:
- Roles: WhosOff's only roles are its user types and the field-service API's are slugs, so both are
  named with a value map laid over the shipped mapping (the documented way); WhosOff has no user
  type for every MOCO role, so the people who travel hold a role every system can store.
- The field-service API keeps a department by name only: it has no department ids to resolve.
- A file (csv, jsonl) has no ids of its own: it keeps a reference as given (test_files' round trip
  keeps a department.id), or only its name where the file's columns hold names (this csv).
"""

from __future__ import annotations

import itertools

import pytest

import staffbridge
from staffbridge import Person, Ref
from staffbridge.adapters.files import CsvAdapter, JsonlAdapter
from staffbridge.sandbox.fieldservice import FieldServiceSandbox
from staffbridge.sandbox.moco import MocoSandbox
from staffbridge.sandbox.people import DEPARTMENTS
from staffbridge.sandbox.whosoff import WhosOffSandbox

SYSTEMS = ("moco", "whosoff", "fieldservice", "csv", "jsonl")
FILES = ("csv", "jsonl")
SHARED_ROLES = ("Mitarbeiter", "Teamleitung")  # a role every system here can store
WHOSOFF_ROLES = {"fields": {"role": {"values": {"100": "Mitarbeiter", "200": "Teamleitung"}}}}
FIELDSERVICE_ROLES = {
    "fields": {
        "role": {
            "values": {
                "worker": "Mitarbeiter",
                "service": "Entwickler",
                "teamlead": "Teamleitung",
                "admin": "Administrator",
            }
        }
    }
}
WHOSOFF = dict(
    app_id="cross-app", client_secret="cross-secret", username="admin@example.com", password="cross-password"
)


@pytest.fixture(scope="module")
def sandboxes():
    started = {
        "moco": MocoSandbox(seed_people=12, api_key="cross-key"),
        "whosoff": WhosOffSandbox(seed_people=12, **WHOSOFF),
        "fieldservice": FieldServiceSandbox(seed_people=12, api_key="cross-key"),
    }
    for sandbox in started.values():
        sandbox.start()
    yield started
    for sandbox in started.values():
        sandbox.stop()


@pytest.fixture(scope="module")
def systems(sandboxes, tmp_path_factory):
    folder = tmp_path_factory.mktemp("files")
    adapters = {
        "moco": staffbridge.connect("moco", base_url=sandboxes["moco"].url, api_key="cross-key"),
        "whosoff": staffbridge.connect("whosoff", base_url=sandboxes["whosoff"].url, mapping=WHOSOFF_ROLES, **WHOSOFF),
        "fieldservice": staffbridge.connect(
            "fieldservice", base_url=sandboxes["fieldservice"].url, api_key="cross-key", mapping=FIELDSERVICE_ROLES
        ),
        "csv": CsvAdapter(path=folder / "staff.csv"),
        "jsonl": JsonlAdapter(path=folder / "staff.jsonl"),
    }
    for name in FILES:  # files hold departments and roles by name, as a person would type them
        for n, (department, role) in enumerate(itertools.product(DEPARTMENTS[:3], SHARED_ROLES)):
            adapters[name].create(
                Person(
                    first_name=f"File{n}",
                    last_name="Person",
                    email=f"file{n}@example.com",
                    department=Ref(name=department),
                    role=Ref(name=role),
                )
            )
    yield adapters
    for adapter in adapters.values():
        adapter.close()


def own_ids(systems, name):
    """{department name: id}, {role name: id} as the target itself knows them (None: it keeps no ids)."""
    target = systems[name]
    if name == "moco":
        return {u.name: u.id for u in target.units()}, {r.name: r.id for r in target.roles()}
    if name == "whosoff":
        return {d.name: d.id for d in target.departments()}, {"Mitarbeiter": "100", "Teamleitung": "200"}
    if name == "fieldservice":
        return {}, {"Mitarbeiter": "worker", "Teamleitung": "teamlead"}
    return None, None


def travellers(source):
    """Two people of `source` in different departments, each holding a role every system can store."""
    everyone = source.list(**({"include_archived": True} if "include_archived" in source.filters else {}))
    chosen: list[Person] = []
    for person in everyone:
        if (
            person.department
            and person.department.name in DEPARTMENTS
            and person.role
            and person.role.name in SHARED_ROLES
            and all(person.department.name != other.department.name for other in chosen)
        ):
            chosen.append(person)
        if len(chosen) == 2:
            return chosen
    raise AssertionError(f"{source.name}: no two people in different departments with a shared role")


def check_refs(got: Person, sent: Person, target: str, departments, roles) -> None:
    for field, ids in (("department", departments), ("role", roles)):
        ref, given = getattr(got, field), getattr(sent, field)
        assert ref is not None and ref.name == given.name, f"{field} did not travel by name"
        if target in FILES:
            assert ref.id in (given.id, None)  # as given, or by name only where its columns hold names
        else:
            assert ref.id == ids.get(given.name), f"{field}: not {target}'s own id"
            assert given.id is None or ref.id != given.id, f"{field}: the source's id leaked"


@pytest.mark.parametrize("source_name, target_name", [(s, t) for s in SYSTEMS for t in SYSTEMS if s != t])
def test_departments_and_roles_travel_by_name(systems, source_name, target_name):
    source, target = systems[source_name], systems[target_name]
    departments, roles = own_ids(systems, target_name)
    first, second = travellers(source)
    tag = f"{source_name}.{target_name}"

    # usernames are login ids in some systems (digits only in the field-service API): not what travels here
    wanted = first.replace(email=f"created.{tag}@example.com", username=None)
    created = target.create(wanted)
    check_refs(created, wanted, target_name, departments, roles)
    check_refs(target.get(created.id), wanted, target_name, departments, roles)

    changed = second.replace(email=f"updated.{tag}@example.com", username=None)
    updated = target.update(created.id, changed)
    check_refs(updated, changed, target_name, departments, roles)
    check_refs(target.get(created.id), changed, target_name, departments, roles)
