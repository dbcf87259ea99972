"""The WhosOff v4 emulator, spoken to over real HTTP with plain `requests`."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import uuid

import pytest
import requests

from staffbridge.sandbox.people import sample_person
from staffbridge.sandbox.server import RateLimit
from staffbridge.sandbox.whosoff import ADMIN_USER_ID, WhosOffBackend, WhosOffSandbox
from staffbridge.sdk.registry import sandbox_class

APP_ID, CLIENT_SECRET = "sandbox-app", "sandbox-client-secret"
FIXED_TOKEN = "fixed-token"
FULL_FIELDS = [
    "user_id",
    "status_id",
    "staff_code",
    "title",
    "first_name",
    "middle_name",
    "last_name",
    "user_type_id",
    "default_view_type_id",
    "default_view_id",
    "default_sorting_id",
    "department_id",
    "region_id",
    "approver_id",
    "approver_role_id",
    "email_contact",
    "notifier_2_id",
    "notifier_2_role_id",
    "notifier_3_id",
    "notifier_3_role_id",
    "email_type_id",
    "allowance_type_id",
    "active_directory_username",
    "employment_started_date",
    "employment_ended_date",
    "work_telephone",
    "mobile_telephone",
    "last_logins",
    "image_url_small",
    "image_url_large",
    "google_unique_id",
    "mfa_method_id",
    "password_policy",
    "lockout_date",
]
RETRIEVE_FIELDS = [
    "user_id",
    "status_id",
    "staff_code",
    "title",
    "first_name",
    "last_name",
    "email_contact",
    "email_type_id",
    "approver_id",
    "approver_first_name",
    "approver_last_name",
    "department_id",
    "department_name",
    "region_id",
    "region_name",
    "user_type_id",
    "notifier_2_id",
    "notifier_3_id",
    "allowance_type_id",
    "this_year_remaining",
    "next_year_remaining",
]
V41_EXTRA = {
    "approver_role_id",
    "notifier_2_role_id",
    "notifier_2_first_name",
    "notifier_2_last_name",
    "notifier_3_role_id",
    "notifier_3_first_name",
    "notifier_3_last_name",
    "image_url_small",
    "image_url_large",
}
DEPARTMENT = 123456 + 1  # "Entwicklung"


@pytest.fixture(scope="module")
def server():
    with WhosOffSandbox(seed_people=50, access_token=FIXED_TOKEN) as sb:
        yield sb


@pytest.fixture()
def sb(server):
    server.faults.clear()
    return server


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        yield session


def secret_for(nonce: str, secret: str = CLIENT_SECRET, encoding: str = "hex") -> str:
    digest = hashlib.sha512((nonce + secret).encode()).digest()
    return base64.b64encode(digest).decode() if encoding == "base64" else digest.hex()


def handshake(http, sb, nonce=None, path="/v4/authenticate/with-credentials/", app_id=APP_ID, **overrides):
    nonce = nonce or uuid.uuid4().hex
    body = {
        "username": "admin@example.com",
        "password": "sandbox-password",
        "ip_address": "127.0.0.1",
        "nonce": nonce,
        "secret": secret_for(nonce),
        "app_id": APP_ID,
        "delay": False,
        **overrides,
    }
    headers = {"app-id": app_id} if app_id else {}
    return http.post(sb.root + path, json=body, headers=headers)


def call(http, sb, method, path, token=FIXED_TOKEN, app_id=APP_ID, headers=None, **kwargs):
    headers = {**({"app-id": app_id} if app_id else {}), **(headers or {})}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return http.request(method, sb.url + path, headers=headers, **kwargs)


def codes(response) -> list[str]:
    return [error["Code"] for error in response.json()["Errors"]]


def valid_user(**overrides):
    body = {
        "staff_code": "N001",
        "title": "Dr.",
        "first_name": "Ada",
        "middle_name": "",
        "last_name": "Lovelace",
        "user_type_id": "100",
        "default_view_type_id": "1",
        "default_view_id": str(DEPARTMENT),
        "default_sorting_id": "0",
        "department_id": str(DEPARTMENT),
        "region_id": "2001",
        "approver_id": str(ADMIN_USER_ID),
        "approver_role_id": "1",
        "notifier_2_id": "0",
        "notifier_2_role_id": "0",
        "notifier_3_id": "0",
        "notifier_3_role_id": "0",
        "email_contact": f"ada.{uuid.uuid4().hex[:8]}@example.com",
        "password": "s3cret",
        "email_type_id": "2",
        "allowance_type_id": "0",
        "status_id": "1",
        "work_telephone": "+49 40 1",
        "mobile_telephone": "+49 170 1",
        "active_directory_username": "ada",
        "employment_started_date": "2021-04-01",
        "allowances": [{"start_date": "2026-01-01", "opening": 11250, "remaining": 9000}],
    }
    body.update(overrides)
    return body


def create(http, sb, **overrides) -> int:
    response = call(http, sb, "POST", "/v4/user/create/", json=valid_user(**overrides))
    assert response.status_code == 200, response.text
    return response.json()["Data"]["user_id"]


# ------------------------------------------------------------------------------------------ handshake


def test_handshake_returns_a_token_that_opens_data_calls(http, sb):
    response = handshake(http, sb)
    assert response.status_code == 200
    body = response.json()
    assert body["Errors"] == []
    token = body["Data"]["token"]
    expiry = dt.datetime.fromisoformat(token["token_expiry_date"])
    assert expiry > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=59)
    assert body["Data"]["user"] == {
        "user_id": ADMIN_USER_ID,
        "first_name": "Sandbox",
        "last_name": "Admin",
        "email_address": "admin@example.com",
        "user_type_id": "300",
    }
    me = call(http, sb, "GET", "/v4/user/get-my-details", token=token["access_token"]).json()["Data"]
    assert me["user_id"] == ADMIN_USER_ID and me["last_logins"][0]["device"] == "API"


def test_handshake_also_answers_without_the_version_as_the_curl_sample_shows(http, sb):
    assert handshake(http, sb, path="/authenticate/with-credentials").status_code == 200


def test_a_nonce_works_once(http, sb):
    assert handshake(http, sb, nonce="once-only").status_code == 200
    again = handshake(http, sb, nonce="once-only")
    assert again.status_code == 400 and codes(again) == ["0403"]
    assert again.json()["Data"] is None


@pytest.mark.parametrize(
    "overrides, code",
    [
        ({"secret": "0" * 128}, "0402"),
        ({"password": "wrong"}, "0401"),
        ({"username": "nobody@example.com"}, "0401"),
        ({"app_id": "someone-else"}, "0405"),
    ],
)
def test_handshake_refusals(http, sb, overrides, code):
    response = handshake(http, sb, **overrides)
    assert response.status_code == 400 and codes(response) == [code]


def test_handshake_needs_the_app_id_header_and_every_field(http, sb):
    assert codes(handshake(http, sb, app_id=None)) == ["0405"]
    response = http.post(
        sb.root + "/v4/authenticate/with-credentials", json={"username": "x"}, headers={"app-id": APP_ID}
    )
    assert response.status_code == 400 and set(codes(response)) == {"0400"}
    assert len(response.json()["Errors"]) == 3  # password, nonce and secret


def test_secret_encoding_is_configurable(http, sb):
    assert WhosOffSandbox(seed_people=0, secret_encoding="base64").backend.secret_encoding == "base64"
    sb.backend.secret_encoding = "base64"  # on the running server: a second one costs a slow shutdown
    try:
        assert handshake(http, sb, nonce="n-b64", secret=secret_for("n-b64", encoding="base64")).status_code == 200
        assert codes(handshake(http, sb, nonce="n-hex")) == ["0402"]
    finally:
        sb.backend.secret_encoding = "hex"
    with pytest.raises(ValueError):
        WhosOffBackend(seed_people=0, secret_encoding="base32")


def test_repeated_wrong_passwords_lock_the_account_until_unlocked(http, sb):
    user_id = create(http, sb, email_contact="locker@example.com", password="right")
    for _ in range(5):
        assert codes(handshake(http, sb, username="locker@example.com", password="wrong")) == ["0401"]
    assert codes(handshake(http, sb, username="locker@example.com", password="right")) == ["0407"]
    assert call(http, sb, "GET", f"/v4/user/get-by-id/{user_id}").json()["Data"]["lockout_date"]
    unlocked = call(http, sb, "POST", f"/v4/user/unlock/{user_id}")
    assert unlocked.json() == {"Data": {"Record_ID": str(user_id)}, "Errors": []}
    assert handshake(http, sb, username="locker@example.com", password="right").status_code == 200
    assert call(http, sb, "GET", f"/v4/user/get-by-id/{user_id}").json()["Data"]["lockout_date"] is None


# --------------------------------------------------------------------------------------- bearer calls


def test_tokens_expire_but_the_fixed_access_token_does_not(http, sb):
    token = handshake(http, sb).json()["Data"]["token"]["access_token"]
    assert call(http, sb, "GET", "/v4/user/get-my-details", token=token).status_code == 200
    sb.backend.expire_tokens()
    expired = call(http, sb, "GET", "/v4/user/get-my-details", token=token)
    assert expired.status_code == 400 and codes(expired) == ["0412"]
    assert call(http, sb, "GET", "/v4/user/get-my-details").status_code == 200


@pytest.mark.parametrize(
    "token, app_id, code",
    [
        (None, APP_ID, "0410"),
        ("not-a-token", APP_ID, "0411"),
        (FIXED_TOKEN, None, "0405"),
        (FIXED_TOKEN, "wrong-app", "0405"),
    ],
)
def test_data_calls_need_bearer_and_app_id(http, sb, token, app_id, code):
    response = call(http, sb, "GET", "/v4/user/get-my-details/", token=token, app_id=app_id)
    assert response.status_code == 400
    body = response.json()
    assert body["Data"] is None and codes(response) == [code]
    assert set(body) == {"Data", "Errors"} and set(body["Errors"][0]) == {"Code", "Message"}


def test_user_level_is_enforced(http, sb):
    staff_id = create(http, sb, user_type_id="100")
    token, _ = sb.backend.issue_token(staff_id)
    assert codes(call(http, sb, "POST", "/v4/user/create", token=token, json=valid_user())) == ["0413"]
    assert codes(call(http, sb, "POST", "/v4/user/my-staff", token=token, json={"staff_filter": "0"})) == ["0413"]
    assert call(http, sb, "GET", f"/v4/user/get-by-id/{staff_id}", token=token).status_code == 200


def test_unknown_endpoint_and_wrong_method_are_404_in_the_envelope(http, sb):
    missing = call(http, sb, "GET", "/v4/user/everything")
    assert missing.status_code == 404 and codes(missing) == ["0404"]
    assert call(http, sb, "GET", "/v4/user/create").status_code == 404


def test_malformed_json_is_a_400_envelope(http, sb):
    response = call(http, sb, "POST", "/v4/user/create", data="{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and codes(response) == ["0200"]


# ----------------------------------------------------------------------------------------------- users


def test_create_answers_only_the_id_and_images_and_get_by_id_reads_everything(http, sb):
    body = valid_user()
    response = call(http, sb, "POST", "/v4/user/create/", json=body)
    assert response.status_code == 200
    data = response.json()["Data"]
    assert set(data) == {"user_id", "image_url_small", "image_url_large", "forceMFA"}
    assert isinstance(data["user_id"], int) and data["forceMFA"] is False
    record = call(http, sb, "GET", f"/v4/user/get-by-id/{data['user_id']}").json()["Data"]
    assert list(record) == FULL_FIELDS
    assert record["user_type_id"] == "100" and record["status_id"] == "1" and record["email_type_id"] == "2"
    assert record["department_id"] == DEPARTMENT and record["default_sorting_id"] == 0
    assert record["approver_id"] == ADMIN_USER_ID and record["approver_role_id"] == "1"
    assert record["employment_started_date"] == "2021-04-01" and record["employment_ended_date"] is None
    assert record["email_contact"] == body["email_contact"] and "password" not in record


def test_create_accepts_numbers_where_the_samples_send_strings(http, sb):
    user_id = create(http, sb, user_type_id=200, department_id=DEPARTMENT, approver_id=0, email_type_id=0)
    record = call(http, sb, "GET", f"/v4/user/get-by-id/{user_id}").json()["Data"]
    assert record["user_type_id"] == "200" and record["approver_id"] == 0 and record["email_type_id"] == "0"


def test_create_names_every_failing_field(http, sb):
    empty = call(http, sb, "POST", "/v4/user/create", json={})
    assert empty.status_code == 400 and set(codes(empty)) == {"0201"}
    named = {e["Message"].split()[0] for e in empty.json()["Errors"]}
    assert named == {
        "first_name",
        "last_name",
        "user_type_id",
        "default_view_type_id",
        "department_id",
        "approver_id",
        "notifier_2_id",
        "notifier_3_id",
        "email_contact",
        "password",
        "email_type_id",
        "allowance_type_id",
    }
    bad = call(
        http,
        sb,
        "POST",
        "/v4/user/create",
        json=valid_user(
            user_type_id="150",
            default_view_type_id="3",
            department_id="999",
            approver_id="abc",
            email_contact="a@b",
            mobile_telephone="9" * 31,
            employment_started_date="01.04.2021",
            allowances=[{"start_date": "2026-01-01", "opening": 60}],
        ),
    )
    errors = {e["Message"].split()[0].rstrip(":"): e["Code"] for e in bad.json()["Errors"]}
    assert errors == {
        "user_type_id": "0203",
        "default_view_type_id": "0203",
        "department_id": "0205",
        "approver_id": "0202",
        "email_contact": "0204",
        "mobile_telephone": "0204",
        "employment_started_date": "0202",
        "allowances[0].remaining": "0201",
    }


def test_email_contact_is_unique(http, sb):
    create(http, sb, email_contact="twice@example.com")
    again = call(http, sb, "POST", "/v4/user/create", json=valid_user(email_contact="TWICE@example.com"))
    assert codes(again) == ["0206"]


def test_user_limit_and_missing_allowance_warning(http, sb):
    sb.backend.warn_missing_allowances = True
    try:
        response = call(http, sb, "POST", "/v4/user/create", json=valid_user(allowances=None))
        assert response.status_code == 200 and codes(response) == ["004a"]
    finally:
        sb.backend.warn_missing_allowances = False
    sb.backend.user_limit = len(sb.backend.users)
    try:
        assert codes(call(http, sb, "POST", "/v4/user/create", json=valid_user())) == ["00422"]
    finally:
        sb.backend.user_limit = None


def test_get_by_id_of_a_missing_user(http, sb):
    missing = call(http, sb, "GET", "/v4/user/get-by-id/999")
    assert missing.status_code == 400 and codes(missing) == ["0300"]
    assert codes(call(http, sb, "GET", "/v4/user/get-by-id/abc")) == ["0202"]


def test_seeded_people_are_the_shared_sample_staff(http, sb):
    person = sample_person(7)
    record = call(http, sb, "GET", f"/v4/user/get-by-id/{ADMIN_USER_ID + 1 + 7}").json()["Data"]
    assert (record["first_name"], record["last_name"], record["email_contact"]) == (
        person.first_name,
        person.last_name,
        person.email,
    )
    assert record["staff_code"] == person.employee_number
    assert record["employment_started_date"] == person.employment_start.isoformat()
    assert record["status_id"] == ("1" if person.active else "0")
    expected_type = {"Teamleitung": "200", "Administrator": "300"}.get(person.role, "100")
    assert record["user_type_id"] == expected_type


def retrieve(http, sb, version="v4", **filters):
    body = {"map_type_id": "0", "map_id": "0", "status_id": "99", **filters}
    response = call(http, sb, "POST", f"/{version}/user/retrieve/", json=body)
    assert response.status_code == 200, response.text
    return response.json()["Data"]


def test_retrieve_lists_the_whole_company_in_the_list_shape(http, sb):
    everyone = retrieve(http, sb)
    assert len(everyone) == len(sb.backend.users)
    assert list(everyone[1]) == RETRIEVE_FIELDS
    first = everyone[1]
    assert first["department_name"] == sample_person(0).department
    assert first["approver_first_name"] and first["this_year_remaining"] > 0
    active = retrieve(http, sb, status_id="1")
    disabled = retrieve(http, sb, status_id=0)
    assert len(active) + len(disabled) == len(everyone) and disabled
    assert {u["status_id"] for u in disabled} == {"0"}


def test_retrieve_filters(http, sb):
    department = retrieve(http, sb, map_type_id="1", map_id=str(DEPARTMENT))
    assert department and {u["department_id"] for u in department} == {DEPARTMENT}
    remote = next(tag_id for tag_id, name in sb.backend.tags.items() if name == "Remote")
    tagged = retrieve(http, sb, map_type_id="2", map_id=remote)
    assert tagged and all(remote in sb.backend.users[u["user_id"]].tags for u in tagged)
    one = retrieve(http, sb, map_type_id="3", map_id=ADMIN_USER_ID + 3)
    assert [u["user_id"] for u in one] == [ADMIN_USER_ID + 3]
    mine = retrieve(http, sb, map_type_id="4", map_id="0")
    assert mine and {u["approver_id"] for u in mine} == {ADMIN_USER_ID}
    approver = department[0]["approver_id"]
    by_approver = retrieve(http, sb, map_type_id="5", map_id=approver)
    assert {u["approver_id"] for u in by_approver} == {approver}
    last_name = sample_person(4).last_name
    named = retrieve(http, sb, last_name=last_name[:3].lower())
    assert named and all(u["last_name"].lower().startswith(last_name[:3].lower()) for u in named)


def test_retrieve_v41_adds_roles_and_notifier_names(http, sb):
    record = retrieve(http, sb, "v4.1", map_type_id="3", map_id=ADMIN_USER_ID + 1)[0]
    assert set(record) == set(RETRIEVE_FIELDS) | V41_EXTRA


def test_retrieve_needs_its_filters(http, sb):
    response = call(http, sb, "POST", "/v4/user/retrieve", json={"last_name": "x"})
    assert response.status_code == 400
    assert [e["Message"].split()[0] for e in response.json()["Errors"]] == ["map_type_id", "map_id", "status_id"]
    assert codes(
        call(http, sb, "POST", "/v4/user/retrieve", json={"map_type_id": "9", "map_id": "0", "status_id": "2"})
    ) == ["0203", "0203"]


def test_update_needs_the_whole_record_so_clients_read_then_merge(http, sb):
    user_id = create(http, sb, work_telephone="+49 1", password="keep-me")
    partial = call(http, sb, "PUT", "/v4/user/update/", json={"user_id": str(user_id), "first_name": "Augusta"})
    assert partial.status_code == 400
    assert "0201" in codes(partial) and any("department_id" in e["Message"] for e in partial.json()["Errors"])

    record = call(http, sb, "GET", f"/v4/user/get-by-id/{user_id}").json()["Data"]
    merged = {**record, "first_name": "Augusta", "user_id": str(user_id)}
    updated = call(http, sb, "PUT", "/v4/user/update/", json=merged)
    assert updated.status_code == 200
    assert set(updated.json()["Data"]) == {"user_id", "image_url_small", "image_url_large", "forceMFA"}
    after = call(http, sb, "GET", f"/v4/user/get-by-id/{user_id}").json()["Data"]
    assert after["first_name"] == "Augusta" and after["work_telephone"] == "+49 1"
    assert after["employment_started_date"] == record["employment_started_date"]
    assert sb.backend.users[user_id].password == "keep-me"


def test_update_replaces_optional_fields_left_out(http, sb):
    user_id = create(http, sb, work_telephone="+49 2")
    body = {k: v for k, v in valid_user().items() if k not in ("work_telephone", "password", "allowances")}
    body.update(user_id=user_id, email_contact=f"re.{user_id}@example.com")
    assert call(http, sb, "PUT", "/v4/user/update", json=body).status_code == 200
    assert call(http, sb, "GET", f"/v4/user/get-by-id/{user_id}").json()["Data"]["work_telephone"] == ""


def test_update_of_a_missing_user_and_without_id(http, sb):
    assert codes(call(http, sb, "PUT", "/v4/user/update", json=valid_user(user_id="999"))) == ["0300"]
    assert codes(call(http, sb, "PUT", "/v4/user/update", json=valid_user())) == ["0201"]


def test_delete_answers_the_standard_response_and_clears_references(http, sb):
    approver = create(http, sb, user_type_id="200")
    staff = create(http, sb, approver_id=str(approver))
    deleted = call(http, sb, "DELETE", f"/v4/user/del/{approver}")
    assert deleted.status_code == 200
    assert deleted.json() == {"Data": {"Record_ID": str(approver)}, "Errors": []}
    assert codes(call(http, sb, "GET", f"/v4/user/get-by-id/{approver}")) == ["0300"]
    assert call(http, sb, "GET", f"/v4/user/get-by-id/{staff}").json()["Data"]["approver_id"] == 0
    assert codes(call(http, sb, "DELETE", f"/v4/user/del/{approver}")) == ["0300"]
    assert codes(call(http, sb, "DELETE", f"/v4/user/del/{ADMIN_USER_ID}")) == ["0301"]


def test_unlock_clears_a_seeded_lockout(http, sb):
    locked = ADMIN_USER_ID + 1 + 39
    assert call(http, sb, "GET", f"/v4/user/get-by-id/{locked}").json()["Data"]["lockout_date"]
    assert call(http, sb, "POST", f"/v4/user/unlock/{locked}/").status_code == 200
    assert call(http, sb, "GET", f"/v4/user/get-by-id/{locked}").json()["Data"]["lockout_date"] is None


def test_get_approvers(http, sb):
    approvers = call(http, sb, "GET", "/v4/user/get-approvers/").json()["Data"]
    assert approvers and all(a["user_type_id"] in {"200", "210", "220", "300", "310"} for a in approvers)
    assert set(approvers[0]) == {"user_id", "first_name", "last_name", "user_type_id", "email_contact"}
    assert ADMIN_USER_ID in {a["user_id"] for a in approvers}


def test_my_staff_lists_the_callers_staff(http, sb):
    response = call(http, sb, "POST", "/v4/user/my-staff/", json={"staff_filter": "0"})
    assert response.status_code == 200
    data = response.json()["Data"]
    expected = {u.user_id for u in sb.backend.users.values() if u.approver_id == ADMIN_USER_ID}
    assert {s["user_id"] for s in data["staff_overview"]} == expected
    assert data["overview"]["staff_total"] == len(expected)
    assert "remaining_this_year" in data["staff_overview"][0]


# --------------------------------------------------------------------------------- faults and seeding


def test_injected_faults_and_the_optional_rate_limit(http, sb):
    sb.faults.inject("503", path="get-my-details")
    assert call(http, sb, "GET", "/v4/user/get-my-details").status_code == 503
    assert call(http, sb, "GET", "/v4/user/get-my-details").status_code == 200
    sb.faults.inject("500", path="user/create", after=True)
    body = valid_user()
    assert call(http, sb, "POST", "/v4/user/create", json=body).status_code == 500
    assert codes(call(http, sb, "POST", "/v4/user/create", json=body)) == ["0206"]  # the write happened
    saved, sb.rate_limit = sb.rate_limit, RateLimit(1, 60.0)
    try:
        assert call(http, sb, "GET", "/v4/user/get-my-details").status_code == 200
        refused = call(http, sb, "GET", "/v4/user/get-my-details")
        assert refused.status_code == 429 and codes(refused) == ["0429"]
    finally:
        sb.rate_limit = saved


def test_the_registry_finds_the_sandbox():
    assert sandbox_class("whosoff") is WhosOffSandbox


def test_seeding_100000_people():
    backend = WhosOffBackend(seed_people=100_000)
    assert len(backend.users) == 100_001
    last = backend.users[ADMIN_USER_ID + 100_000]
    assert last.email_contact == sample_person(99_999).email
    assert all(u.approver_id in backend.users for u in list(backend.users.values())[1:1000])
