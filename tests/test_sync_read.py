"""Reading everyone and reporting progress: the one way both jobs do it (plain data, no HTTP)."""

from __future__ import annotations

import logging

import staffbridge
from staffbridge.jobs.progress import ProgressGuard, guarded
from staffbridge.jobs.sync.read import list_everyone, read_everyone

from .test_unify_fakes import Broken, MemoryAdapter, staff


def test_everyone_includes_the_archived_where_that_takes_a_filter() -> None:
    archived = MemoryAdapter("a", [staff(1)], incremental=True)  # knows include_archived
    list(list_everyone(archived))
    list(list_everyone(archived, {"updated_after": staff(1).updated_at}))  # given filters are used as they are
    assert archived.calls == [{"include_archived": True}, {"updated_after": staff(1).updated_at}]
    plain = MemoryAdapter("b", [staff(1)])
    list(list_everyone(plain))
    assert plain.calls == [{}]


def test_a_read_that_fails_midway_keeps_what_it_read_and_the_error() -> None:
    seen = []
    listing = read_everyone(
        MemoryAdapter("a", [staff(1), staff(2), staff(3)], fail_after=2), "reading a", lambda *args: seen.append(args)
    )
    assert [p.id for p in listing.people] == ["1", "2"] and isinstance(listing.error, Broken)
    assert seen == [(1, None, "reading a"), (2, None, "reading a")]
    assert read_everyone(MemoryAdapter("a", [staff(1)]), "reading a").error is None


def test_a_broken_progress_callback_is_logged_once_and_the_work_goes_on(caplog) -> None:
    def broken(done, total, label):
        raise ValueError("the bar fell off")

    with caplog.at_level(logging.WARNING, logger="staffbridge.progress"):
        directory = staffbridge.unify(
            [MemoryAdapter("a", [staff(1), staff(2)]), MemoryAdapter("b", [staff(2)])], progress=broken
        )
    assert len(directory) == 2
    assert [r.getMessage() for r in caplog.records].count(
        "progress callback failed (ValueError: the bar fell off); carrying on without it"
    ) == 1


def test_a_guard_is_not_guarded_twice() -> None:
    guard = guarded(print)
    assert guarded(guard) is guard and isinstance(guarded(None), ProgressGuard)
    guarded(None)(1, 2, "nothing to tell: no callback")
