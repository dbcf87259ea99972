"""The MOCO emulator behaves like MOCO's users API: talked to over real HTTP with plain requests."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import pytest
import requests

from staffbridge.sandbox.moco import EMPLOYMENT_ID_BASE, UNIT_ID_BASE, USER_ID_BASE, MocoBackend, MocoSandbox
from staffbridge.sandbox.people import sample_person
from staffbridge.sandbox.server import RateLimit
from staffbridge.sdk.registry import sandbox_class

KEY = "sandbox-key"
AUTH = {"Authorization": f"Token token={KEY}"}
READ_KEYS = [
    "id",
    "firstname",
    "lastname",
    "active",
    "extern",
    "email",
    "mobile_phone",
    "work_phone",
    "home_address",
    "info",
    "birthday",
    "iban",
    "avatar_url",
    "tags",
    "custom_properties",
    "unit",
    "role",
    "created_at",
    "updated_at",
]


@pytest.fixture(scope="module")
def server() -> Iterator[MocoSandbox]:
    """One running sandbox for the module; each test resets its state (stopping a server costs 0.5 s)."""
    with MocoSandbox(seed_people=12) as sandbox:
        yield sandbox


@pytest.fixture
def sb(server: MocoSandbox) -> MocoSandbox:
    """12 people, fresh for every test, default settings."""
    server.reset(12)
    server.per_page, server.lowercase_headers, server.rate_limit = 100, False, RateLimit()
    return server


@pytest.fixture
def big(sb: MocoSandbox) -> MocoSandbox:
    """250 people: more than two pages of 100."""
    sb.reset(250)
    return sb


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.headers.update(AUTH)
        yield session


def new_user(**fields: object) -> dict[str, object]:
    return {
        "firstname": "Carmen",
        "lastname": "Sandiego",
        "email": "Carmen.Sandiego@Acme.example",
        "password": "dAfsdf88fw8fKjtD28f293!",
        "unit_id": UNIT_ID_BASE,
        **fields,
    }


def active_ids(sandbox: MocoSandbox) -> list[int]:
    return sorted(u.id for u in sandbox.backend.users.values() if u.active)


# ------------------------------------------------------------------------------------ registry, auth


def test_registry_names_the_moco_sandbox_and_its_settings() -> None:
    assert sandbox_class("moco") is MocoSandbox
    sandbox = MocoSandbox(
        seed_people=3, api_key="k", rate_limit=5, rate_window=10, retry_after=True, per_page=7, lowercase_headers=True
    )
    assert sandbox.name == "moco" and sandbox.url.endswith("/api/v1") and len(sandbox.backend.users) == 3
    assert (sandbox.api_key, sandbox.per_page, sandbox.lowercase_headers) == ("k", 7, True)
    assert (sandbox.rate_limit.limit, sandbox.rate_limit.window, sandbox.rate_limit.retry_after) == (5, 10, True)


@pytest.mark.parametrize("header", [None, "Token token=wrong", "Bearer wrong", f"Basic {KEY}", KEY])
def test_missing_or_wrong_key_is_401_with_a_message(big: MocoSandbox, header: str | None) -> None:
    response = requests.get(big.url + "/users", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert isinstance(response.json()["message"], str)


@pytest.mark.parametrize("header", [f"Token token={KEY}", f'Token token="{KEY}"', f"Bearer {KEY}"])
def test_both_documented_auth_headers_are_accepted(big: MocoSandbox, header: str) -> None:
    assert requests.get(big.url + "/users", headers={"Authorization": header}).status_code == 200


def test_session_names_the_key_holder(big: MocoSandbox, http: requests.Session) -> None:
    body = http.get(big.url + "/session").json()
    assert isinstance(body["id"], int) and len(body["uuid"]) == 36
    assert requests.get(big.url + "/session").status_code == 401


# ------------------------------------------------------------------------------------ list, pagination


def test_pages_follow_link_headers_until_the_last_page(big: MocoSandbox, http: requests.Session) -> None:
    first = http.get(big.url + "/users")
    assert first.status_code == 200
    assert first.headers["X-Page"] == "1" and first.headers["X-Per-Page"] == "100"
    assert first.headers["X-Total"] == str(len(active_ids(big)))
    assert len(first.json()) == 100
    assert first.headers["Link"] == f'<{big.root}/api/v1/users.json?page=2>; rel="next"'
    seen, response, pages = [u["id"] for u in first.json()], first, 1
    while "Link" in response.headers:
        next_url = response.headers["Link"].split(">")[0][1:]
        response = http.get(next_url)
        pages += 1
        seen += [u["id"] for u in response.json()]
    assert pages == 3 and response.headers["X-Page"] == "3"
    assert seen == active_ids(big)  # default order: by id


def test_link_keeps_every_other_query_param(big: MocoSandbox, http: requests.Session) -> None:
    response = http.get(
        big.url + "/users", params={"include_archived": "true", "sort_by": "lastname desc", "page": "2"}
    )
    assert response.headers["X-Total"] == "250"
    assert response.headers["Link"] == (
        f'<{big.root}/api/v1/users.json?include_archived=true&sort_by=lastname+desc&page=3>; rel="next"'
    )
    last = http.get(response.headers["Link"].split(">")[0][1:])
    assert "Link" not in last.headers and len(last.json()) == 50


def test_page_past_the_end_is_an_empty_array(big: MocoSandbox, http: requests.Session) -> None:
    response = http.get(big.url + "/users", params={"page": 99})
    assert response.json() == [] and response.headers["X-Page"] == "99" and "Link" not in response.headers


def test_lowercase_headers_like_the_2023_recordings(sb: MocoSandbox, http: requests.Session) -> None:
    sb.lowercase_headers, sb.per_page = True, 2
    names = list(http.get(sb.url + "/users").raw.headers.keys())
    assert {"x-page", "x-per-page", "x-total", "link"} <= set(names)
    assert "X-Page" not in names


def test_small_pages_for_tests(sb: MocoSandbox, http: requests.Session) -> None:
    sb.per_page = 3
    response = http.get(sb.url + "/users", params={"include_archived": "true"})
    assert response.headers["X-Per-Page"] == "3" and len(response.json()) == 3
    assert response.headers["Link"].endswith('page=2>; rel="next"')


# ------------------------------------------------------------------------------------ read shape


def test_users_come_in_the_documented_read_shape(big: MocoSandbox, http: requests.Session) -> None:
    user = http.get(big.url + "/users").json()[0]
    assert list(user) == READ_KEYS
    person = sample_person(user["id"] - USER_ID_BASE)
    assert (user["firstname"], user["lastname"], user["email"]) == (person.first_name, person.last_name, person.email)
    assert user["birthday"] == person.birthday.isoformat()
    assert user["unit"]["name"] == person.department and isinstance(user["unit"]["id"], int)
    assert user["role"]["name"] == person.role
    assert user["iban"] == "" and user["avatar_url"] is None
    assert dt.datetime.strptime(user["created_at"], "%Y-%m-%dT%H:%M:%SZ")
    for write_only in ("password", "language", "welcome_email", "external", "bday", "unit_id"):
        assert write_only not in user


def test_get_one_user_and_404(big: MocoSandbox, http: requests.Session) -> None:
    assert http.get(f"{big.url}/users/{USER_ID_BASE + 3}").json()["id"] == USER_ID_BASE + 3
    assert http.get(f"{big.url}/users/{USER_ID_BASE + 3}.json").status_code == 200
    missing = http.get(f"{big.url}/users/1")
    assert missing.status_code == 404 and "message" in missing.json()


# ------------------------------------------------------------------------------------ filters


def test_archived_users_only_on_request(big: MocoSandbox, http: requests.Session) -> None:
    archived = [u.id for u in big.backend.users.values() if not u.active]
    assert archived
    default = http.get(big.url + "/users", params={"ids": ",".join(map(str, archived))}).json()
    assert default == []
    included = http.get(
        big.url + "/users", params={"ids": ",".join(map(str, archived)), "include_archived": "true"}
    ).json()
    assert sorted(u["id"] for u in included) == sorted(archived)


def test_filter_by_email_ids_and_tags(big: MocoSandbox, http: requests.Session) -> None:
    person = next(u for u in big.backend.users.values() if u.active)
    found = http.get(big.url + "/users", params={"email": person.email.upper()}).json()
    assert [u["id"] for u in found] == [person.id]
    ids = active_ids(big)[:3]
    assert [u["id"] for u in http.get(big.url + "/users", params={"ids": f"{ids[0]},{ids[2]},x"}).json()] == [
        ids[0],
        ids[2],
    ]
    tagged = http.get(big.url + "/users", params={"tags": "Remote, teilzeit", "include_archived": "true"})
    expected = {u.id for u in big.backend.users.values() if {"Remote", "Teilzeit"} & set(u.tags)}
    assert {u["id"] for u in tagged.json()} == expected


def test_updated_after_is_strict(big: MocoSandbox, http: requests.Session) -> None:
    moments = sorted({u.updated_at for u in big.backend.users.values() if u.active})
    cut = moments[len(moments) // 2]
    response = http.get(big.url + "/users", params={"updated_after": cut.strftime("%Y-%m-%dT%H:%M:%SZ")})
    expected = sum(1 for u in big.backend.users.values() if u.active and u.updated_at > cut)
    assert response.headers["X-Total"] == str(expected)
    assert http.get(big.url + "/users", params={"updated_after": "yesterday"}).status_code == 422


def test_custom_property_filters(big: MocoSandbox, http: requests.Session) -> None:
    number = sample_person(10).employee_number
    found = http.get(
        big.url + "/users", params={"custom_properties[Personalnummer]": number, "include_archived": "true"}
    ).json()
    assert [u["id"] for u in found] == [USER_ID_BASE + 10]
    unknown = http.get(big.url + "/users", params={"custom_properties[Nope]": "x"})
    assert unknown.status_code == 200 and unknown.json() == []


def test_multiselect_custom_properties_need_every_value(sb: MocoSandbox, http: requests.Session) -> None:
    both = http.post(sb.url + "/users", json=new_user(custom_properties={"Skills": ["Python", "SQL"]})).json()
    http.post(sb.url + "/users", json=new_user(email="solo@acme.example", custom_properties={"Skills": ["SQL"]}))
    query = "custom_properties[Skills][]=Python&custom_properties[Skills][]=SQL"
    assert [u["id"] for u in http.get(f"{sb.url}/users?{query}").json()] == [both["id"]]
    assert len(http.get(f"{sb.url}/users?custom_properties[Skills]=SQL").json()) == 2


def test_sort_by_field_and_direction(big: MocoSandbox, http: requests.Session) -> None:
    names = [u["lastname"] for u in http.get(big.url + "/users", params={"sort_by": "lastname"}).json()]
    assert names == sorted(names)
    newest = http.get(big.url + "/users", params={"sort_by": "id desc"}).json()[0]
    assert newest["id"] == max(active_ids(big))


# ------------------------------------------------------------------------------------ writes


def test_create_answers_200_with_the_read_shape(sb: MocoSandbox, http: requests.Session) -> None:
    response = http.post(
        sb.url + "/users",
        json=new_user(
            active=False,
            external=True,
            language="de-CH",
            bday="1975-01-17",
            role_id=min(sb.backend.roles),
            tags=["Schweiz"],
            custom_properties={"Starting Month": "01.01.2016"},
            home_address="Carmen Sandiego\nBeispielstrasse 123\nBeispielstadt",
            welcome_email=True,
            avatar={"filename": "me.png", "base64": "aGVsbG8="},
        ),
    )
    assert response.status_code == 200
    user = response.json()
    assert list(user) == READ_KEYS
    assert user["email"] == "carmen.sandiego@acme.example"  # lower-cased by the server
    assert (user["active"], user["extern"], user["birthday"]) == (False, True, "1975-01-17")
    assert user["unit"] == {"id": UNIT_ID_BASE, "name": sb.backend.units[UNIT_ID_BASE].name}
    assert user["mobile_phone"] == "" and user["info"] == ""
    assert user["avatar_url"].endswith("/me.png")
    stored = sb.backend.users[user["id"]]
    assert (stored.language, stored.welcome_email, stored.password) == ("de-CH", True, "dAfsdf88fw8fKjtD28f293!")
    assert http.get(f"{sb.url}/users/{user['id']}").json() == user


def test_read_names_sent_on_write_are_ignored(sb: MocoSandbox, http: requests.Session) -> None:
    user = http.post(
        sb.url + "/users", json=new_user(extern=True, birthday="1970-01-01", unit={"id": 1, "name": "x"})
    ).json()
    assert (user["extern"], user["birthday"], user["unit"]["id"]) == (False, None, UNIT_ID_BASE)
    no_unit = http.post(
        sb.url + "/users", json={**new_user(email="u@acme.example"), "unit_id": None, "unit": {"id": UNIT_ID_BASE}}
    )
    assert no_unit.status_code == 422 and "unit_id" in no_unit.json()["message"]


def test_password_is_optional(sb: MocoSandbox, http: requests.Session) -> None:
    body = new_user()
    del body["password"]
    assert http.post(sb.url + "/users", json=body).status_code == 200


@pytest.mark.parametrize(
    "body, field",
    [
        ({"lastname": "X", "email": "x@acme.example", "unit_id": UNIT_ID_BASE}, "firstname"),
        ({"firstname": "X", "email": "x@acme.example", "unit_id": UNIT_ID_BASE}, "lastname"),
        ({"firstname": "X", "lastname": "Y", "unit_id": UNIT_ID_BASE}, "email"),
        ({"firstname": "X", "lastname": "Y", "email": "x@acme.example"}, "unit_id"),
        (new_user(unit_id=1), "unit_id"),
        (new_user(role_id=1), "role_id"),
        (new_user(email="not-an-email"), "email"),
        (new_user(language="es"), "language"),
        (new_user(bday="17.01.1975"), "bday"),
        (new_user(iban="DE00123"), "iban"),
        (new_user(tags="Schweiz"), "tags"),
    ],
)
def test_invalid_creates_are_422_naming_the_field(
    sb: MocoSandbox, http: requests.Session, body: dict[str, object], field: str
) -> None:
    response = http.post(sb.url + "/users", json=body)
    assert response.status_code == 422
    assert field in response.json()["message"]


def test_taken_email_is_422_case_insensitively(sb: MocoSandbox, http: requests.Session) -> None:
    taken = sb.backend.users[USER_ID_BASE].email.upper()
    response = http.post(sb.url + "/users", json=new_user(email=taken))
    assert response.status_code == 422 and "email" in response.json()["message"]


def test_writes_need_a_json_content_type(sb: MocoSandbox, http: requests.Session) -> None:
    response = http.post(
        sb.url + "/users", data="firstname=Carmen", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 415 and "message" in response.json()
    broken = http.post(sb.url + "/users", data="{not json", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and "message" in broken.json()


def test_update_changes_fields_and_updated_at(sb: MocoSandbox, http: requests.Session) -> None:
    later = dt.datetime(2031, 5, 6, 7, 8, 9, tzinfo=dt.UTC)
    sb.backend.clock = lambda: later
    user_id = USER_ID_BASE + 2
    before = http.get(f"{sb.url}/users/{user_id}").json()
    response = http.put(
        f"{sb.url}/users/{user_id}",
        json={"lastname": "Casanova", "email": "NEW@Acme.example", "bday": None, "external": "true"},
    )
    assert response.status_code == 200
    after = response.json()
    assert (after["lastname"], after["email"], after["birthday"], after["extern"]) == (
        "Casanova",
        "new@acme.example",
        None,
        True,
    )
    assert after["firstname"] == before["firstname"] and after["created_at"] == before["created_at"]
    assert after["updated_at"] == "2031-05-06T07:08:09Z"
    # the old address is free again, the new one taken
    assert http.post(sb.url + "/users", json=new_user(email=before["email"])).status_code == 200
    assert http.post(sb.url + "/users", json=new_user(email="new@acme.example")).status_code == 422


def test_update_validates_and_404s(sb: MocoSandbox, http: requests.Session) -> None:
    assert http.put(f"{sb.url}/users/{USER_ID_BASE}", json={"firstname": ""}).status_code == 422
    assert http.put(f"{sb.url}/users/{USER_ID_BASE}", json={"unit_id": 5}).status_code == 422
    assert http.put(f"{sb.url}/users/1", json={"firstname": "X"}).status_code == 404


def test_delete_is_204_empty_then_gone(sb: MocoSandbox, http: requests.Session) -> None:
    response = http.delete(f"{sb.url}/users/{USER_ID_BASE + 1}")
    assert response.status_code == 204 and response.content == b""
    assert http.get(f"{sb.url}/users/{USER_ID_BASE + 1}").status_code == 404
    assert not http.get(sb.url + "/users/employments", params={"user_id": USER_ID_BASE + 1}).json()


def test_delete_refused_once_hours_are_billed(sb: MocoSandbox, http: requests.Session) -> None:
    sb.backend.mark_billed(USER_ID_BASE + 4)
    response = http.delete(f"{sb.url}/users/{USER_ID_BASE + 4}")
    assert response.status_code == 422 and "billed" in response.json()["message"]
    assert http.get(f"{sb.url}/users/{USER_ID_BASE + 4}").status_code == 200


def test_list_reflects_writes_between_pages(sb: MocoSandbox, http: requests.Session) -> None:
    sb.reset(0)
    sb.per_page = 2
    for n in range(3):
        http.post(sb.url + "/users", json=new_user(email=f"p{n}@acme.example"))
    assert http.get(sb.url + "/users").headers["X-Total"] == "3"
    http.post(sb.url + "/users", json=new_user(email="p3@acme.example"))
    assert http.get(sb.url + "/users", params={"page": 2}).headers["X-Total"] == "4"
    sb.reset(5)
    assert http.get(sb.url + "/users", params={"include_archived": "true"}).headers["X-Total"] == "5"


# ------------------------------------------------------------------------------------ other resources


def test_performance_report_shape(sb: MocoSandbox, http: requests.Session) -> None:
    sb.backend.clock = lambda: dt.datetime(2024, 6, 15, 12, tzinfo=dt.UTC)
    user_id = USER_ID_BASE + 3
    report = http.get(f"{sb.url}/users/{user_id}/performance_report", params={"year": 2023}).json()
    assert list(report["annually"]) == [
        "year",
        "employment_hours",
        "target_hours",
        "hours_tracked_total",
        "variation",
        "variation_until_today",
        "hours_billable_total",
    ]
    assert len(report["monthly"]) == 12 and [m["month"] for m in report["monthly"]] == list(range(1, 13))
    assert list(report["monthly"][0]) == [
        "year",
        "month",
        "target_hours",
        "hours_tracked_total",
        "variation",
        "hours_billable_total",
    ]
    assert report == http.get(f"{sb.url}/users/{user_id}/performance_report?year=2023").json()
    current = http.get(f"{sb.url}/users/{user_id}/performance_report").json()
    assert current["annually"]["year"] == 2024 and current["monthly"][11]["hours_tracked_total"] == 0.0
    fresh = http.post(sb.url + "/users", json=new_user()).json()
    empty = http.get(f"{sb.url}/users/{fresh['id']}/performance_report").json()
    assert empty["annually"]["target_hours"] == 0.0  # no employment, no target
    assert http.get(f"{sb.url}/users/1/performance_report").status_code == 404


def test_roles_come_from_the_shared_sample(sb: MocoSandbox, http: requests.Session) -> None:
    roles = http.get(sb.url + "/users/roles").json()
    assert [r["name"] for r in roles] == ["Mitarbeiter", "Entwickler", "Teamleitung", "Administrator"]
    assert sum(r["is_default"] for r in roles) == 1 and sum(r["is_admin"] for r in roles) == 1
    assert {"report", "companies", "people", "time_tracking", "invoicing"} <= set(roles[0]["permission"])


def test_units_embed_their_users(sb: MocoSandbox, http: requests.Session) -> None:
    units = http.get(sb.url + "/units")
    assert units.headers["X-Total"] == "6"
    first = units.json()[0]
    assert first["name"] == "Geschäftsleitung"
    members = [u for u in sb.backend.users.values() if u.unit_id == first["id"]]
    assert sorted(u["id"] for u in first["users"]) == sorted(u.id for u in members)
    assert list(first["users"][0]) == ["id", "firstname", "lastname", "email"]
    assert http.get(f"{sb.url}/units/{first['id']}").json() == first
    assert http.get(f"{sb.url}/units/1").status_code == 404


def test_unit_crud_and_refusal_while_staffed(sb: MocoSandbox, http: requests.Session) -> None:
    unit = http.post(sb.url + "/units", json={"name": "Labor"}).json()
    assert unit["users"] == []
    assert http.put(f"{sb.url}/units/{unit['id']}", json={"name": "Lab"}).json()["name"] == "Lab"
    assert http.delete(f"{sb.url}/units/{UNIT_ID_BASE}").status_code == 422
    assert http.delete(f"{sb.url}/units/{unit['id']}").status_code == 204


def test_seeded_employments_and_filters(sb: MocoSandbox, http: requests.Session) -> None:
    listing = http.get(sb.url + "/users/employments")
    assert listing.headers["X-Total"] == "12"
    employment = http.get(sb.url + "/users/employments", params={"user_id": USER_ID_BASE}).json()[0]
    person = sample_person(0)
    assert employment["id"] == EMPLOYMENT_ID_BASE
    assert employment["from"] == person.employment_start.isoformat() and employment["to"] is None
    assert employment["user"] == {"id": USER_ID_BASE, "firstname": person.first_name, "lastname": person.last_name}
    assert len(employment["pattern"]["am"]) == 5 and isinstance(employment["weekly_target_hours"], float)
    before = http.get(sb.url + "/users/employments", params={"from": "2000-01-01", "to": "2000-12-31"})
    assert before.json() == []


def test_employment_create_update_delete(sb: MocoSandbox, http: requests.Session) -> None:
    created = http.post(
        sb.url + "/users/employments",
        json={"user_id": USER_ID_BASE, "pattern": {"am": [2, 2, 2, 2, 2], "pm": [2, 2, 2, 2, 2]}, "from": "2020-02-01"},
    )
    assert created.status_code == 200
    employment = created.json()
    assert employment["weekly_target_hours"] == 20.0 and employment["pattern"]["am"] == [2.0] * 5
    assert employment["to"] is None
    updated = http.put(f"{sb.url}/users/employments/{employment['id']}", json={"to": "2020-12-31"}).json()
    assert updated["to"] == "2020-12-31" and updated["from"] == "2020-02-01"
    assert http.get(f"{sb.url}/users/employments/{employment['id']}").json() == updated
    assert http.delete(f"{sb.url}/users/employments/{employment['id']}").status_code == 204
    assert http.get(f"{sb.url}/users/employments/{employment['id']}").status_code == 404


@pytest.mark.parametrize(
    "body, field",
    [
        ({"pattern": {"am": [4] * 5, "pm": [4] * 5}}, "user_id"),
        ({"user_id": USER_ID_BASE}, "pattern"),
        ({"user_id": USER_ID_BASE, "pattern": {"am": [4] * 4, "pm": [4] * 5}}, "pattern"),
        ({"user_id": 1, "pattern": {"am": [4] * 5, "pm": [4] * 5}}, "user_id"),
        (
            {
                "user_id": USER_ID_BASE,
                "pattern": {"am": [4] * 5, "pm": [4] * 5},
                "from": "2020-02-01",
                "to": "2020-01-01",
            },
            "to",
        ),
    ],
)
def test_invalid_employments_are_422(
    sb: MocoSandbox, http: requests.Session, body: dict[str, object], field: str
) -> None:
    response = http.post(sb.url + "/users/employments", json=body)
    assert response.status_code == 422 and field in response.json()["message"]


# ------------------------------------------------------------------------------------ limits, faults


def test_rate_limit_without_retry_after(sb: MocoSandbox, http: requests.Session) -> None:
    sb.rate_limit = RateLimit(2)
    assert [http.get(sb.url + "/users").status_code for _ in range(3)] == [200, 200, 429]
    refused = http.get(sb.url + "/users")
    assert "Retry-After" not in refused.headers and "message" in refused.json()


def test_rate_limit_with_retry_after(sb: MocoSandbox, http: requests.Session) -> None:
    sb.rate_limit = RateLimit(1, window=30, retry_after=True)
    http.get(sb.url + "/users")
    refused = http.get(sb.url + "/users")
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 30


def test_injected_503_and_connection_reset(sb: MocoSandbox, http: requests.Session) -> None:
    sb.faults.inject("503")
    assert http.get(sb.url + "/users").status_code == 503
    sb.faults.inject("reset")
    with pytest.raises(requests.ConnectionError):
        http.get(sb.url + "/users")
    assert http.get(sb.url + "/users").status_code == 200


def test_write_applied_before_the_fault_hides_the_answer(sb: MocoSandbox, http: requests.Session) -> None:
    sb.faults.inject("503", method="POST", after=True)
    assert http.post(sb.url + "/users", json=new_user()).status_code == 503
    assert http.get(sb.url + "/users", params={"email": "carmen.sandiego@acme.example"}).json()


def test_unknown_paths_and_methods_are_404(sb: MocoSandbox, http: requests.Session) -> None:
    assert http.get(sb.url + "/nope").status_code == 404
    assert http.post(f"{sb.url}/users/{USER_ID_BASE}", json={}).status_code == 404


# ------------------------------------------------------------------------------------ scale


def test_seeds_100000_people_quickly_and_pages_them() -> None:
    started = time.perf_counter()
    backend = MocoBackend(100_000)
    # a loose guard against accidentally quadratic seeding, not a benchmark (tests/bench/ measures speed)
    assert time.perf_counter() - started < 15
    assert len(backend.users) == 100_000 and len(backend.employments) == 100_000
    last = backend.users[USER_ID_BASE + 99_999]
    assert last.email == sample_person(99_999).email
    assert len(backend.find_users(include_archived=True)) == 100_000
