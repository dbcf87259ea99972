"""The migration engine end to end: MOCO sandbox -> a second MOCO sandbox, both real loopback servers."""

import csv
import io
import json
import threading
import time

import pytest

import staffbridge
from staffbridge import ConfigError, Person, StaffbridgeError
from staffbridge.adapters.moco import MocoAdapter
from staffbridge.sandbox.moco import MocoSandbox
from staffbridge.store.journal import Journal

WRITES = ("POST", "PUT", "PATCH", "DELETE")


@pytest.fixture
def source_sb():
    with MocoSandbox(seed_people=30) as sb:
        yield sb


@pytest.fixture
def target_sb():
    with MocoSandbox(seed_people=10) as sb:  # people 0-9 exist on both sides already
        yield sb


def moco(sb, cls=MocoAdapter, **settings):
    return cls(base_url=sb.url, api_key="sandbox-key", rate_limit=100000, rate_period=1.0, **settings)


def writes(sb):
    return [r for r in sb.requests if r[0] in WRITES]


def changed(sb):
    """Direct backend edits bypass the sandbox's list cache; this tells it."""
    sb.backend.version += 1


def emails(sb):
    return [u.email for u in sb.backend.users.values()]


def user(sb, number):
    return sb.backend.users[min(sb.backend.users) + number]


# ---------------------------------------------------------------------------------------------- plan


def test_a_plan_writes_nothing_and_says_what_it_would_do(source_sb, target_sb):
    user(target_sb, 3).mobile_phone = "+49 170 0000000"
    changed(target_sb)
    plan = staffbridge.migrate(moco(source_sb), moco(target_sb))

    assert plan.summary() == {
        "source": 30,
        "target": 10,
        "create": 20,
        "update": 1,
        "unchanged": 9,
        "conflict": 0,
        "cannot_migrate": 0,
        "delete": 0,
        "source_complete": True,
    }
    assert writes(target_sb) == [] and plan.report is None
    step = plan.updates[0]
    assert step.source.email == user(source_sb, 3).email and step.target_id == str(user(target_sb, 3).id)
    assert [(c.field, c.before, c.after) for c in step.changes] == [
        ("mobile_phone", "+49 170 0000000", user(source_sb, 3).mobile_phone)
    ]
    create = plan.creates[0]
    assert create.wanted.id is None and create.wanted.system is None
    assert create.wanted.department.name == create.source.department.name
    # the target's own unit id, not the source's
    target_units = {u.name: str(u.id) for u in target_sb.backend.units.values()}
    assert create.wanted.department.id == target_units[create.wanted.department.name]
    assert [row.status for row in plan.rows()] == ["planned"] * 30
    data = json.loads(json.dumps(plan.to_dict(), default=str))
    assert data["steps"][3]["changes"][0]["field"] == "mobile_phone"


def test_apply_creates_updates_and_a_second_run_writes_nothing(source_sb, target_sb, tmp_path):
    user(target_sb, 3).mobile_phone = "+49 170 0000000"
    changed(target_sb)
    journal = tmp_path / "journal.sqlite"
    plan = staffbridge.migrate(moco(source_sb), moco(target_sb), journal=journal, dry_run=False)
    report = plan.report
    assert report.ok and report.totals["create"] == 20 and report.totals["update"] == 1
    assert report.totals["unchanged"] == 9 and report.totals["failed"] == 0
    assert sorted(emails(target_sb)) == sorted(emails(source_sb))
    assert user(target_sb, 3).mobile_phone == user(source_sb, 3).mobile_phone
    assert Journal(journal, pair="moco->moco").counts() == {"done": 30}

    before = len(target_sb.requests)
    again = staffbridge.migrate(moco(source_sb), moco(target_sb), journal=journal, dry_run=False)
    assert again.summary()["unchanged"] == 30 and again.report.ok
    assert [r for r in target_sb.requests[before:] if r[0] in WRITES] == []
    assert again.report.stats["target_requests"] == 0


