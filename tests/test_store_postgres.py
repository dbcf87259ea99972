"""PostgreSQL specifics of the store (the shared contract is tests/test_store_contract.py): tenants
that can never reach each other's rows, the schema made on open, statement counts, masked passwords."""

from __future__ import annotations

import datetime as dt

import pytest

from staffbridge import ConfigError, Person
from staffbridge.store.backends import open_store
from staffbridge.store.records import Mark, SystemState

UTC = dt.UTC
# names that would widen a query if a scope were ever spliced into SQL or matched with LIKE
TRICKY_SCOPES = ("acme", "acme%", "_cme", "a'; DROP TABLE staffbridge_journal; --", "ACME", "acme ")


def state_of(n: int) -> SystemState:
    moment = dt.datetime(2024, 5, 1, 10, tzinfo=UTC)
    return SystemState(
        adapter="moco",
        runs=n,
        last_run=moment,
        last_full=moment,
        people={str(n): Person(id=str(n), first_name=f"P{n}", email=f"p{n}@example.com")},
    )


def fill(store, n: int) -> None:
    store.journal_mark("moco->whosoff", [Mark(f"k{n}", "done", target_id=f"t{n}", digest=f"d{n}")])
    store.save_sync({"moco": state_of(n)}, {("moco", str(n)): f"u{n}"})


def everything(store) -> tuple:
    return (
        store.journal_entries("moco->whosoff"),
        store.journal_written("moco->whosoff"),
        store.journal_counts("moco->whosoff"),
        store.journal_entry("moco->whosoff", "k0"),
        store.cursors(),
        store.crosswalk(),
    )


def test_no_tenant_reads_or_writes_another_tenants_rows(postgres_schema: str) -> None:
    stores = {scope: open_store(postgres_schema, scope=scope) for scope in TRICKY_SCOPES}
    for n, store in enumerate(stores.values()):
        fill(store, n)
    for n, (scope, store) in enumerate(stores.items()):
        entries, written, counts, _, cursors, crosswalk = everything(store)
        assert [e.key for e in entries] == [f"k{n}"] and written == {f"k{n}": (f"t{n}", f"d{n}")}, scope
        assert counts == {"done": 1} and cursors == {"moco": state_of(n)} and crosswalk == {("moco", str(n)): f"u{n}"}
    # a tenant replacing or emptying its state touches nobody else's
    stores["acme%"].save_sync({}, {})
    stores["acme%"].journal_mark("moco->whosoff", [Mark("k1", "failed", reason="x")])
    assert everything(stores["acme"])[4:] == ({"moco": state_of(0)}, {("moco", "0"): "u0"})
    assert stores["acme"].journal_written("moco->whosoff") == {"k0": ("t0", "d0")}
    assert open_store(postgres_schema, scope="nobody").cursors() == {}


def test_the_schema_is_made_on_open_and_a_newer_one_is_refused(postgres_schema: str) -> None:
    import psycopg

    from staffbridge.store import postgres

    open_store(postgres_schema, scope="a").close()
    open_store(postgres_schema, scope="a").close()  # opening again changes nothing
    with psycopg.connect(postgres_schema, autocommit=True) as db:
        assert db.execute("SELECT version FROM staffbridge_schema").fetchall() == [(postgres.SCHEMA_VERSION,)]
        db.execute("UPDATE staffbridge_schema SET version = version + 1")
    postgres.close_pool(postgres_schema)  # a new process, as far as the store can tell
    with pytest.raises(ConfigError, match="newer staffbridge"):
        open_store(postgres_schema)


def test_each_operation_is_one_statement(postgres_schema: str) -> None:
    store = open_store(postgres_schema, scope="count")
    counted = []
    for operation in (
        lambda: fill(store, 1),
        store.cursors,
        store.crosswalk,
        lambda: store.journal_entry("moco->whosoff", "k1"),
    ):
        before = store.queries
        operation()
        counted.append(store.queries - before)
    # a mark (1) and a whole sync state (2 deletes + 2 inserts, in one transaction); each read is one
    assert counted == [5, 1, 1, 1]


def test_a_password_in_the_location_is_never_shown(postgres_dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = postgres_dsn.replace("postgresql://postgres@", "postgresql://nobody:s3cr3t-pw@").replace(
        "127.0.0.1:5432", "127.0.0.1:1"
    )
    monkeypatch.setenv("STAFFBRIDGE_PG_CONNECT_TIMEOUT", "1")
    with pytest.raises(ConfigError) as caught:
        open_store(wrong)
    assert "s3cr3t-pw" not in str(caught.value) and "***" in str(caught.value)
    store = open_store(postgres_dsn.replace("postgresql://postgres@", "postgresql://postgres:pw-in-url@"))
    assert "pw-in-url" not in repr(store) and "pw-in-url" not in store.location
