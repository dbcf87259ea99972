"""Tenants in PostgreSQL: the file format, secrets encrypted at rest and masked everywhere, key rotation."""

from __future__ import annotations

import shutil
import subprocess
import textwrap

import pytest

from staffbridge import ConfigError
from staffbridge.store.tenant_registry import TenantRegistry
from staffbridge.store.tenants import load_tenant_file

MOCO_KEY = "planted-moco-key-7Hq2"
WHOSOFF_PASSWORD = "planted-whosoff-pw-Zx81"
WHOSOFF_APP = "planted-app-id-Qp33"
WHOSOFF_CLIENT = "planted-client-secret-Rt55"
FS_KEY = "planted-fs-key-Lm09"
PLANTED = (MOCO_KEY, WHOSOFF_PASSWORD, WHOSOFF_APP, WHOSOFF_CLIENT, FS_KEY)


def fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


@pytest.fixture
def tenant_file(tmp_path, monkeypatch):
    monkeypatch.setenv("ACME_MOCO_KEY", MOCO_KEY)
    monkeypatch.setenv("ACME_WHOSOFF_PASSWORD", WHOSOFF_PASSWORD)
    path = tmp_path / "acme.toml"
    path.write_text(
        textwrap.dedent(f"""
        id = "acme"
        [systems.moco]
        adapter = "moco"
        base_url = "http://127.0.0.1:9/api/v1"
        api_key = "${{ACME_MOCO_KEY}}"
        [systems.whosoff]
        adapter = "whosoff"
        base_url = "http://127.0.0.1:9"
        app_id = "{WHOSOFF_APP}"
        username = "admin@example.com"
        password = "${{ACME_WHOSOFF_PASSWORD}}"
        client_secret = "{WHOSOFF_CLIENT}"
        [systems.fieldservice]
        adapter = "fieldservice"
        base_url = "http://127.0.0.1:9"
        api_key = "{FS_KEY}"
        [sync]
        authority = "moco"
        interval = 120
        delete_brake = 2
        [sync.authority_per_field]
        mobile_phone = "fieldservice"
    """)
    )
    return path


@pytest.fixture
def registry(postgres_schema, monkeypatch):
    monkeypatch.setenv("STAFFBRIDGE_SECRET_KEYS", fernet_key())
    return TenantRegistry(postgres_schema)


def test_a_tenant_file_round_trips_and_its_secrets_are_encrypted_at_rest(
    tenant_file, registry, postgres_schema, debug_logs
):
    tenant = load_tenant_file(tenant_file)
    assert tenant.rules.receivers == ("whosoff", "fieldservice") and tenant.rules.interval == 120
    assert tenant.secret_names["whosoff"] == {"app_id", "password", "client_secret"}
    registry.add(tenant)
    again = registry.get("acme")
    assert again.systems == tenant.systems and again.rules == tenant.rules
    assert again.connect("moco").settings["api_key"] == MOCO_KEY
    shown = (
        repr(again)
        + repr(registry)
        + str(again.describe())
        + repr(again.system("whosoff"))
        + str([t.describe() for t in registry])
        + str([s.to_dict() for s in registry.status()])
        + debug_logs.text
    )
    assert not [secret for secret in PLANTED if secret in shown]
    assert again.describe()["systems"]["whosoff"]["password"] == "***"
    with pytest.raises(ConfigError, match="exists already"):
        registry.add(tenant)
    dump = database_dump(postgres_schema)
    assert "acme" in dump and not [secret for secret in PLANTED if secret in dump]


def test_keys_rotate_and_a_missing_key_names_no_value(tenant_file, registry, monkeypatch, postgres_schema):
    registry.add(load_tenant_file(tenant_file))
    old = __import__("os").environ["STAFFBRIDGE_SECRET_KEYS"]
    new = fernet_key()
    monkeypatch.setenv("STAFFBRIDGE_SECRET_KEYS", f"{new},{old}")
    assert registry.rotate_keys() == 1
    monkeypatch.setenv("STAFFBRIDGE_SECRET_KEYS", new)  # the old key is gone: the rotated token still opens
    assert registry.get("acme").systems["moco"]["api_key"] == MOCO_KEY
    monkeypatch.setenv("STAFFBRIDGE_SECRET_KEYS", old)
    with pytest.raises(ConfigError, match="none of the keys") as caught:
        registry.get("acme")
    assert not [secret for secret in PLANTED if secret in str(caught.value)]
    monkeypatch.delenv("STAFFBRIDGE_SECRET_KEYS")
    with pytest.raises(ConfigError, match="STAFFBRIDGE_SECRET_KEYS"):
        registry.get("acme")


def test_removing_a_tenant_forgets_its_state_and_history(tenant_file, registry, postgres_schema):
    import datetime as dt

    from staffbridge.store.backends import open_store
    from staffbridge.store.records import Mark
    from staffbridge.store.tenant_registry import RunRecord

    registry.add(load_tenant_file(tenant_file))
    now = dt.datetime.now(dt.UTC)
    registry.record_run("acme", RunRecord(now, now, "ok", {"created": 2}))
    open_store(postgres_schema, scope="acme").journal_mark("moco->whosoff", [Mark("1", "done", target_id="9")])
    open_store(postgres_schema, scope="globex").journal_mark("moco->whosoff", [Mark("1", "done", target_id="8")])
    assert [s.last.counts for s in registry.status()] == [{"created": 2}]
    assert registry.remove("acme") and not registry.remove("acme")
    assert registry.ids() == [] and registry.runs("acme") == []
    assert open_store(postgres_schema, scope="acme").journal_entries("moco->whosoff") == []
    assert open_store(postgres_schema, scope="globex").journal_written("moco->whosoff") == {"1": ("8", None)}


@pytest.mark.parametrize(
    "sync, problem",
    [
        ("authority = 'nowhere'", "authority"),
        ("receivers = ['moco']", "receivers"),
        ("match = []", "match"),
        ("deletes = 'yes'", "deletes"),
        ("speed = 3", "speed"),
    ],
)
def test_bad_sync_rules_name_the_setting(tenant_file, sync, problem):
    text = tenant_file.read_text().replace('authority = "moco"', sync)
    tenant_file.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_tenant_file(tenant_file)
    assert caught.value.setting == problem


def database_dump(dsn: str) -> str:
    """Every row of every table, as pg_dump (or, without it, SELECT) shows them."""
    base, _, options = dsn.partition("?")
    schema = options.rsplit("%3D", 1)[-1]
    if shutil.which("pg_dump"):
        return subprocess.run(
            ["pg_dump", "--data-only", "-n", schema, base], check=True, capture_output=True, text=True
        ).stdout
    import psycopg

    with psycopg.connect(dsn) as db:
        tables = [r[0] for r in db.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,))]
        return "\n".join(str(db.execute(f"SELECT * FROM {t}").fetchall()) for t in tables)