def test_every_field_the_target_stores_arrives(source_sb, target_sb):
    staffbridge.migrate(moco(source_sb), moco(target_sb), dry_run=False)
    for number in (12, 25):
        sent = user(source_sb, number)
        [got] = [u for u in target_sb.backend.users.values() if u.email == sent.email]
        for name in (
            "firstname",
            "lastname",
            "email",
            "active",
            "extern",
            "mobile_phone",
            "work_phone",
            "home_address",
            "info",
            "birthday",
            "tags",
            "custom_properties",
        ):
            assert getattr(got, name) == getattr(sent, name), name
        assert target_sb.backend.units[got.unit_id].name == source_sb.backend.units[sent.unit_id].name
        assert target_sb.backend.roles[got.role_id].name == source_sb.backend.roles[sent.role_id].name


def test_dry_run_is_the_default_and_creates_no_journal_file(source_sb, target_sb, tmp_path):
    staffbridge.migrate(moco(source_sb), moco(target_sb), journal=tmp_path / "j.sqlite")
    assert writes(target_sb) == [] and not (tmp_path / "j.sqlite").exists()


def test_a_plan_applies_once(source_sb, target_sb):
    plan = staffbridge.migrate(moco(source_sb), moco(target_sb))
    plan.apply()
    with pytest.raises(StaffbridgeError, match="plan again"):
        plan.apply()


@pytest.mark.parametrize("workers", [0, -1, 1.5, True])
def test_workers_must_be_a_positive_count(source_sb, target_sb, workers):
    with pytest.raises(ConfigError):
        staffbridge.migrate(moco(source_sb), moco(target_sb), workers=workers)


# ---------------------------------------------------------------------------------------------- matching


def test_conflicts_are_reported_never_guessed(source_sb, target_sb):
    keys = ("email", "custom_fields.Personalnummer")
    # target person 0 carries person 1's number: source 1 matches target 1 by email, target 0 by number
    user(target_sb, 0).custom_properties = {"Personalnummer": "E00002"}
    user(target_sb, 1).custom_properties = {"Personalnummer": "E99999"}
    # source 15 and 16 share a number: which of them is the person with that number?
    user(source_sb, 16).custom_properties = {"Personalnummer": "E00016"}
    # source 20 has the number of target person 5, whom source 5 claims by email
    user(source_sb, 5).custom_properties = {"Personalnummer": "E55555"}
    user(source_sb, 20).custom_properties = {"Personalnummer": "E00006"}
    changed(target_sb), changed(source_sb)
    plan = staffbridge.migrate(moco(source_sb), moco(target_sb), match=keys)
    conflicts = {step.source.email: step for step in plan.conflicts}
    assert set(conflicts) == {user(source_sb, n).email for n in (1, 15, 16, 20, 5)}
    assert "finds one record" in conflicts[user(source_sb, 1).email].reason
    assert {c.id for c in conflicts[user(source_sb, 1).email].candidates} == {
        str(user(target_sb, 0).id),
        str(user(target_sb, 1).id),
    }
    assert "source has another record" in conflicts[user(source_sb, 15).email].reason
    assert "2 source records match" in conflicts[user(source_sb, 5).email].reason

    report = plan.apply()
    assert not report.ok and report.totals["conflict"] == 5
    touched = {path for method, path in writes(target_sb)}
    for n in (1, 5):
        assert not any(path.endswith(f"/users/{user(target_sb, n).id}") for path in touched)
    # source 0 is target 0 by email, whatever source 1 turns out to be: it goes ahead
    assert user(target_sb, 0).custom_properties == {"Personalnummer": "E00001"}
    assert user(source_sb, 15).email not in emails(target_sb)


