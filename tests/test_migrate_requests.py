"""A migration sends no request it does not need: counted on the sandboxes, request by request."""

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
