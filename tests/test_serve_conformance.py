"""scim2-tester (python-scim's conformance checks, written by nobody here) against the gateway in front
of each vendor's sandbox: every check passes, none fails or errs."""

from __future__ import annotations

from collections import Counter

import httpx2
import pytest
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

from tests.scim_world import VENDORS, scim_world

HANG_LIMIT = 180  # seconds: a hang fails the test instead of holding CI


@pytest.mark.parametrize("vendor", VENDORS)
def test_scim2_tester_passes_with_no_failure(vendor, tmp_path, monkeypatch) -> None:
    with (
        scim_world(vendor, tmp_path, monkeypatch) as world,
        httpx2.Client(base_url=world.base, headers=world.headers, timeout=30) as http,
    ):
        results = check_server(SyncSCIMClient(http))
    counts = Counter(result.status.name for result in results)
    failed = [f"{r.title}: {r.reason}" for r in results if r.status not in (Status.SUCCESS, Status.SKIPPED)]
    print(f"\nscim2-tester, {vendor}: {dict(counts)}")
    assert not failed, "\n".join(failed)
    assert counts["SUCCESS"] >= 40  # the whole suite ran: discovery, CRUD, filters, PATCH add/replace/remove
