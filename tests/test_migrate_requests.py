"""A migration sends no request it does not need: counted on the sandboxes, request by request."""

import threading

import staffbridge
from staffbridge.sdk.registry import sandbox_class

from .test_migrate_pairs import connect, writes


def paths(sb, since=0):
    return [f"{method} {path}" for method, path in sb.requests[since:]]


def test_a_target_that_lists_whole_records_is_never_read_one_by_one():
    # MOCO lists full user objects: an empty phone in its listing is an empty phone, no get needed
    with sandbox_class("moco")(seed_people=12) as source_sb, sandbox_class("moco")(seed_people=12) as target_sb:
        source, target = connect("moco", source_sb), connect("moco", target_sb)
        user = next(u for u in target_sb.backend.users.values() if u.work_phone)
        user.work_phone = ""
        target_sb.backend.version += 1
        since = len(target_sb.requests)
        plan = staffbridge.migrate(source, target)
        assert [c.field for s in plan.updates for c in s.changes] == ["work_phone"]
        assert [p for p in paths(target_sb, since) if p.startswith("GET /api/v1/users/")] == []


def test_a_target_that_lists_less_is_read_in_full_only_where_the_listing_cannot_tell():
    # WhosOff's retrieve lacks phones: a matched person whose source has phones is read once to see
    # whether they are there already; nobody else is (the creates need no read)
    with sandbox_class("moco")(seed_people=20) as source_sb, sandbox_class("whosoff")(seed_people=4) as target_sb:
        source, target = connect("moco", source_sb), connect("whosoff", target_sb)
        plan = staffbridge.migrate(source, target)
        matched = [s for s in plan.steps() if s.target is not None]
        with_phones = [s for s in matched if s.wanted and (s.wanted.work_phone or s.wanted.mobile_phone)]
        reads = [p for p in paths(target_sb) if "/get-by-id/" in p]
        assert len(reads) == len(with_phones) <= 4 and plan.creates


def test_a_second_run_with_nothing_changed_reads_each_side_once(tmp_path):
    journal = tmp_path / "journal.sqlite"
    with sandbox_class("moco")(seed_people=30) as source_sb, sandbox_class("whosoff")(seed_people=12) as target_sb:
        first = staffbridge.migrate(connect("moco", source_sb), connect("whosoff", target_sb), journal=journal)
        first.apply()
        assert first.report.ok
        source_since, target_since = len(source_sb.requests), len(target_sb.requests)

        again = staffbridge.migrate(
            connect("moco", source_sb), connect("whosoff", target_sb), journal=journal, dry_run=False
        )
        assert again.summary()["create"] == again.summary()["update"] == 0
        assert writes(target_sb)[target_since:] == []
        # one handshake and one retrieve: no department lookup, no record read one by one
        assert sorted(paths(target_sb, target_since)) == [
            "POST /v4/authenticate/with-credentials",
            "POST /v4/user/retrieve",
        ]
        assert paths(source_sb, source_since) == ["GET /api/v1/users?include_archived=true"]


def test_full_reads_start_while_the_source_is_still_being_read():
    # The matched people come first in the source. Its listing holds back the last person until a
    # full read of a matched record has been sent (or 30 s have passed): the target's budget checks
    # them while the source is still paging, instead of idling until it is read through.
    with sandbox_class("moco")(seed_people=20) as source_sb, sandbox_class("whosoff")(seed_people=4) as target_sb:
        source, target = connect("moco", source_sb), connect("whosoff", target_sb)
        full_read_sent = threading.Event()
        get = target.get

        def get_and_tell(target_id):
            full_read_sent.set()
            return get(target_id)

        target.get = get_and_tell
        listing = source.list
        overlapped = []

        def held_back(**filters):
            people = list(listing(**filters))
            yield from people[:-1]
            overlapped.append(full_read_sent.wait(30))
            yield people[-1]

        source.list = held_back
        plan = staffbridge.migrate(source, target)
        assert overlapped == [True]
        assert plan.summary()["source"] == 20 and plan.creates
        reads = [p for p in paths(target_sb) if "/get-by-id/" in p]
        assert len(reads) == len({p for p in reads}) == len(plan.unchanged) + len(plan.updates) == 4


def test_a_source_duplicate_is_not_read_twice_and_stays_a_conflict():
    # two source records share the email of a matched WhosOff person: both are conflicts. The first
    # is read in full before the second arrives (a wasted read, never a write); the second, known
    # as a duplicate when it arrives, is not read
    with sandbox_class("moco")(seed_people=6) as source_sb, sandbox_class("whosoff")(seed_people=2) as target_sb:
        backend = source_sb.backend
        first = backend.users[min(backend.users)]  # person 0: in WhosOff too
        twin = backend.create_user(
            {"firstname": "Twin", "lastname": "Record", "email": "twin@example.com", "unit_id": first.unit_id}
        )
        twin.email = first.email  # the vendor refuses that through its API; an import may not have
        backend.version += 1
        source, target = connect("moco", source_sb), connect("whosoff", target_sb)
        plan = staffbridge.migrate(source, target)
        assert {s.source.id for s in plan.conflicts} == {str(first.id), str(twin.id)}
        (conflicting,) = {c.id for s in plan.conflicts for c in s.candidates}
        assert len([p for p in paths(target_sb) if p.endswith(f"/get-by-id/{conflicting}")]) <= 1


def test_a_full_read_that_fails_leaves_the_listing_diff_with_a_note():
    with sandbox_class("moco")(seed_people=8) as source_sb, sandbox_class("whosoff")(seed_people=3) as target_sb:
        source, target = connect("moco", source_sb), connect("whosoff", target_sb)

        def unreadable(target_id):
            raise ConnectionError("reset by peer")

        target.get = unreadable
        plan = staffbridge.migrate(source, target)
        matched = [s for s in plan.steps() if s.target is not None]
        assert matched and all(s.action == "update" for s in matched)
        assert all(any("could not read" in n and "planned from the listing" in n for n in s.notes) for s in matched)
