"""unify end to end against the bundled sandboxes (real loopback servers) seeded with overlapping staff:
MOCO people 0-39, WhosOff 20-59 (plus its API admin), field-service 30-49."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

import staffbridge
from staffbridge import Person, Ref
from staffbridge.mapping.scim import from_scim
from staffbridge.sandbox.fieldservice import FieldServiceSandbox
from staffbridge.sandbox.moco import USER_ID_BASE, MocoSandbox
from staffbridge.sandbox.whosoff import ADMIN_USER_ID, WhosOffSandbox
from staffbridge.store.cursors import SyncState

UTC = dt.UTC
T0 = dt.datetime(2024, 3, 1, 9, 0, tzinfo=UTC)  # MOCO's clock when the phone numbers change
IGNORE_VENDOR_MEANINGS = {"conflicts": {"ignore": ["role", "employee_number"]}}


@pytest.fixture
def sandboxes():
    with (
        MocoSandbox(seed_people=40, per_page=25) as moco,
        WhosOffSandbox(seed_people=0) as whosoff,
        FieldServiceSandbox(seed_people=0) as fieldservice,
    ):
        whosoff.backend.seed(40, start=20)
        fieldservice.backend.seed(20, start=30)
        moco.backend.clock = lambda: T0
        yield moco, whosoff, fieldservice


def adapters(sandboxes, **moco_settings):
    moco_sb, whosoff_sb, fs_sb = sandboxes
    return (
        staffbridge.connect(
            "moco", base_url=moco_sb.url, api_key="sandbox-key", rate_limit=100000, rate_period=1.0, **moco_settings
        ),
        staffbridge.connect(
            "whosoff",
            base_url=whosoff_sb.url,
            app_id="sandbox-app",
            username="admin@example.com",
            password="sandbox-password",
            client_secret="sandbox-client-secret",
        ),
        staffbridge.connect("fieldservice", base_url=fs_sb.url, api_key="sandbox-key"),
    )


def moco_id(n: int) -> str:
    return str(USER_ID_BASE + n)


def whosoff_id(n: int) -> str:
    return str(ADMIN_USER_ID + 1 + n)


def fieldservice_id(n: int) -> str:
    return f"65000000{n:016x}"


def change_phones(moco, fieldservice) -> None:
    """Person 32: MOCO gets a new work phone; person 35: the field-service app a new mobile."""
    moco.update(moco_id(32), {"work_phone": "+49 40 5550032"})
    fieldservice.update(fieldservice_id(35), {"mobile_phone": "+49 170 5550035"})


def test_the_crosswalk_holds_each_person_once_with_their_id_in_every_system(sandboxes) -> None:
    moco, whosoff, fieldservice = adapters(sandboxes)
    directory = staffbridge.unify([moco, whosoff, fieldservice])

    for n in range(60):
        expected = {
            name: make(n)
            for name, make, held in (
                ("moco", moco_id, n < 40),
                ("whosoff", whosoff_id, n >= 20),
                ("fieldservice", fieldservice_id, 30 <= n < 50),
            )
            if held
        }
        unified = directory.find(next(iter(expected)), next(iter(expected.values())))
        assert unified.crosswalk == expected, n
    summary = directory.summary()
    assert len(directory) == 61 and summary["in_all"] == 10 and summary["matched"] == 30
    assert summary["single_system"] == {"moco": 20, "whosoff": 11, "fieldservice": 0}
    assert next(p.person.email for p in directory.only_in("whosoff")) == "admin@example.com"
    assert summary["ambiguous"] == 0 and summary["complete"] and directory.failed == {}


def test_conflicts_show_the_changed_phones_and_the_vendors_differing_meanings(sandboxes) -> None:
    moco, whosoff, fieldservice = adapters(sandboxes)
    change_phones(moco, fieldservice)
    directory = staffbridge.unify([moco, whosoff, fieldservice])

    work = directory.find("moco", moco_id(32)).conflict("work_phone")
    assert work.values == {"moco": "+49 40 5550032", "fieldservice": "+49 40 1000032"}
    assert work.chosen == "moco"  # changed last, so the newest
    mobile = directory.find("moco", moco_id(35)).conflict("mobile_phone")
    assert mobile.values == {"moco": "+49 170 2000105", "fieldservice": "+49 170 5550035"}
    assert mobile.chosen == "fieldservice"
    phones = sorted((p.crosswalk["moco"], c.field) for p, c in directory.conflicts if c.field.endswith("_phone"))
    assert phones == [(moco_id(32), "work_phone"), (moco_id(35), "mobile_phone")]
    # the rest are real differences in what the vendors call a role and an employee number:
    # MOCO's permission role vs WhosOff's user type, field-service's `number` vs WhosOff's staff code
    assert set(directory.summary()["conflicts"]) == {"work_phone", "mobile_phone", "role", "employee_number"}
    role = directory.find("moco", moco_id(20)).conflict("role").values
    assert role["moco"].name in ("Mitarbeiter", "Entwickler", "Teamleitung", "Administrator")
    assert role["whosoff"].name in ("staff", "approver", "super user")
    quiet = staffbridge.unify([moco, whosoff, fieldservice], rules=IGNORE_VENDOR_MEANINGS)
    assert sorted(p.crosswalk["moco"] for p in quiet.people if p.conflicts) == [moco_id(32), moco_id(35)]


def test_authority_decides_whose_phone_survives(sandboxes) -> None:
    moco, whosoff, fieldservice = adapters(sandboxes)
    change_phones(moco, fieldservice)
    directory = staffbridge.unify([moco, whosoff, fieldservice], authority="fieldservice")
    assert directory.find("moco", moco_id(32)).person.work_phone == "+49 40 1000032"
    assert directory.find("moco", moco_id(35)).person.mobile_phone == "+49 170 5550035"
    assert directory.find("moco", moco_id(2)).person.work_phone == "+49 40 1000002"  # MOCO only: its value


def test_the_scim_output_round_trips(sandboxes) -> None:
    moco, whosoff, fieldservice = adapters(sandboxes)
    change_phones(moco, fieldservice)
    directory = staffbridge.unify([moco, whosoff, fieldservice])
    listing = json.loads(json.dumps(directory.to_scim()))
    assert listing["totalResults"] == 61 and len(listing["Resources"]) == 61
    back = {person.id: person for person in from_scim(listing)}
    for unified in directory:
        expected = unified.person
        # SCIM's enterprise department is a name; everything else SCIM holds comes back as it was
        expected = expected.replace(department=Ref(name=expected.department.name) if expected.department else None)
        assert _comparable(back[unified.id]) == _comparable(expected), unified.label
    by_id = {user["id"]: user for user in listing["Resources"]}
    person_32 = directory.find("moco", moco_id(32))
    assert (
        by_id[person_32.id]["urn:staffbridge:params:scim:schemas:extension:person:1.0:User"]["sources"]
        == person_32.crosswalk
    )


def test_a_second_run_after_one_change_fetches_only_that_change_from_moco(sandboxes, tmp_path) -> None:
    moco_sb = sandboxes[0]
    moco, whosoff, fieldservice = adapters(sandboxes)
    change_phones(moco, fieldservice)
    state = tmp_path / "unify-state.json"
    first = staffbridge.unify([moco, whosoff, fieldservice], state=state)
    assert first.reads["moco"].mode == "full" and first.reads["moco"].fetched == 40
    moco_sb.backend.clock = lambda: T0 + dt.timedelta(hours=2)
    moco.update(moco_id(7), {"mobile_phone": "+49 170 5550007"})
    moco_sb.requests.clear()

    second = staffbridge.unify([moco, whosoff, fieldservice], state=state)

    read = second.reads["moco"]
    assert (read.mode, read.fetched, read.changed) == ("incremental", 1, [moco_id(7)])
    assert moco_sb.requests == [("GET", "/api/v1/users?include_archived=true&updated_after=2024-03-01T09%3A00%3A00Z")]
    assert second.reads["whosoff"].mode == "full" and second.reads["fieldservice"].mode == "full"  # no updated_after
    assert len(second) == 61  # the 39 MOCO people who did not change are still there
    assert second.find("moco", moco_id(7)).person.mobile_phone == "+49 170 5550007"
    assert second.find("moco", moco_id(32)).conflict("work_phone") is not None
    assert SyncState.load(state).system("moco").cursor == T0 + dt.timedelta(hours=2)


def test_deletes_are_found_by_a_whole_read_never_by_an_incremental_one(sandboxes, tmp_path) -> None:
    moco_sb = sandboxes[0]
    moco, whosoff, fieldservice = adapters(sandboxes)
    state = tmp_path / "unify-state.json"
    staffbridge.unify([moco, whosoff, fieldservice], state=state)
    moco.delete(moco_id(25))
    quiet = staffbridge.unify([moco, whosoff, fieldservice], state=state)
    assert quiet.reads["moco"].mode == "incremental" and quiet.removed == []
    whole = staffbridge.unify([moco, whosoff, fieldservice], state=state, full=True)
    person = whole.find("moco", moco_id(25))
    assert person.status == {"moco": "removed", "whosoff": "present"} and person.systems == ["whosoff"]
    assert [p.id for p in whole.removed] == [person.id]
    assert any("include_archived=true" in path and "updated_after" not in path for _, path in moco_sb.requests[-2:])


def test_a_system_failing_mid_read_is_unknown_and_the_others_still_unify(sandboxes, tmp_path) -> None:
    moco_sb = sandboxes[0]
    moco, whosoff, fieldservice = adapters(sandboxes, max_retries=0)
    state = tmp_path / "unify-state.json"
    staffbridge.unify([moco, whosoff, fieldservice], state=state)
    before = state.read_text("utf-8")
    moco_sb.faults.inject("500", path=r"users\.json")  # page 2 of 2: MOCO breaks off after 25 people

    directory = staffbridge.unify([moco, whosoff, fieldservice], state=state, full=True)

    assert directory.reads["moco"].mode == "failed" and directory.reads["moco"].fetched == 25
    assert "read failed after 25 records: ServerError" in directory.failed["moco"]
    assert directory.removed == [] and len(directory) == 61  # nobody removed, nobody dropped
    unknown = directory.find("moco", moco_id(33))
    assert unknown.status == {"moco": "unknown", "whosoff": "present", "fieldservice": "present"}
    assert len(directory.unknown) == 40 and directory.reads["whosoff"].complete
    assert json.loads(state.read_text("utf-8"))["systems"]["moco"] == json.loads(before)["systems"]["moco"]

    moco_sb.faults.inject("500", path=r"users\.json")  # without a state: what was read, as unknown
    fresh = staffbridge.unify([moco, whosoff, fieldservice])
    assert len([p for p in fresh if "moco" in p.crosswalk]) == 25 and fresh.failed


def _comparable(person: Person) -> dict:
    return {
        f.name: getattr(person, f.name)
        for f in dataclasses.fields(Person)
        if f.compare and f.name not in ("system", "iban")
    }
