"""`staffbridge tenants ...` and `staffbridge platform status` through the CLI's main; planted secrets
never appear in any output."""

from __future__ import annotations

import io
import json

from staffbridge.faces.cli.main import main
from tests.test_platform_tenants import PLANTED, fernet_key, tenant_file  # noqa: F401 (a fixture)


def run(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue() + err.getvalue()


def test_tenant_commands_and_status_never_show_a_secret(tenant_file, postgres_schema, monkeypatch, caplog):  # noqa: F811
    monkeypatch.setenv("STAFFBRIDGE_DATABASE_URL", postgres_schema)
    monkeypatch.setenv("STAFFBRIDGE_SECRET_KEYS", fernet_key())
    outputs = [
        run("tenants", "add", str(tenant_file)),
        run("tenants", "list"),
        run("tenants", "list", "--json"),
        run("tenants", "show", "acme"),
        run("platform", "status"),
        run("platform", "status", "--json"),
    ]
    assert [code for code, _ in outputs] == [0] * 6
    text = "\n".join(out for _, out in outputs) + caplog.text
    assert "acme" in text and "moco (moco)" in text and '"password": "***"' in text
    assert not [secret for secret in PLANTED if secret in text]
    assert json.loads(outputs[-1][1])[0]["tenant"] == "acme"
    assert run("tenants", "remove", "acme")[0] == 0 and run("tenants", "remove", "acme")[0] == 2
    assert run("tenants", "list", "--json")[1].strip() == "[]"
