"""The WhosOff adapter against the in-process sandbox (a real loopback server)."""

import threading

import pytest

import staffbridge
from staffbridge import (
    AuthenticationError,
    ConfigError,
    MissingReference,
    NotFound,
    Person,
    PersonValidationError,
    Ref,
    ResponseError,
    ServerError,
    VendorValidationError,
)
from staffbridge.adapters.whosoff import WhosOffAdapter
from staffbridge.mapping.converters import Date
from staffbridge.sandbox.whosoff import ADMIN_USER_ID, FIRST_DEPARTMENT_ID, WhosOffSandbox

APP_ID = "test-app-id"
CLIENT_SECRET = "test-client-secret"
USERNAME = "admin@example.com"
PASSWORD = "test-admin-password"
SEEDED = 40


@pytest.fixture
def sb():
    with WhosOffSandbox(
        seed_people=SEEDED,
        app_id=APP_ID,
        client_secret=CLIENT_SECRET,
        username=USERNAME,
        password=PASSWORD,
        access_token="ready-made-token",
    ) as sandbox:
        yield sandbox


def connect(sb, **settings):
    values = dict(
        base_url=sb.url, app_id=APP_ID, username=USERNAME, password=PASSWORD, client_secret=CLIENT_SECRET, max_retries=1
    )
    values.update(settings)
    return staffbridge.connect("whosoff", **{k: v for k, v in values.items() if v is not None})


@pytest.fixture
def wo(sb):
    with connect(sb) as adapter:
        yield adapter


def handshakes(sb):
    return sum(1 for method, path in sb.requests if "authenticate" in path)


def new_person(**changes):
    values = dict(
        first_name="Ada", last_name="Lovelace", email="ada.lovelace@example.com", department=Ref(name="Vertrieb")
    )
    values.update(changes)
    return Person(**values)


# ------------------------------------------------------------------ settings