def test_the_journal_keeps_a_link_when_the_email_changes(source_sb, target_sb, tmp_path):
    journal = tmp_path / "j.sqlite"
    staffbridge.migrate(moco(source_sb), moco(target_sb), journal=journal, dry_run=False)
    user(source_sb, 22).email = "renamed@example.com"
    changed(source_sb)
    plan = staffbridge.migrate(moco(source_sb), moco(target_sb), journal=journal)
    assert plan.summary()["create"] == 0
    assert [(c.field, c.after) for c in plan.updates[0].changes] == [("email", "renamed@example.com")]


# ---------------------------------------------------------------------------------------------- references


def test_a_reference_the_target_lacks_cannot_migrate(source_sb, target_sb):
    unit = source_sb.backend.add_unit("Praktikum")
    user(source_sb, 17).unit_id = unit.id
    user(source_sb, 4).unit_id = unit.id  # already in the target: its unit stays, with a note
    changed(source_sb)
    plan = staffbridge.migrate(moco(source_sb), moco(target_sb))
    [stuck] = plan.cannot_migrate
    assert stuck.source.email == user(source_sb, 17).email
    assert "no department named 'Praktikum' in moco" in stuck.reason and "Entwicklung" in stuck.reason
    unchanged = next(s for s in plan.unchanged if s.source.email == user(source_sb, 4).email)
    assert "Praktikum" in unchanged.notes[0]

    report = plan.apply()
    assert not report.ok
    [failed] = report.failures
    assert (failed.action, failed.email, failed.source_id) == (
        "cannot_migrate",
        user(source_sb, 17).email,
        str(user(source_sb, 17).id),
    )
    assert user(source_sb, 17).email not in emails(target_sb)
    assert report.totals["create"] == 19


def test_a_value_map_over_the_target_mapping_translates_names(source_sb, target_sb):
    unit = source_sb.backend.add_unit("Praktikum")
    user(source_sb, 17).unit_id = unit.id
    changed(source_sb)
    target = moco(target_sb)
    school = target_sb.backend.add_unit("Ausbildung")
    overlay = {"fields": {"department": {"values": {school.id: "Praktikum"}}}}
    plan = staffbridge.migrate(moco(source_sb), target, mapping=overlay, dry_run=False)
    assert plan.report.ok
    created = next(u for u in target_sb.backend.users.values() if u.email == user(source_sb, 17).email)
    assert created.unit_id == school.id
    assert target.mapping.spec("department").converter.values == {}  # the caller's adapter is untouched


def test_a_value_map_may_come_from_a_toml_file(source_sb, target_sb, tmp_path):
    unit = source_sb.backend.add_unit("Praktikum")
    user(source_sb, 17).unit_id = unit.id
    changed(source_sb)
    school = target_sb.backend.add_unit("Ausbildung")
    path = tmp_path / "map.toml"
    path.write_text(f'[fields.department.values]\n{school.id} = "Praktikum"\n', encoding="utf-8")
    plan = staffbridge.migrate(moco(source_sb), moco(target_sb), mapping=path)
    step = next(s for s in plan.creates if s.source.email == user(source_sb, 17).email)
    assert step.wanted.department.id == str(school.id)


# ---------------------------------------------------------------------------------------------- bad input


def test_bad_records_are_rows_and_the_run_goes_on(source_sb, target_sb, tmp_path):
    user(source_sb, 11).birthday = "31.02.1990"  # the source sends something unreadable
    user(source_sb, 12).email = "not-an-email"  # readable, but not valid
    user(source_sb, 13).iban = "DE00 1234"  # valid to us; the target refuses it (422)
    changed(source_sb)
    journal = tmp_path / "j.sqlite"
    plan = staffbridge.migrate(moco(source_sb), moco(target_sb), journal=journal)
    reasons = {s.source.email: s.reason for s in plan.cannot_migrate}
    assert "could not be read" in reasons[user(source_sb, 11).email]
    assert "birthday" in reasons[user(source_sb, 11).email]
    assert reasons["not-an-email"].startswith("invalid: email")

    report = plan.apply()
    assert not report.ok
    failed = {row.email: row for row in report.failures}
    assert set(failed) == {user(source_sb, n).email for n in (11, 12, 13)}
    assert failed[user(source_sb, 13).email].action == "create"
    assert "iban is invalid" in failed[user(source_sb, 13).email].reason
    assert "422" in failed[user(source_sb, 13).email].reason
    assert report.totals["create"] == 18 and report.totals["ok"] == 27
    entry = Journal(journal, pair="moco->moco").get(str(user(source_sb, 13).id))
    assert entry.state == "failed" and "iban" in entry.reason


