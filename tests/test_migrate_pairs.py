"""Every pair of sandboxed vendors: a migration lands, and running it again writes nothing.

Written against the Adapter API only, so a vendor whose adapter is not installed is skipped.
"""

import itertools
from collections import Counter

import pytest

import staffbridge
from staffbridge import AdapterNotFound
from staffbridge.sdk.registry import sandbox_class
from staffbridge.store.journal import Journal

VENDORS = ("moco", "whosoff", "fieldservice")
READS_BY_POST = ("retrieve", "authenticate", "my-staff")  # WhosOff reads with POST


def connect(vendor, sb, **extra):
    settings = {
        "moco": dict(api_key="sandbox-key", rate_limit=100000, rate_period=1.0),
        "whosoff": dict(
            app_id="sandbox-app",
            client_secret="sandbox-client-secret",
            username="admin@example.com",
            password="sandbox-password",
        ),
        "fieldservice": dict(api_key="sandbox-key"),
    }[vendor]
    try:
        return staffbridge.connect(vendor, base_url=sb.url, **settings, **extra)
    except AdapterNotFound:
        pytest.skip(f"the {vendor} adapter is not installed")


def writes(sb):
    return [
        (method, path)
        for method, path in sb.requests
        if method in ("PUT", "PATCH", "DELETE")
        or (method == "POST" and not any(word in path for word in READS_BY_POST))
    ]


@pytest.mark.parametrize("source_vendor, target_vendor", list(itertools.permutations(VENDORS, 2)))
def test_migrate_then_nothing_left_to_write(source_vendor, target_vendor, tmp_path):
    # people 0-11 are in both: every department exists in the target, and there are updates to match
    with (
        sandbox_class(source_vendor)(seed_people=30) as source_sb,
        sandbox_class(target_vendor)(seed_people=12) as target_sb,
    ):
        journal = tmp_path / "journal.sqlite"
        plan = staffbridge.migrate(
            connect(source_vendor, source_sb), connect(target_vendor, target_sb), journal=journal, dry_run=False
        )
        report = plan.report
        assert report.ok, [(r.action, r.reason) for r in report.failures]
        assert report.totals["create"] >= 18
        emails = Counter((p.email or "").casefold() for p in connect(target_vendor, target_sb).list())
        assert max(emails.values()) == 1

        before = len(writes(target_sb))
        again = staffbridge.migrate(
            connect(source_vendor, source_sb), connect(target_vendor, target_sb), journal=journal, dry_run=False
        )
        assert again.summary()["create"] == again.summary()["update"] == 0
        assert writes(target_sb)[before:] == []
        assert Journal(journal, pair=plan.pair).counts() == {"done": plan.source_count}

        # without the journal the plan reads partial listings in full, and still finds nothing to do
        fresh = staffbridge.migrate(connect(source_vendor, source_sb), connect(target_vendor, target_sb), dry_run=False)
        assert fresh.summary()["update"] == 0 and writes(target_sb)[before:] == []


@pytest.fixture
def moco_to_whosoff():
    with sandbox_class("moco")(seed_people=30) as source_sb, sandbox_class("whosoff")(seed_people=5) as target_sb:
        yield source_sb, target_sb, connect("moco", source_sb), connect("whosoff", target_sb)


def test_a_department_the_target_lacks_is_reported_then_mapped(moco_to_whosoff):
    _source_sb, target_sb, source, target = moco_to_whosoff
    plan = staffbridge.migrate(source, target)  # WhosOff knows departments only from its users
    stuck = plan.cannot_migrate
    assert len(stuck) == 5 and all("no department named 'Marketing'" in s.reason for s in stuck)

    marketing = next(i for i, name in target_sb.backend.departments.items() if name == "Marketing")
    plan = staffbridge.migrate(
        source, target, mapping={"fields": {"department": {"values": {marketing: "Marketing"}}}}, dry_run=False
    )
    assert plan.report.ok and plan.summary()["cannot_migrate"] == 0
    placed = [u for u in target_sb.backend.users.values() if u.department_id == marketing]
    assert len(placed) == 5


@pytest.mark.parametrize("adapter_generates", [True, False])
def test_passwords_whosoff_requires_are_stored_nowhere(moco_to_whosoff, tmp_path, debug_logs, adapter_generates):
    _source_sb, target_sb, source, target = moco_to_whosoff
    # without its own generator the WhosOff adapter refuses a create without a password: the engine sends one
    target = connect("whosoff", target_sb, generate_password=adapter_generates)
    seeded = set(target_sb.backend.users)
    journal = tmp_path / "j.sqlite"
    plan = staffbridge.migrate(
        source,
        target,
        journal=journal,
        dry_run=False,
        mapping={"fields": {"department": {"values": {"123461": "Marketing"}}}},
    )
    created = [u for i, u in target_sb.backend.users.items() if i not in seeded]
    assert len(created) == 25
    passwords = {u.password for u in created}
    assert len(passwords) == 25 and all(p and len(p) >= 16 for p in passwords)

    plan.report.to_json(tmp_path / "r.json")
    plan.report.to_csv(tmp_path / "r.csv")
    plan.to_json(tmp_path / "plan.json")
    texts = [
        b"".join(p.read_bytes() for p in tmp_path.glob("j.sqlite*")).decode("latin-1"),
        (tmp_path / "r.json").read_text("utf-8"),
        (tmp_path / "r.csv").read_text("utf-8"),
        (tmp_path / "plan.json").read_text("utf-8"),
        debug_logs.text,
        repr(plan),
        repr(plan.creates),
    ]
    for text in texts:
        assert not any(password in text for password in passwords)
