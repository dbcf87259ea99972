"""The sync job as a plain function (no Celery, no PostgreSQL: a SQLite store): unify, then push the
authority's hires, changes and leavers to the receivers, journalled, behind the delete brake."""

from __future__ import annotations

import pytest

from staffbridge.jobs.keep_in_step import keep_in_step
from staffbridge.store.backends import open_store
from staffbridge.store.tenants import tenant_from_dict
from tests.platform_world import TenantWorld

HANG_LIMIT = 120


@pytest.fixture
def world():
    world = TenantWorld(3, size=12).start()
    yield world
    world.stop()


def sync(world, store, **rules):
    return keep_in_step(tenant_from_dict(world.tenant(**rules)), store)


def requests_per_system(world, work):
    before = {name: len(s.requests) for name, s in world.sandboxes.items()}
    result = work()
    return result, {name: len(s.requests) - before[name] for name, s in world.sandboxes.items()}


def test_a_sync_brings_every_receiver_in_step_and_the_next_one_is_quiet(world, tmp_path):
    store = open_store(tmp_path / "state.sqlite", scope=world.id)
    assert world.out_of_step()
    first = sync(world, store)
    assert first.counts["created"] > 0 and first.failures == []
    second = sync(world, store)  # the managers, now that they exist everywhere
    assert second.failures == []
    assert world.out_of_step() == []
    sync(world, store)  # journals how the receivers list what was written
    quiet, sent = requests_per_system(world, lambda: sync(world, store))
    assert quiet.written == {} and quiet.reads["moco"] == "incremental"
    # one page each; WhosOff: its handshake and its list, no department lookup for nothing to write
    assert sent == {"moco": 1, "whosoff": 2, "fieldservice": 1}


def test_an_edit_in_a_receiver_is_set_back_to_the_authoritys_value(world, tmp_path):
    store = open_store(tmp_path / "state.sqlite", scope=world.id)
    for _ in range(3):
        sync(world, store)
    whosoff = world.connect("whosoff")
    authority = {p.email for p in world.people("moco") if p.active}
    person = next(p for p in whosoff.list() if p.email in authority)
    whosoff.update(person.id, {"last_name": "Edited"})
    report = sync(world, store)
    assert report.written["whosoff"] == {"updated": 1}
    assert world.out_of_step() == []


def test_hires_changes_and_leavers_travel_and_a_rerun_writes_nothing_twice(world, tmp_path):
    store = open_store(tmp_path / "state.sqlite", scope=world.id)
    sync(world, store), sync(world, store)
    world.change(0)
    whosoff = world.sandboxes["whosoff"]
    # the create reaches WhosOff but its answer is lost, as when a worker dies mid-request
    whosoff.faults.inject("reset", path="/v4/user/create", after=True)
    sync(world, store)
    assert [kind for kind, _, _ in whosoff.faults.injected] == ["reset"]
    again = sync(world, store)
    assert world.out_of_step() == []
    assert again.written.get("whosoff", {}).get("created", 0) == 0
    emails = [p.email for p in world.people("whosoff")]
    assert emails.count("hire0.t3@example.com") == 1


def test_the_delete_brake_stops_a_mass_leaving(world, tmp_path):
    store = open_store(tmp_path / "state.sqlite", scope=world.id)
    sync(world, store, delete_brake=1)
    moco = world.connect("moco")
    for person in [p for p in moco.list() if p.active][:3]:
        moco.update(person.id, {"active": False})
    report = sync(world, store, delete_brake=1)
    assert report.braked == ["whosoff"] and report.counts["deactivated"] == 0
    report = sync(world, store, delete_brake=5)
    assert report.written["whosoff"].get("deactivated", 0) >= 1 and world.out_of_step() == []


def test_deletes_happen_only_where_the_rules_allow(world, tmp_path):
    store = open_store(tmp_path / "state.sqlite", scope=world.id)
    sync(world, store, deletes=True)
    moco = world.connect("moco")
    leaver = next(p for p in moco.list() if p.active)
    moco.update(leaver.id, {"active": False})
    report = sync(world, store, deletes=True)
    assert report.counts["deleted"] >= 1
    assert leaver.email not in [p.email for p in world.people("whosoff")]


def test_nothing_is_pushed_when_the_authority_cannot_be_read(world, tmp_path):
    store = open_store(tmp_path / "state.sqlite", scope=world.id)
    world.sandboxes["moco"].faults.inject("500", count=20)
    report, _sent = requests_per_system(world, lambda: sync(world, store))
    assert report.reads["moco"] == "failed" and report.written == {}
    assert any("authority moco could not be read" in f for f in report.failures)