def test_an_incomplete_source_read_is_reported_and_never_deletes(target_sb):
    with MocoSandbox(seed_people=150) as source_sb:
        target_sb.backend.create_user(
            {"firstname": "Only", "lastname": "Here", "email": "only@here.io", "unit_id": min(target_sb.backend.units)}
        )
        source_sb.faults.inject("500", path=r"users\.json$", method="GET")  # page 2 and later
        plan = staffbridge.migrate(moco(source_sb, max_retries=0), moco(target_sb), delete_missing=True)
        assert not plan.source_complete and "stopped after 100 records" in plan.read_error
        assert plan.deletes == [] and any("no deletes" in note for note in plan.notes)
        assert plan.summary()["create"] == 90

        report = plan.apply()
        assert not report.ok and not report.source_complete
        assert report.rows[0].action == "read" and report.rows[0].status == "failed"
        assert report.totals["create"] == 90 and report.totals["failed"] == 0
        assert "only@here.io" in emails(target_sb)
        assert [r for r in writes(target_sb) if r[0] == "DELETE"] == []


def test_delete_missing_deletes_only_when_asked(source_sb, target_sb):
    for n in range(3):
        target_sb.backend.create_user(
            {"firstname": "Gone", "lastname": str(n), "email": f"gone{n}@x.io", "unit_id": min(target_sb.backend.units)}
        )
    plan = staffbridge.migrate(moco(source_sb), moco(target_sb))
    assert plan.deletes == []
    plan = staffbridge.migrate(moco(source_sb), moco(target_sb), delete_missing=True)
    assert sorted(s.target.email for s in plan.deletes) == ["gone0@x.io", "gone1@x.io", "gone2@x.io"]
    report = plan.apply()
    assert report.ok and report.totals["delete"] == 3
    assert sorted(emails(target_sb)) == sorted(emails(source_sb))


def test_a_refused_delete_is_a_failed_row(source_sb, target_sb):
    gone = target_sb.backend.create_user(
        {"firstname": "Billed", "lastname": "Hours", "email": "billed@x.io", "unit_id": min(target_sb.backend.units)}
    )
    target_sb.backend.mark_billed(gone.id)
    report = staffbridge.migrate(moco(source_sb), moco(target_sb), delete_missing=True, dry_run=False).report
    [row] = report.failures
    assert (row.action, row.target_id, row.email) == ("delete", str(gone.id), "billed@x.io")
    assert "deactivate" in row.reason


def test_an_empty_source_deletes_nobody(target_sb):
    with MocoSandbox(seed_people=0) as empty:
        plan = staffbridge.migrate(moco(empty), moco(target_sb), delete_missing=True)
    assert plan.deletes == [] and "returned nobody" in plan.notes[-1]


# ---------------------------------------------------------------------------------------------- passwords


class PasswordMoco(MocoAdapter):
    """A MOCO account that still insists on a password (the seed page marks it mandatory)."""

    password_on_create = "required"


