"""`staffbridge sandbox` (issue 11, item 9): it prints the credentials each emulator accepts and a
`staffbridge.toml` that works as printed, says how faults are injected and cleared, and takes --json."""

from __future__ import annotations

import io
import json

import pytest

from staffbridge.faces.cli.main import main
from staffbridge.sdk.config import load_config

VENDORS = ("moco", "whosoff", "fieldservice")


def serve_and(check, *argv):
    """Runs `staffbridge sandbox ...`; while it serves, `check(stdout so far)`; then Ctrl-C."""
    out, err = io.StringIO(), io.StringIO()
    seen = {}

    def sleep(seconds):
        seen["result"] = check(out.getvalue())
        raise KeyboardInterrupt

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("staffbridge.faces.cli.sandbox.time.sleep", sleep)
        code = main(["sandbox", *VENDORS, "--people", "3", *argv], stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    return out.getvalue(), seen["result"]


def listed_through(config_text, tmp_path):
    path = tmp_path / "staffbridge.toml"
    path.write_text(config_text)
    config = load_config(str(path))
    counts = {}
    for vendor in VENDORS:
        with config.system(vendor).connect() as adapter:
            counts[vendor] = len(list(adapter.list()))
    return counts


def test_the_printed_config_connects_to_every_emulator(tmp_path):
    def check(text):
        return listed_through(text.split("# staffbridge.toml for these sandboxes:\n", 1)[1], tmp_path)

    out, counts = serve_and(check)
    assert all(counts[vendor] > 0 for vendor in VENDORS), counts  # each accepted the credentials
    assert "api_key = sandbox-key" in out  # the credentials, beside each URL
    assert "app_id = sandbox-app" in out and "client_secret = sandbox-client-secret" in out
    assert "password = sandbox-password" in out and "username = admin@example.com" in out
    assert "curl -X DELETE http://127.0.0.1:" in out and "/_sandbox/faults" in out  # clearing faults


def test_json_describes_the_same(tmp_path):
    def check(text):
        described = json.loads(text)
        return described, listed_through(described["config"], tmp_path)

    _, (described, counts) = serve_and(check, "--json")
    rows = {row["vendor"]: row for row in described["sandboxes"]}
    assert rows["moco"]["settings"] == {"base_url": rows["moco"]["url"], "api_key": "sandbox-key"}
    assert rows["whosoff"]["settings"]["client_secret"] == "sandbox-client-secret"
    assert rows["fieldservice"]["faults"].endswith("/_sandbox/faults") and described["faults"]["clear"] == "DELETE"
    assert all(counts[vendor] > 0 for vendor in VENDORS), counts
