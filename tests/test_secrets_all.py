"""Planted secrets never appear in anything the command line leaves behind: the cross-cutting check.

Every secret a run touches is planted or collected: the MOCO and field-service API keys, WhosOff's
app id, client secret and admin password (all from environment variables, through ${VAR} in
staffbridge.toml), the WhosOff access tokens the sandbox issued, the nonces sent and the SHA-512
secrets derived from them, the random passwords generated for people created in WhosOff, and
vendor-side tokens stored in field-service records (access.token, general.deviceToken).

Then the command line runs for real (in-process, so DEBUG logging of staffbridge and urllib3 is
captured): migrations between every kind of system (MOCO -> WhosOff, field-service -> JSONL,
JSONL -> WhosOff, MOCO -> field-service with refused writes, a plan without --apply), listings in
every format, a get, and commands that fail (refused credentials). Every stdout and stderr, every
file written (reports as JSON and CSV, SQLite journals with their WAL files, JSONL/CSV targets) and
the DEBUG log are searched for every secret.
"""

from __future__ import annotations

import json

import pytest

from staffbridge.adapters.whosoff_auth import derive_secret
from staffbridge.faces.cli.main import main
from staffbridge.sandbox.fieldservice import FieldServiceSandbox
from staffbridge.sandbox.moco import MocoSandbox
from staffbridge.sandbox.whosoff import WhosOffSandbox

ENV = {
    "MOCO_KEY": "plant-moco-key-8c1f0a",
    "WO_APP_ID": "plant-wo-app-3b7d",
    "WO_CLIENT_SECRET": "plant-wo-client-secret-e49a",
    "WO_PASSWORD": "plant-wo-password-51c2",
    "FS_KEY": "plant-fs-key-0d6e",
}
FS_TOKENS = ("plant-fs-access-token-7a7a", "plant-fs-device-token-9b9b")

CONFIG = """
[systems.moco]
adapter = "moco"
base_url = "{moco}"
api_key = "${{MOCO_KEY}}"
rate_limit = 100000
rate_period = 1.0

[systems.whosoff]
adapter = "whosoff"
base_url = "{whosoff}"
app_id = "${{WO_APP_ID}}"
client_secret = "${{WO_CLIENT_SECRET}}"
username = "admin@example.com"
password = "${{WO_PASSWORD}}"

[systems.fieldservice]
adapter = "fieldservice"
base_url = "{fieldservice}"
api_key = "${{FS_KEY}}"
max_retries = 0

[systems.refusing]
adapter = "moco"
base_url = "{refusing}"
api_key = "${{MOCO_KEY}}"
max_retries = 0
"""
ROLES = '[fields.role.values]\n100 = "Mitarbeiter"\n200 = "Teamleitung"\n300 = "Administrator"\n'

COMMANDS = [
    ["migrate", "moco", "whosoff", "--map", "roles.toml"],  # a plan only
    [
        "migrate",
        "moco",
        "whosoff",
        "--apply",
        "--map",
        "roles.toml",
        "--journal",
        "moco-whosoff.sqlite",
        "--report",
        "moco-whosoff.json",
        "--json",
    ],
    [
        "migrate",
        "fieldservice",
        "team.jsonl",
        "--apply",
        "--journal",
        "fs-jsonl.sqlite",
        "--report",
        "fs-jsonl.csv",
        "--verbose",
    ],
    [
        "migrate",
        "team.jsonl",
        "whosoff",
        "--apply",
        "--journal",
        "jsonl-whosoff.sqlite",
        "--report",
        "jsonl-whosoff.json",
    ],
    ["migrate", "moco", "fieldservice", "--apply", "--journal", "moco-fs.sqlite", "--report", "moco-fs.json"],
    ["list", "whosoff", "--json"],
    ["list", "fieldservice", "--jsonl"],
    ["list", "moco", "--csv"],
    ["list", "whosoff"],
    ["get", "fieldservice", "650000000000000000000001", "--json"],
    ["list", "moco", "--csv"],
    ["list", "refusing"],
    ["migrate", "refusing", "whosoff", "--apply"],
]


