"""Typed list filters (issue 11, item 2): every adapter reads a filter's value the same way, in the
Adapter base, and a value of the wrong form is a ConfigError naming the filter and the forms it takes."""

from __future__ import annotations

import datetime as dt

import pytest

import staffbridge
from staffbridge.faces.cli.main import main
from staffbridge.model.errors import ConfigError
from staffbridge.sandbox.moco import MocoSandbox
from staffbridge.sandbox.whosoff import WhosOffSandbox
from staffbridge.sdk.filters import BOOLEAN, LIST, TIMESTAMP, parse_filters

WHOSOFF = dict(app_id="f-app", client_secret="f-secret", username="admin@example.com", password="f-password")
TRUE_FORMS = (True, "true", "TRUE", "yes", "1", 1, "on")
FALSE_FORMS = (False, "false", "no", "0", 0, "off")


@pytest.fixture(scope="module")
def moco():
    with MocoSandbox(seed_people=20, api_key="filter-key") as sandbox:
        yield staffbridge.connect("moco", base_url=sandbox.url, api_key="filter-key")


@pytest.fixture(scope="module")
def whosoff():
    with WhosOffSandbox(seed_people=20, **WHOSOFF) as sandbox:
        yield staffbridge.connect("whosoff", base_url=sandbox.url, **WHOSOFF)


def files(tmp_path):
    rows = "first_name,last_name,email,active\nAda,Lovelace,ada@example.com,yes\nAlan,Turing,alan@example.com,no\n"
    (tmp_path / "staff.csv").write_text(rows)
    (tmp_path / "staff.jsonl").write_text(
        '{"first_name": "Ada", "email": "ada@example.com", "active": true}\n'
        '{"first_name": "Alan", "email": "alan@example.com", "active": false}\n'
    )
    return {
        "csv": staffbridge.connect("csv", path=tmp_path / "staff.csv"),
        "jsonl": staffbridge.connect("jsonl", path=tmp_path / "staff.jsonl"),
    }


def ids(adapter, **filters):
    return sorted(p.id for p in adapter.list(**filters))


@pytest.mark.parametrize("system", ["moco", "whosoff"])
def test_every_form_of_a_boolean_filter_means_the_same_in_http_adapters(system, request):
    adapter = request.getfixturevalue(system)
    active, inactive = ids(adapter, active=True), ids(adapter, active=False)
    assert active and inactive  # the sandboxes seed both
    for form in TRUE_FORMS:
        assert ids(adapter, active=form) == active, form
    for form in FALSE_FORMS:
        assert ids(adapter, active=form) == inactive, form


def test_every_form_of_a_boolean_filter_means_the_same_in_file_adapters(tmp_path):
    for adapter in files(tmp_path).values():
        for form in TRUE_FORMS:
            assert [p.first_name for p in adapter.list(active=form)] == ["Ada"], form
        for form in FALSE_FORMS:
            assert [p.first_name for p in adapter.list(active=form)] == ["Alan"], form


@pytest.mark.parametrize("system", ["moco", "whosoff", "csv", "jsonl"])
def test_a_value_of_the_wrong_form_names_the_filter_and_the_forms(system, request, tmp_path):
    adapter = files(tmp_path)[system] if system in ("csv", "jsonl") else request.getfixturevalue(system)
    with pytest.raises(ConfigError, match=r"filter 'active': 'maybe' is not true/false, yes/no, 1/0") as caught:
        adapter.list(active="maybe")  # raised at the call, before any request
    assert caught.value.setting == "active"


def test_lists_and_dates_are_parsed_one_way(moco):
    everyone = list(moco.list(include_archived="yes"))
    two = [everyone[0].id, everyone[1].id]
    both = dict(include_archived=True)
    assert ids(moco, ids=",".join(two), **both) == ids(moco, ids=two, **both) == sorted(two)
    assert ids(moco, updated_after="2000-01-01", include_archived="1") == sorted(p.id for p in everyone)
    assert ids(moco, updated_after="2999-01-01T00:00:00Z") == []
    with pytest.raises(ConfigError, match=r"filter 'updated_after': 'last week' is not an ISO 8601 date"):
        moco.list(updated_after="last week")


def test_the_kinds_themselves():
    declared = {"on": BOOLEAN, "tags": LIST, "since": TIMESTAMP}
    assert parse_filters("x", declared, {"on": "Yes", "tags": "a, b", "since": "2024-05-01T09:30:00Z"}) == {
        "on": True,
        "tags": ["a", "b"],
        "since": dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.UTC),
    }
    assert parse_filters("x", declared, {"since": dt.date(2024, 5, 1), "on": None}) == {
        "since": dt.date(2024, 5, 1),
        "on": None,
    }
    with pytest.raises(ConfigError, match="unknown filter 'nope'; supported: on, tags, since"):
        parse_filters("x", declared, {"nope": 1})


@pytest.mark.parametrize("form", ["yes", "1", "true"])
def test_the_cli_filter_takes_every_form(form, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STAFFBRIDGE_CONFIG", raising=False)
    files(tmp_path)
    assert main(["list", "staff.csv", "--json", "--filter", f"active={form}"]) == 0
    out = capsys.readouterr().out
    assert "Ada" in out and "Alan" not in out
    assert main(["list", "staff.jsonl", "--json", "--filter", "active=maybe"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "filter 'active'" in err