@pytest.mark.parametrize(
    "settings, setting",
    [
        ({"base_url": None}, "base_url"),
        ({"app_id": None}, "app_id"),
        ({"username": None, "password": None, "client_secret": None}, "access_token"),
        ({"password": None}, "password"),
        ({"client_secret": None}, "client_secret"),
        ({"secret_encoding": "rot13"}, "secret_encoding"),
        ({"ip_address": "not-an-ip"}, "ip_address"),
        ({"defaults": {"user_type_id": "999"}}, "defaults"),
        ({"defaults": {"favourite_colour": "blue"}}, "defaults"),
        ({"date_format": "no format"}, "date_format"),
        ({"retrieve_version": "v5"}, "retrieve_version"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_settings_name_the_setting(sb, settings, setting):
    with pytest.raises(ConfigError) as info:
        connect(sb, **settings)
    assert info.value.setting == setting
    assert PASSWORD not in str(info.value) and CLIENT_SECRET not in str(info.value)


def test_a_ready_token_alone_is_enough(sb):
    with connect(sb, username=None, password=None, client_secret=None, access_token="ready-made-token") as wo:
        assert wo.get(str(ADMIN_USER_ID + 1)).id == str(ADMIN_USER_ID + 1)
    assert handshakes(sb) == 0


def test_capabilities(wo):
    caps = wo.capabilities
    assert caps.pagination == "none" and caps.rate_limit is None
    assert set(caps.filters) >= {"active", "status", "department", "last_name"}
    assert {"unlock", "approvers", "me", "my_staff"} <= set(caps.extras)
    assert set(caps.required_on_create) == {"first_name", "last_name", "email", "department"}


# ------------------------------------------------------------------ authentication


def test_handshake_then_bearer_and_app_id(sb, wo):
    wo.get(str(ADMIN_USER_ID + 1))
    assert sb.requests[0] == ("POST", "/v4/authenticate/with-credentials")
    assert wo.authenticated_user["user_id"] == ADMIN_USER_ID
    nonce = next(iter(sb.backend.used_nonces))
    assert len(nonce) == 32


@pytest.mark.parametrize("encoding, theirs", [("base64", "base64"), ("hex_upper", "HEX")])
def test_secret_encoding(encoding, theirs):
    with WhosOffSandbox(
        seed_people=2,
        app_id=APP_ID,
        client_secret=CLIENT_SECRET,
        username=USERNAME,
        password=PASSWORD,
        secret_encoding=theirs,
    ) as sandbox:
        with connect(sandbox, secret_encoding=encoding) as wo:
            assert wo.me().id == str(ADMIN_USER_ID)
        with connect(sandbox) as wrong:  # hex where base64 is expected
            with pytest.raises(AuthenticationError) as info:
                wrong.me()
            assert info.value.codes == ["0402"]


def test_wrong_credentials_fail_once_without_retrying(sb):
    with connect(sb, password="wrong-password") as wo, pytest.raises(AuthenticationError) as info:
        list(wo.list())
    assert info.value.codes == ["0401"] and "wrong-password" not in str(info.value)
    assert handshakes(sb) == 1  # a retry would count towards WhosOff's lock-out


def test_ip_address_is_sent(sb):
    sb.backend.allowed_ips = {"203.0.113.7"}
    with connect(sb, ip_address="203.0.113.7") as wo:
        assert wo.me().email == USERNAME
    with connect(sb, ip_address="198.51.100.1") as wo, pytest.raises(AuthenticationError):
        wo.me()


def test_an_expired_token_is_replaced_transparently(sb, wo):
    first = wo.get(str(ADMIN_USER_ID + 2))
    sb.backend.expire_tokens()
    assert wo.get(str(ADMIN_USER_ID + 2)) == first
    sb.backend.expire_tokens()
    assert len(list(wo.list())) == SEEDED + 1  # mid-run, in a streamed list
    sb.backend.expire_tokens()
    created = wo.create(new_person(department=Ref(id=str(FIRST_DEPARTMENT_ID))))
    sb.backend.expire_tokens()
    wo.update(created.id, {"title": "Dr."})
    sb.backend.expire_tokens()
    wo.delete(created.id)
    assert handshakes(sb) == 6


def test_a_token_that_stays_refused_is_an_authentication_error(sb, wo):
    wo.me()
    sb.backend.token_lifetime = -10  # every new token is born expired
    sb.backend.expire_tokens()
    with pytest.raises(AuthenticationError) as info:
        wo.me()
    assert info.value.codes == ["0412"]
    assert handshakes(sb) == 2  # refreshed once, then gave up


def test_a_refused_ready_token_without_credentials_is_final(sb):
    with (
        connect(sb, username=None, password=None, client_secret=None, access_token="made-up-token") as wo,
        pytest.raises(AuthenticationError) as info,
    ):
        wo.me()
    assert info.value.codes == ["0411"] and "made-up-token" not in str(info.value)


def test_a_ready_token_falls_back_to_the_handshake(sb):
    with connect(sb, access_token="made-up-token") as wo:
        assert wo.me().email == USERNAME
    assert handshakes(sb) == 1


def test_a_too_low_user_level_is_not_refreshed(sb):
    staff_id = next(u.user_id for u in sb.backend.users.values() if u.user_type_id == "100")
    token, _ = sb.backend.issue_token(staff_id)
    with connect(sb, access_token=token) as wo, pytest.raises(AuthenticationError) as info:
        wo.delete(str(ADMIN_USER_ID + 3))
    assert info.value.codes == ["0413"] and handshakes(sb) == 0


def test_parallel_workers_share_one_handshake(sb, wo):
    errors = []

    def work(n):
        try:
            wo.get(str(ADMIN_USER_ID + 1 + n))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and handshakes(sb) == 1


# ------------------------------------------------------------------ list


def test_list_defaults_to_the_whole_company_in_both_statuses(sb, wo):
    people = list(wo.list())
    assert len(people) == SEEDED + 1
    assert {p.active for p in people} == {True, False}
    first = next(p for p in people if p.id == str(ADMIN_USER_ID + 1))
    assert first.department.name and first.role.name in ("staff", "approver", "super user")


def test_list_filters(sb, wo):
    everyone = list(wo.list())
    active = list(wo.list(active=True))
    assert active and all(p.active for p in active)
    assert len(list(wo.list(active=False))) == len(everyone) - len(active)
    assert len(list(wo.list(status="disabled"))) == len(everyone) - len(active)
    assert len(list(wo.list(status="both", active=None))) == len(everyone)
    sales = list(wo.list(department="Vertrieb"))
    assert sales and {p.department.name for p in sales} == {"Vertrieb"}
    assert [p.id for p in wo.list(department=sales[0].department.id)] == [p.id for p in sales]
    assert [p.id for p in wo.list(department=Ref(name="vertrieb"))] == [p.id for p in sales]
    named = list(wo.list(last_name=everyone[5].last_name))
    assert named and all(p.last_name == everyone[5].last_name for p in named)
    team = list(wo.list(manager_id=str(ADMIN_USER_ID)))
    assert team and all(p.manager_id == str(ADMIN_USER_ID) for p in team)


@pytest.mark.parametrize(
    "filters, setting",
    [
        ({"active": True, "status": "disabled"}, "status"),
        ({"status": "sometimes"}, "status"),
        ({"department": "1", "tag": "3001"}, "tag"),
        ({"tag": "not-an-id"}, "tag"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_filters(wo, filters, setting):
    with pytest.raises(ConfigError) as info:
        list(wo.list(**filters))
    assert info.value.setting == setting


def test_an_unknown_department_name_is_a_missing_reference(wo):
    with pytest.raises(MissingReference) as info:
        list(wo.list(department="Raumfahrt"))
    assert "department" in info.value.errors and "Vertrieb" in str(info.value)


def test_retrieve_v41_gives_avatars_in_the_list(sb):
    with connect(sb, retrieve_version="v4.1") as wo:
        person = next(iter(wo.list()))
    assert person.avatar_url.endswith("/large.png")
    assert person.raw["image_url_small"].endswith("/small.png")
    assert ("POST", "/v4.1/user/retrieve") in sb.requests


def test_trailing_slash_setting(sb):
    with connect(sb, trailing_slash=True) as wo:
        assert len(list(wo.list())) == SEEDED + 1
    assert ("POST", "/v4/user/retrieve/") in sb.requests


def test_a_truncated_list_is_a_response_error(sb, wo):
    wo.me()
    sb.faults.inject("truncated", path="/user/retrieve")
    with pytest.raises(ResponseError):
        list(wo.list())


def test_a_reset_or_5xx_on_retrieve_is_retried(sb, wo):
    wo.me()
    sb.faults.inject("reset", path="/user/retrieve")
    assert len(list(wo.list())) == SEEDED + 1
    sb.faults.inject("html", path="/user/retrieve")  # a proxy's 502 page
    assert len(list(wo.list())) == SEEDED + 1


def test_a_5xx_html_page_after_the_retries_is_a_server_error(sb, wo):
    wo.me()
    sb.faults.inject("html", count=3, path="/user/get-by-id")
    with pytest.raises(ServerError) as info:
        wo.get(str(ADMIN_USER_ID + 1))
    assert info.value.status == 502


# ------------------------------------------------------------------ get


def test_get(wo):
    person = wo.get(str(ADMIN_USER_ID + 1))
    assert person.id == str(ADMIN_USER_ID + 1) and person.employment_start is not None
    assert person.avatar_url.endswith("/large.png") and "last_logins" in person.raw
    assert person.department.id and person.department.name is None  # get-by-id has no names...
    wo.departments()
    assert wo.get(str(ADMIN_USER_ID + 1)).department.name  # ...until departments were looked up


def test_get_missing_or_not_an_id(sb, wo):
    with pytest.raises(NotFound) as info:
        wo.get("999999")
    assert info.value.codes == ["0300"]
    before = len(sb.requests)
    with pytest.raises(NotFound):
        wo.get("not-a-number")
    assert len(sb.requests) == before


def test_me_approvers_my_staff_unlock(sb, wo):
    me = wo.me()
    assert me.id == str(ADMIN_USER_ID) and me.role.name == "super user"
    approvers = wo.approvers()
    assert approvers and all(p.role.id in ("200", "210", "220", "300", "310") for p in approvers)
    staff = wo.my_staff()
    assert staff.people and staff.overview["staff_total"] == len(staff.people)
    locked = next(u for u in sb.backend.users.values() if u.lockout_date)
    wo.unlock(str(locked.user_id))
    assert wo.get(str(locked.user_id)).raw["lockout_date"] is None


# ------------------------------------------------------------------ create


def test_create_returns_what_was_sent_plus_the_id_without_reading_again(sb, wo):
    wo.departments()
    before = len(sb.requests)
    created = wo.create(
        new_person(
            role=Ref(name="approver"),
            manager_id=str(ADMIN_USER_ID),
            employment_start="2024-02-01",
            work_phone="+49 30 1234",
        )
    )
    assert sb.requests[before:] == [("POST", "/v4/user/create")]
    assert created.id and created.role == Ref("200", "approver") and created.manager_id == str(ADMIN_USER_ID)
    assert created.avatar_url.endswith("/large.png") and "password" not in created.raw
    stored = sb.backend.users[int(created.id)]
    assert (stored.user_type_id, stored.approver_id, stored.employment_started_date) == (
        "200",
        ADMIN_USER_ID,
        "2024-02-01",
    )
    assert stored.password and len(stored.password) >= 20  # a generated one
    assert stored.default_view_id == stored.department_id
    again = wo.create(new_person(email="ada2@example.com"), reread=True)
    assert again.raw["last_logins"] == [] and again.email == "ada2@example.com"


def test_create_sends_enums_and_ids_as_strings(sb):
    seen = {}
    original = WhosOffAdapter.call

    def spy(self, method, path, body=None, **kwargs):
        if path.endswith("/create"):
            seen.update(body)
        return original(self, method, path, body, **kwargs)

    with connect(sb) as wo:
        WhosOffAdapter.call = spy
        try:
            wo.create(new_person(department=Ref(id=str(FIRST_DEPARTMENT_ID))), password="S3cure-enough")
        finally:
            WhosOffAdapter.call = original
    for name in (
        "user_type_id",
        "default_view_type_id",
        "department_id",
        "approver_id",
        "notifier_2_id",
        "notifier_3_id",
        "email_type_id",
        "allowance_type_id",
        "status_id",
    ):
        assert isinstance(seen[name], str), name
    assert seen["password"] == "S3cure-enough" and seen["email_contact"] == "ada.lovelace@example.com"


def test_create_without_department_fails_before_any_request(sb, wo):
    with pytest.raises(MissingReference) as info:
        wo.create(new_person(department=None, email="bad@"))
    assert "department" in info.value.errors and "defaults" in str(info.value)
    assert "email" in info.value.errors  # every problem at once
    assert isinstance(info.value, PersonValidationError) and sb.requests == []


def test_a_create_whose_answer_is_lost_is_not_sent_twice(sb, wo):
    sb.faults.inject("reset", path="/user/create", after=True)
    created = wo.create(new_person())
    assert created.id and created.email == "ada.lovelace@example.com"
    assert sum(1 for u in sb.backend.users.values() if u.email_contact == "ada.lovelace@example.com") == 1
    assert [p for m, p in sb.requests].count("/v4/user/create") == 1


def test_a_default_department_makes_it_optional(sb):
    with connect(sb, defaults={"department_id": FIRST_DEPARTMENT_ID + 2, "user_type_id": "200"}) as wo:
        created = wo.create(new_person(department=None))
    stored = sb.backend.users[int(created.id)]
    assert (stored.department_id, stored.user_type_id) == (FIRST_DEPARTMENT_ID + 2, "200")


def test_create_with_an_unknown_department_or_role_names_it(sb, wo):
    with pytest.raises(MissingReference) as info:
        wo.create(new_person(department=Ref(name="Raumfahrt")))
    assert "department" in info.value.errors
    with pytest.raises(MissingReference) as info:
        wo.create(new_person(role=Ref(name="emperor")))
    assert "role" in info.value.errors and "super user" in str(info.value)


def test_create_password_rules(sb):
    with connect(sb, generate_password=False) as wo:
        with pytest.raises(PersonValidationError) as info:
            wo.create(new_person())
        assert "password" in info.value.errors
        with pytest.raises(PersonValidationError):
            wo.create(new_person(), password="x" * 51)
    assert sb.requests == []


def test_documented_lengths_are_checked_before_sending(sb, wo):
    with pytest.raises(PersonValidationError) as info:
        wo.create(new_person(department=Ref(id="123456"), mobile_phone="+49 170 " + "1" * 30))
    assert "mobile_phone" in info.value.errors and sb.requests == []


def test_vendor_refusals(sb, wo):
    taken = next(iter(wo.list())).email
    with pytest.raises(VendorValidationError) as info:
        wo.create(new_person(email=taken))
    assert info.value.status == 400 and info.value.codes == ["0206"]
    sb.backend.user_limit = 1
    with pytest.raises(VendorValidationError) as info:
        wo.create(new_person())
    assert info.value.codes == ["00422"] and "User limit reached" in str(info.value)


def test_errors_under_http_200_are_errors_unless_declared_warnings(sb):
    sb.backend.warn_missing_allowances = True
    with connect(sb) as wo:
        with pytest.raises(VendorValidationError) as info:
            wo.create(new_person())
        assert info.value.status == 200 and info.value.codes == ["004a"]
        assert info.value.data["user_id"]  # the user exists: the error says which one
    with connect(sb, warning_codes=["004a"]) as wo:
        created = wo.create(new_person(email="ada.second@example.com"))
        assert created.id and any("004a" in p for p in created.problems)


def test_allowances_are_sent_in_minutes(sb, wo):
    created = wo.create(new_person(), allowances=[{"start_date": "2026-01-01", "opening": 11250, "remaining": 9000}])
    assert sb.backend.users[int(created.id)].allowances == (("2026-01-01", 11250, 9000),)


# ------------------------------------------------------------------ update and delete


def test_update_reads_merges_and_sends_the_whole_record(sb, wo):
    uid = str(ADMIN_USER_ID + 4)
    stored = sb.backend.users[int(uid)]
    before = (stored.title, stored.work_telephone, stored.region_id, stored.approver_id, stored.tags)
    updated = wo.update(
        uid, {"last_name": "Updated", "role": Ref(name="approver plus add"), "employment_end": "2030-12-31"}
    )
    assert updated.last_name == "Updated" and updated.role.id == "210"
    assert updated.employment_end.isoformat() == "2030-12-31"
    assert (stored.title, stored.work_telephone, stored.region_id, stored.approver_id, stored.tags) == before
    assert stored.last_name == "Updated" and stored.employment_ended_date == "2030-12-31"
    wo.update(uid, {"employment_end": None, "manager_id": None})
    assert stored.employment_ended_date is None and stored.approver_id == 0


def test_update_with_a_person_sends_only_what_differs_and_reads_once(sb, wo):
    uid = str(ADMIN_USER_ID + 5)
    current = wo.get(uid)
    before = len(sb.requests)
    result = wo.update(uid, current.replace(title="Prof.", first_name=current.first_name))
    assert result.title == "Prof."
    assert [p for _, p in sb.requests[before:]] == [f"/v4/user/get-by-id/{uid}", "/v4/user/update"]
    before = len(sb.requests)
    assert wo.update(uid, current.replace(title="Prof.")).title == "Prof."  # nothing to change
    assert len(sb.requests) == before + 1


def test_update_can_disable_and_set_a_password(sb, wo):
    uid = str(ADMIN_USER_ID + 6)
    wo.update(uid, {"active": False}, password="N3w-password!")
    stored = sb.backend.users[int(uid)]
    assert stored.status_id == "0" and stored.password == "N3w-password!"


def test_update_of_a_missing_user(wo):
    with pytest.raises(NotFound):
        wo.update("999999", {"title": "x"})


def test_delete(sb, wo):
    uid = str(ADMIN_USER_ID + 7)
    wo.delete(uid)
    with pytest.raises(NotFound):
        wo.get(uid)
    with pytest.raises(NotFound):
        wo.delete(uid)
    with pytest.raises(VendorValidationError) as info:
        wo.delete(str(ADMIN_USER_ID))  # yourself
    assert info.value.codes == ["0301"]


# ------------------------------------------------------------------ reading odd records


def test_unknown_enum_values_are_kept_and_reported(wo):
    record = {
        "user_id": 5,
        "first_name": "Zed",
        "status_id": "7",
        "user_type_id": "999",
        "department_id": 12,
        "department_name": "Ops",
        "approver_id": 0,
        "employment_started_date": "01/02/2020",
        "employment_ended_date": "2021-06-30T00:00:00",
    }
    person = wo.to_person(record)
    assert person.first_name == "Zed" and person.role is None and person.active is None
    assert person.raw["user_type_id"] == "999" and person.manager_id is None
    assert person.employment_end.isoformat() == "2021-06-30"
    assert any(p.startswith("user_type_id") for p in person.problems)
    assert any(p.startswith("status_id") for p in person.problems)
    assert any(p.startswith("employment_started_date") for p in person.problems)
    assert person.department == Ref("12", "Ops")


def test_not_an_object_is_a_person_with_problems(wo):
    person = wo.to_person(["not", "a", "record"])
    assert person.problems and person.raw


def test_date_format_setting(sb):
    converter = Date("%d/%m/%Y")
    assert converter.read("01/02/2020").isoformat() == "2020-02-01"
    assert converter.write(converter.read("01/02/2020")) == "01/02/2020"
    with connect(sb, date_format="%d/%m/%Y") as wo:
        person = wo.to_person({"user_id": 1, "employment_started_date": "31/12/2019"})
    assert person.employment_start.isoformat() == "2019-12-31"


def test_update_with_a_person_from_another_system_sends_the_department_by_name(wo, sb):
    """A Person read from MOCO carries MOCO's unit id: WhosOff must resolve the department by its name
    (its own id), never send MOCO's id as department_id (which WhosOff refuses with a 400)."""
    someone = next(p for p in wo.list() if p.department and p.department.name != "Buchhaltung")
    from_moco = someone.replace(id="933662733", system="moco", department=Ref(id="424242", name="Buchhaltung"))
    updated = wo.update(someone.id, from_moco)
    assert updated.department.name == "Buchhaltung" and updated.department.id != "424242"
    stored = wo.get(someone.id)
    assert stored.department.id == updated.department.id
    assert stored.department.id in {ref.id for ref in wo.departments() if ref.name == "Buchhaltung"}