def test_generated_passwords_are_used_once_and_stored_nowhere(source_sb, target_sb, tmp_path, debug_logs):
    user(source_sb, 13).iban = "DE00 1234"  # one create fails: its error must not show the password either
    changed(source_sb)
    journal = tmp_path / "j.sqlite"
    target = moco(target_sb, cls=PasswordMoco)
    plan = staffbridge.migrate(moco(source_sb), target, journal=journal, welcome_email=True, dry_run=False)
    report = plan.report
    created = [u for u in target_sb.backend.users.values() if u.password]
    assert len(created) == 19
    passwords = [u.password for u in created]
    assert len(set(passwords)) == 19 and all(len(p) >= 20 for p in passwords)
    assert all(u.welcome_email for u in created)
    assert any("password" in note for note in report.notes)
    assert not set(passwords) & target.transport.secrets  # sent once, then let go of

    report.to_json(tmp_path / "r.json")
    report.to_csv(tmp_path / "r.csv")
    buffer = io.StringIO()
    plan.to_json(buffer)
    places = {
        "journal": b"".join(p.read_bytes() for p in tmp_path.glob("j.sqlite*")).decode("latin-1"),
        "report.json": (tmp_path / "r.json").read_text("utf-8"),
        "report.csv": (tmp_path / "r.csv").read_text("utf-8"),
        "logs": debug_logs.text,
        "plan": buffer.getvalue() + repr(plan) + repr(plan.creates) + repr(report),
        "failure": " ".join(row.reason or "" for row in report.rows),
    }
    assert "iban is invalid" in places["failure"]
    for where, text in places.items():
        for password in passwords:
            assert password not in text, where


class LateDemandMoco(MocoAdapter):
    """Says "optional" in its signature, then refuses a create without a password (WhosOff with
    generate_password=False does exactly this)."""

    def create(self, person, password=None, welcome_email=None):
        if password is None:
            raise staffbridge.PersonValidationError({"password": ["required"]}, record=person.label)
        return super().create(person, password=password, welcome_email=welcome_email)


def test_a_password_demanded_only_at_create_time_is_generated(source_sb, target_sb, debug_logs):
    report = staffbridge.migrate(moco(source_sb), moco(target_sb, cls=LateDemandMoco), dry_run=False).report
    assert report.ok and report.totals["create"] == 20
    passwords = [u.password for u in target_sb.backend.users.values() if u.password]
    assert len(set(passwords)) == 20
    assert any("needs a password" in note for note in report.notes)
    assert not any(p in debug_logs.text for p in passwords)


def test_moco_gets_no_password_when_it_needs_none(source_sb, target_sb):
    staffbridge.migrate(moco(source_sb), moco(target_sb), dry_run=False)
    assert not any(u.password for u in target_sb.backend.users.values())
    assert not any(u.welcome_email for u in target_sb.backend.users.values())


# ---------------------------------------------------------------------------------------------- resuming


def test_a_create_left_in_flight_is_looked_up_before_creating_again(source_sb, target_sb, tmp_path):
    journal = Journal(tmp_path / "j.sqlite", pair="moco->moco")
    target = moco(target_sb)
    plan = staffbridge.migrate(moco(source_sb), target, journal=journal)
    step = plan.creates[0]
    # what a run killed right after its POST leaves behind: the record, and the journal saying "creating"
    journal.mark(step.key, "creating", source_id=step.source_id, action="create")
    made = target.create(step.wanted.replace(mobile_phone="+49 1"))
    report = plan.apply()
    assert report.ok and report.totals["create"] == 20
    assert emails(target_sb).count(step.source.email) == 1
    row = next(r for r in report.rows if r.source_id == step.source_id)
    assert row.target_id == made.id and "interrupted run" in row.reason
    assert target_sb.backend.users[int(made.id)].mobile_phone == step.wanted.mobile_phone  # caught up
    assert journal.get(step.key).state == "done"


def test_an_in_flight_create_that_never_arrived_is_created(source_sb, target_sb, tmp_path):
    journal = Journal(tmp_path / "j.sqlite", pair="moco->moco")
    plan = staffbridge.migrate(moco(source_sb), moco(target_sb), journal=journal)
    step = plan.creates[0]
    journal.mark(step.key, "creating", source_id=step.source_id, action="create")
    report = plan.apply()
    assert report.ok and emails(target_sb).count(step.source.email) == 1