@pytest.fixture
def sandboxes():
    with (
        MocoSandbox(seed_people=40, api_key=ENV["MOCO_KEY"]) as moco,
        WhosOffSandbox(
            seed_people=12, app_id=ENV["WO_APP_ID"], client_secret=ENV["WO_CLIENT_SECRET"], password=ENV["WO_PASSWORD"]
        ) as whosoff,
        FieldServiceSandbox(seed_people=8, api_key=ENV["FS_KEY"]) as fieldservice,
        MocoSandbox(seed_people=0, api_key="another-key") as refusing,
    ):
        first = next(iter(fieldservice.backend.users.values()))
        first["access"]["token"] = FS_TOKENS[0]
        first["general"]["deviceToken"] = FS_TOKENS[1]
        yield {"moco": moco, "whosoff": whosoff, "fieldservice": fieldservice, "refusing": refusing}


def collected_secrets(sandboxes) -> set[str]:
    """The planted values, plus every secret the run made: tokens, nonces, derived secrets, passwords."""
    whosoff = sandboxes["whosoff"].backend
    found = set(ENV.values()) | set(FS_TOKENS)
    found |= set(whosoff.tokens)
    for nonce in whosoff.used_nonces:
        found |= {nonce, derive_secret(nonce, ENV["WO_CLIENT_SECRET"])}
    found |= {user.password for user in whosoff.users.values() if user.password}
    return found


def test_no_secret_shows_anywhere_after_a_run_of_every_command(sandboxes, tmp_path, monkeypatch, capsys, debug_logs):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STAFFBRIDGE_CONFIG", raising=False)
    (tmp_path / "staffbridge.toml").write_text(
        CONFIG.format(**{k: sb.url for k, sb in sandboxes.items()}), encoding="utf-8"
    )
    (tmp_path / "roles.toml").write_text(ROLES, encoding="utf-8")
    # some writes refused or lost: failure rows carry requests in their reasons
    sandboxes["fieldservice"].faults.inject("503", count=20, method="POST")
    sandboxes["fieldservice"].faults.inject("500", count=2, method="POST", after=True)

    outputs: dict[str, str] = {}
    codes = {}
    for _number, argv in enumerate(COMMANDS):
        codes[" ".join(argv)] = main(argv)
        out, err = capsys.readouterr()
        outputs[f"stdout of {' '.join(argv)}"] = out
        outputs[f"stderr of {' '.join(argv)}"] = err
    outputs["DEBUG log"] = debug_logs.text
    for path in sorted(tmp_path.iterdir()):
        if path.is_file() and path.name not in ("staffbridge.toml",):
            outputs[f"file {path.name}"] = path.read_bytes().decode("utf-8", errors="replace")

    # the runs did what they should, so the search covers real output
    assert (
        codes[
            "migrate moco whosoff --apply --map roles.toml --journal moco-whosoff.sqlite --report "
            "moco-whosoff.json --json"
        ]
        == 0
    )
    assert codes["list refusing"] == 2 and codes["migrate refusing whosoff --apply"] == 2
    assert codes["migrate moco fieldservice --apply --journal moco-fs.sqlite --report moco-fs.json"] == 1
    assert json.loads((tmp_path / "moco-fs.json").read_text())["totals"]["failed"] >= 1
    report = json.loads((tmp_path / "moco-whosoff.json").read_text())
    assert report["totals"]["create"] >= 20  # people created with generated passwords
    assert {"moco-whosoff.sqlite", "fs-jsonl.csv", "team.jsonl", "jsonl-whosoff.json"} <= {
        p.name for p in tmp_path.iterdir()
    }
    assert "DEBUG" in debug_logs.text or debug_logs.records

    secrets = collected_secrets(sandboxes)
    assert len(secrets) > len(ENV) + 20  # tokens, nonces, derived secrets and passwords were made
    leaks = [
        (secret[:12] + "…", where) for secret in sorted(secrets) for where, text in outputs.items() if secret in text
    ]
    assert leaks == []
    print(
        f"\nsecrets: {len(secrets)} secret values searched for in {len(outputs)} outputs "
        f"({sum(len(t) for t in outputs.values()):,} characters): none found"
    )
