"""The v2 field-service emulator, spoken to over real HTTP with plain requests."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from staffbridge.sandbox.fieldservice import FieldServiceBackend, FieldServiceSandbox
from staffbridge.sandbox.people import sample_person
from staffbridge.sandbox.server import RateLimit

KEY = {"x-API-Key": "sandbox-key"}
UNKNOWN_ID = "0123456789abcdef01234567"


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[tuple, FieldServiceSandbox]]:
    """One running server per set of options for the whole module: stopping one costs 0.5 s."""
    running: dict[tuple, FieldServiceSandbox] = {}
    yield running
    stoppers = [threading.Thread(target=sandbox.stop) for sandbox in running.values()]
    for stopper in stoppers:
        stopper.start()
    for stopper in stoppers:
        stopper.join()


@pytest.fixture
def start(servers: dict[tuple, FieldServiceSandbox]) -> Any:
    """A sandbox with the given options, in the state a fresh one would have: ten seeded people."""

    def _start(**options: Any) -> FieldServiceSandbox:
        options.setdefault("seed_people", 10)
        key = tuple(sorted(options.items()))
        if key not in servers:
            servers[key] = FieldServiceSandbox(**options).start()
        sandbox = servers[key]
        sandbox.backend = FieldServiceBackend()
        sandbox.backend.seed(options["seed_people"])
        sandbox.faults.clear()
        limit = sandbox.rate_limit
        sandbox.rate_limit = RateLimit(limit.limit, limit.window, limit.retry_after)
        return sandbox

    return _start


@pytest.fixture
def sb(start: Any) -> FieldServiceSandbox:
    return start()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.headers.update(KEY)
        yield session


def new_user(**overrides: Any) -> dict[str, Any]:
    user = {
        "id": "36920",
        "general": {
            "firstName": "John",
            "lastName": "Doe",
            "sex": "male",
            "birthDate": "15.08.1990",
            "language": "de",
            "badges": [{"type": "experience", "level": "senior"}],
        },
        "access": {"dashboardAccess": True, "password": "s3cret", "webAccess": "1", "email": "john@company.com"},
        "contract": {
            "startDate": "2023-01-01T00:00:00Z",
            "endDate": "2024-12-31T23:59:59Z",
            "department": "service",
            "salary": 15.5,
            "remainingLeave": [{"year": 2023, "days": 5}],
        },
        "contact": {"telephone": "+1-555-123-4567", "mobile": "+1-555-987-6543"},
        "address": {"street": "Hauptstraße 1", "zip": "10115", "city": "Berlin", "country": "DE"},
        "accessGroupId": "service",
        "totalTargetHours": 40,
        "tags": ["full-time", "certified"],
        "workedOnObjectIds": ["507f1f77bcf86cd799439011"],
    }
    user.update(overrides)
    return user


def create(sb: FieldServiceSandbox, http: requests.Session, body: dict[str, Any]) -> str:
    answer = http.post(f"{sb.url}/v2/users/", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()["_id"]


# ---------------------------------------------------------------------------------------------- create


def test_create_answers_201_with_only_the_id(sb, http):
    answer = http.post(f"{sb.url}/v2/users/", json=new_user())
    assert answer.status_code == 201
    assert list(answer.json()) == ["_id"]
    assert re.fullmatch(r"[0-9a-f]{24}", answer.json()["_id"])
    assert answer.headers["Content-Type"].startswith("application/json")


def test_created_user_reads_back_as_the_full_document(sb, http):
    user_id = create(sb, http, new_user())
    user = http.get(f"{sb.url}/v2/users/{user_id}").json()
    assert user["_id"] == user_id
    assert user["number"] == 11  # after ten seeded users
    assert user["general"]["birthDate"] == "15.08.1990"
    assert user["contract"]["startDate"] == "2023-01-01T00:00:00Z"
    assert user["contract"]["department"] == "service"
    assert user["access"]["email"] == "john@company.com"
    assert user["tags"] == ["full-time", "certified"]
    assert user["status"]["status"] == 1
    assert user["status"]["createdAt"].endswith("Z")
    assert re.fullmatch(r"[0-9a-f-]{36}", user["access"]["token"])
    assert user["access"]["loginTries"] == 0


def test_create_without_trailing_slash_works_too(sb, http):
    assert http.post(f"{sb.url}/v2/users", json=new_user()).status_code == 201


def test_server_owned_fields_sent_by_the_client_are_ignored(sb, http):
    body = new_user(
        _id="aaaaaaaaaaaaaaaaaaaaaaaa",
        number=999,
        companyId="bbbbbbbbbbbbbbbbbbbbbbbb",
        status={"status": 7, "createdAt": "2000-01-01T00:00:00Z"},
        chatId="cccccccccccccccccccccccc",
        implementation={"hasJob": True, "isSuccessfullyImplemented": True},
        analytics={"createdProfile": "2000-01-01T00:00:00Z"},
    )
    body["access"].update(token="client-token", loginTries=42)
    user_id = create(sb, http, body)
    user = http.get(f"{sb.url}/v2/users/{user_id}").json()
    assert user_id != "aaaaaaaaaaaaaaaaaaaaaaaa"
    assert user["number"] == 11
    assert user["companyId"] != "bbbbbbbbbbbbbbbbbbbbbbbb"
    assert user["status"]["status"] == 1 and user["status"]["createdAt"] != "2000-01-01T00:00:00Z"
    assert user["chatId"] is None
    assert user["access"]["token"] != "client-token" and user["access"]["loginTries"] == 0
    assert user["implementation"]["isSuccessfullyImplemented"] is False
    assert user["analytics"]["createdProfile"] == user["status"]["createdAt"]


def test_password_is_stored_but_never_returned(sb, http):
    user_id = create(sb, http, new_user())
    assert sb.backend.check_password(user_id, "s3cret")
    patched = http.patch(f"{sb.url}/v2/users/{user_id}", json={"access": {"password": "n3w"}}).json()
    fetched = http.get(f"{sb.url}/v2/users/{user_id}").json()
    listed = [u for u in http.get(f"{sb.url}/v2/users/").json() if u["_id"] == user_id]
    for shown in (patched, fetched, listed[0]):
        assert "password" not in shown["access"]
    assert sb.backend.check_password(user_id, "n3w")


def test_login_id_may_be_a_number_or_a_numeric_string(sb, http):
    as_number = create(sb, http, new_user(id=36920))
    as_string = create(sb, http, new_user(id="36921", access={"email": "other@company.com"}))
    assert http.get(f"{sb.url}/v2/users/{as_number}").json()["id"] == 36920
    assert http.get(f"{sb.url}/v2/users/{as_string}").json()["id"] == "36921"


def test_tags_may_be_null_and_offsets_become_utc(sb, http):
    body = new_user(tags=None)
    body["contract"]["startDate"] = "2023-01-01T02:00:00+02:00"
    user = http.get(f"{sb.url}/v2/users/{create(sb, http, body)}").json()
    assert user["tags"] is None
    assert user["contract"]["startDate"] == "2023-01-01T00:00:00Z"


# ---------------------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"general": {"birthDate": "1990-08-15"}}, "general.birthDate must be a valid date in the format DD.MM.YYYY"),
        ({"general": {"birthDate": "31.02.1990"}}, "general.birthDate must be a valid date in the format DD.MM.YYYY"),
        ({"access": {"email": "not-an-email"}}, "access.email must be an email"),
        ({"general": "John Doe"}, "general must be an object"),
        ({"contract": {"startDate": "01.01.2023"}}, "contract.startDate must be a valid ISO 8601 date string"),
        ({"tags": "certified"}, "tags must be an array"),
        ({"tags": [1]}, "tags.0 must be a string"),
        ({"id": "abc"}, "id must be a number or a numeric string"),
        ({"setUpDone": "yes"}, "setUpDone must be a boolean value"),
        ({"general": {"badges": [{"kind": "x"}]}}, "property general.badges.0.kind should not exist"),
        ({"firstName": "John"}, "property firstName should not exist"),
    ],
)
def test_invalid_bodies_are_refused_with_every_problem_named(sb, http, change, problem):
    answer = http.post(f"{sb.url}/v2/users/", json=new_user(**change))
    assert answer.status_code == 400
    assert answer.json()["statusCode"] == 400 and answer.json()["error"] == "Bad Request"
    assert problem in answer.json()["message"]
    assert len(sb.backend.users) == 10  # nothing stored


def test_several_problems_are_reported_at_once(sb, http):
    answer = http.post(f"{sb.url}/v2/users/", json={"general": {"birthDate": "x"}, "access": {"email": "y"}})
    assert len(answer.json()["message"]) == 2


def test_login_email_must_be_unique_regardless_of_case(sb, http):
    create(sb, http, new_user())
    answer = http.post(f"{sb.url}/v2/users/", json=new_user(access={"email": "JOHN@company.com"}))
    assert answer.status_code == 400
    assert answer.json()["message"] == ["access.email already exists"]


def test_malformed_json_is_a_400(sb, http):
    answer = http.post(f"{sb.url}/v2/users/", data=b"{nope", headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.json()["statusCode"] == 400


# ---------------------------------------------------------------------------------------------- read


def test_list_without_pagination_returns_every_user(sb, http):
    users = http.get(f"{sb.url}/v2/users/").json()
    assert [u["number"] for u in users] == list(range(1, 11))
    assert "X-Total-Count" not in http.get(f"{sb.url}/v2/users").headers


def test_seeded_users_render_the_shared_sample_people(sb, http):
    person = sample_person(3)
    user = http.get(f"{sb.url}/v2/users/").json()[3]
    assert user["number"] == int(person.employee_number[1:])
    assert user["general"]["firstName"] == person.first_name
    assert user["general"]["birthDate"] == person.birthday.strftime("%d.%m.%Y")
    assert user["access"]["email"] == person.email
    assert user["contract"]["department"] == person.department
    assert user["contract"]["startDate"] == f"{person.employment_start.isoformat()}T00:00:00Z"
    assert user["address"]["city"] == person.city
    assert user["accessGroupId"] in {"worker", "service", "teamlead", "admin"}


def test_get_refuses_a_malformed_id_and_misses_an_unknown_one(sb, http):
    malformed = http.get(f"{sb.url}/v2/users/123")
    assert malformed.status_code == 400 and malformed.json()["error"] == "Bad Request"
    unknown = http.get(f"{sb.url}/v2/users/{UNKNOWN_ID}")
    assert unknown.status_code == 404 and unknown.json()["statusCode"] == 404


def test_unknown_route_is_a_nest_404(sb, http):
    answer = http.get(f"{sb.url}/v2/people")
    assert answer.status_code == 404
    assert answer.json()["message"] == "Cannot GET /v2/people"


def test_page_pagination(start, http):
    sb = start(pagination="page", page_size=4)
    answer = http.get(f"{sb.url}/v2/users/", params={"page": 2, "limit": 3})
    assert [u["number"] for u in answer.json()] == [4, 5, 6]
    assert answer.headers["X-Total-Count"] == "10"
    assert [u["number"] for u in http.get(f"{sb.url}/v2/users/", params={"page": 3}).json()] == [9, 10]
    assert http.get(f"{sb.url}/v2/users/", params={"page": 0}).status_code == 400


def test_skip_pagination(start, http):
    sb = start(pagination="skip", page_size=4)
    answer = http.get(f"{sb.url}/v2/users/", params={"skip": 8, "limit": 5})
    assert [u["number"] for u in answer.json()] == [9, 10]
    assert answer.headers["X-Total-Count"] == "10"
    assert len(http.get(f"{sb.url}/v2/users/").json()) == 4
    assert http.get(f"{sb.url}/v2/users/", params={"limit": "many"}).status_code == 400


# ---------------------------------------------------------------------------------------------- update / delete


def test_patch_deep_merges_and_bumps_last_modified(sb, http):
    user_id = create(sb, http, new_user())
    before = http.get(f"{sb.url}/v2/users/{user_id}").json()
    answer = http.patch(
        f"{sb.url}/v2/users/{user_id}", json={"general": {"firstName": "Johnny"}, "tags": None, "number": 5}
    )
    assert answer.status_code == 200
    after = answer.json()
    assert after["general"] == {**before["general"], "firstName": "Johnny"}
    assert after["tags"] is None and after["number"] == before["number"]
    assert after["status"]["lastModifiedAt"] > before["status"]["lastModifiedAt"]
    assert after["status"]["createdAt"] == before["status"]["createdAt"]
    assert http.get(f"{sb.url}/v2/users/{user_id}").json() == after


def test_patch_validates_and_changing_the_email_frees_the_old_one(sb, http):
    user_id = create(sb, http, new_user())
    bad = http.patch(f"{sb.url}/v2/users/{user_id}", json={"general": {"birthDate": "1990"}})
    assert bad.status_code == 400
    taken = http.patch(f"{sb.url}/v2/users/{user_id}", json={"access": {"email": sample_person(0).email}})
    assert taken.status_code == 400
    assert http.patch(f"{sb.url}/v2/users/{user_id}", json={"access": {"email": "new@company.com"}}).ok
    assert http.post(f"{sb.url}/v2/users/", json=new_user()).status_code == 201  # john@company.com is free


def test_patch_with_null_access_keeps_the_server_owned_keys(sb, http):
    user_id = create(sb, http, new_user())
    token = http.get(f"{sb.url}/v2/users/{user_id}").json()["access"]["token"]
    after = http.patch(f"{sb.url}/v2/users/{user_id}", json={"access": None}).json()
    assert after["access"] == {"token": token, "loginTries": 0}


def test_patch_of_unknown_user_is_404(sb, http):
    assert http.patch(f"{sb.url}/v2/users/{UNKNOWN_ID}", json={"setUpDone": True}).status_code == 404


def test_put_mode_replaces_the_document_but_keeps_server_fields(start, http):
    sb = start(update_verb="PUT")
    user_id = create(sb, http, new_user())
    before = http.get(f"{sb.url}/v2/users/{user_id}").json()
    assert http.patch(f"{sb.url}/v2/users/{user_id}", json={}).status_code == 404
    answer = http.put(
        f"{sb.url}/v2/users/{user_id}", json={"general": {"firstName": "Jane"}, "access": {"email": "jane@company.com"}}
    )
    assert answer.status_code == 200
    after = answer.json()
    assert after["general"] == {"firstName": "Jane"}
    assert "contract" not in after and "tags" not in after
    for key in ("_id", "number", "companyId", "chatId", "implementation", "analytics"):
        assert after[key] == before[key]
    assert after["access"]["token"] == before["access"]["token"]
    assert sb.backend.check_password(user_id, "s3cret")  # a PUT cannot send back what it never read


def test_delete_answers_200_and_the_user_is_gone(sb, http):
    user_id = create(sb, http, new_user())
    answer = http.delete(f"{sb.url}/v2/users/{user_id}")
    assert answer.status_code == 200 and answer.json()["_id"] == user_id
    assert "password" not in answer.json()["access"]
    assert http.get(f"{sb.url}/v2/users/{user_id}").status_code == 404
    assert http.delete(f"{sb.url}/v2/users/{user_id}").status_code == 404
    assert http.post(f"{sb.url}/v2/users/", json=new_user()).status_code == 201  # email freed


# ---------------------------------------------------------------------------------------------- auth, faults


def test_missing_or_wrong_key_is_401(sb):
    missing = requests.get(f"{sb.url}/v2/users/")
    assert missing.status_code == 401
    assert missing.json() == {"statusCode": 401, "message": "API key is missing", "error": "Unauthorized"}
    wrong = requests.get(f"{sb.url}/v2/users/", headers={"x-API-Key": "nope"})
    assert wrong.status_code == 401 and wrong.json()["message"] == "Invalid API key"


def test_key_header_name_is_case_insensitive(sb):
    assert requests.get(f"{sb.url}/v2/users/", headers={"X-API-KEY": "sandbox-key"}).status_code == 200


def test_custom_key(start):
    sb = start(api_key="other")
    assert requests.get(f"{sb.url}/v2/users/", headers={"x-api-key": "other"}).status_code == 200


def test_injected_fault_then_recovery(sb, http):
    sb.faults.inject("503", path=r"^/v2/users")
    assert http.get(f"{sb.url}/v2/users/").status_code == 503
    assert http.get(f"{sb.url}/v2/users/").status_code == 200


def test_fault_after_the_write_keeps_the_user(sb, http):
    sb.faults.inject("500", method="POST", after=True)
    assert http.post(f"{sb.url}/v2/users/", json=new_user()).status_code == 500
    assert len(sb.backend.users) == 11


def test_rate_limit_answers_nest_throttler_429(start, http):
    sb = start(rate_limit=2, retry_after=True)
    assert [http.get(f"{sb.url}/v2/users/").status_code for _ in range(3)] == [200, 200, 429]
    limited = http.get(f"{sb.url}/v2/users/")
    assert limited.json()["message"] == "ThrottlerException: Too Many Requests"
    assert int(limited.headers["Retry-After"]) > 0


def test_options_are_checked():
    with pytest.raises(ValueError):
        FieldServiceSandbox(seed_people=0, pagination="cursor")
    with pytest.raises(ValueError):
        FieldServiceSandbox(seed_people=0, update_verb="POST")


# ---------------------------------------------------------------------------------------------- seeding


def test_seeding_100000_people():
    backend = FieldServiceBackend()
    backend.seed(100_000)
    users = backend.list()
    assert len(users) == 100_000
    last, person = users[-1], sample_person(99_999)
    assert last["number"] == 100_000 and last["access"]["email"] == person.email
    assert len({u["_id"] for u in users}) == 100_000
    assert any(u["tags"] is None for u in users[:10])
    assert {type(u["id"]) for u in users[:2]} == {str, int}
    assert backend.create({"access": {"email": "fresh@company.com"}})
    assert users[-1]["number"] < backend.list()[-1]["number"]