# ---------------------------------------------------------------------------------------------- concurrency


class CountingMoco(MocoAdapter):
    """Counts how many creates run at the same moment."""

    def __init__(self, **settings):
        super().__init__(**settings)
        self.lock, self.running, self.most = threading.Lock(), 0, 0

    def create(self, person, password=None, welcome_email=None):
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(0.02)
            return super().create(person, password=password, welcome_email=welcome_email)
        finally:
            with self.lock:
                self.running -= 1


def test_writes_run_in_parallel_within_the_shared_rate_limit(source_sb):
    with MocoSandbox(seed_people=0, rate_limit=25, rate_window=0.25) as target_sb:
        target = CountingMoco(base_url=target_sb.url, api_key="sandbox-key", rate_limit=25, rate_period=0.25)
        report = staffbridge.migrate(moco(source_sb), target, workers=6, dry_run=False).report
        assert report.ok and report.totals["create"] == 30
        assert 1 < target.most <= 6
        assert target_sb.rate_limit.rejected == 0  # the one limiter kept every thread under the vendor's limit


class MeetingMoco(MocoAdapter):
    """A listing that notes it started, then waits (a few seconds at most) for the other side's to start."""

    def __init__(self, started, other, **settings):
        super().__init__(**settings)
        self.started, self.other, self.met = started, other, False

    def fetch_records(self, **filters):
        self.started.set()
        self.met = self.other.wait(5)
        yield from super().fetch_records(**filters)


def test_the_source_and_the_target_are_read_at_the_same_time(source_sb, target_sb):
    source_started, target_started = threading.Event(), threading.Event()
    source = moco(source_sb, MeetingMoco, started=source_started, other=target_started)
    target = moco(target_sb, MeetingMoco, started=target_started, other=source_started)
    plan = staffbridge.migrate(source, target)
    assert source.met and target.met  # read one after the other, the first would have waited in vain
    assert plan.source_count == 30 and plan.target_count == 10


# ---------------------------------------------------------------------------------------------- report


def test_progress_and_the_report_files(source_sb, target_sb, tmp_path):
    calls = []
    plan = staffbridge.migrate(moco(source_sb), moco(target_sb), progress=lambda *a: calls.append(a), dry_run=False)
    labels = [label for _, _, label in calls]
    assert labels.index("reading target") < labels.index("reading source") < labels.index("writing")
    assert calls[-1] == (30, 30, "writing")
    assert all(total is None for _, total, label in calls if label.startswith("reading"))

    report = plan.report
    report.to_json(tmp_path / "r.json")
    data = json.loads((tmp_path / "r.json").read_text("utf-8"))
    assert data["ok"] is True and data["totals"]["create"] == 20 and len(data["rows"]) == 30
    buffer = io.StringIO()
    report.to_csv(buffer)
    rows = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert len(rows) == 30 and set(rows[0]) >= {"source_id", "target_id", "action", "status", "reason"}
    created = [r for r in rows if r["action"] == "create"]
    assert all(r["status"] == "ok" and r["target_id"] for r in created)


def test_a_broken_progress_callback_does_not_stop_the_run(source_sb, target_sb):
    def broken(done, total, label):
        return done / total  # None while reading

    plan = staffbridge.migrate(moco(source_sb), moco(target_sb), progress=broken, dry_run=False)
    assert plan.report.ok and plan.report.totals["create"] == 20


def test_migrate_is_public_api():
    assert "migrate" in staffbridge.__all__
    assert Person  # the canonical model the plan speaks


def test_a_source_that_cannot_be_read_at_all_raises(target_sb):
    with MocoSandbox(seed_people=5, api_key="other-key") as source_sb:
        with pytest.raises(staffbridge.AuthenticationError):
            staffbridge.migrate(moco(source_sb), moco(target_sb))
        with pytest.raises(ConfigError):
            staffbridge.migrate(moco(source_sb), moco(target_sb), source_filters={"colour": "red"})
