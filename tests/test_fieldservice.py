"""Field-service specifics against the FieldServiceSandbox (a real HTTP server on loopback)."""

import datetime as dt
import json
import threading

import pytest

import staffbridge
from staffbridge import (
    Address,
    AuthenticationError,
    ConfigError,
    MissingReference,
    NotFound,
    Person,
    PersonValidationError,
    Ref,
    ResponseError,
    VendorValidationError,
)
from staffbridge.sandbox.fieldservice import FieldServiceBackend, FieldServiceSandbox
from staffbridge.sandbox.server import RateLimit, Response, json_response

KEY = "sandbox-key"
SEEDED = "65000000" + f"{3:016x}"  # sample person 3
UNKNOWN = "0123456789abcdef01234567"


@pytest.fixture(scope="module")
def servers():
    """One running server per set of options for the module: stopping one costs half a second."""
    running = {}
    yield running
    stoppers = [threading.Thread(target=sandbox.stop) for sandbox in running.values()]
    for stopper in stoppers:
        stopper.start()
    for stopper in stoppers:
        stopper.join()


@pytest.fixture
def start(servers):
    def _start(**options):
        options.setdefault("seed_people", 10)
        key = tuple(sorted(options.items()))
        if key not in servers:
            servers[key] = FieldServiceSandbox(api_key=KEY, **options).start()
        sandbox = servers[key]
        sandbox.backend = FieldServiceBackend()
        sandbox.backend.seed(options["seed_people"])
        sandbox.faults.clear()
        sandbox.requests.clear()
        sandbox.rate_limit = RateLimit()
        return sandbox

    return _start


@pytest.fixture
def sb(start):
    return start()


def adapter(sandbox, **settings):
    fs = staffbridge.connect("fieldservice", base_url=sandbox.url, api_key=KEY, **settings)
    fs.sent = []  # (method, path, body) of every request, observed on the wire
    fs.transport.session.hooks["response"].append(
        lambda response, *args, **kwargs: fs.sent.append(
            (response.request.method, response.request.path_url, json.loads(response.request.body or "null"))
        )
    )
    return fs


def ada(**changes):
    person = Person(
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        birthday=dt.date(1990, 8, 15),
        language="en",
        mobile_phone="+49 170 1",
        department=Ref(name="Service"),
        role=Ref("service"),
        employment_start=dt.date(2024, 1, 1),
        tags=["certified"],
        username="36999",
        address=Address(street="Hauptstraße 1", zip="10115", city="Berlin", country="DE"),
    )
    return person.replace(**changes)


# ------------------------------------------------------------------ settings


@pytest.mark.parametrize(
    "settings, setting",
    [
        ({"api_key": "k"}, "base_url"),
        ({"base_url": "http://fs.example"}, "api_key"),
        ({"base_url": "not a url", "api_key": "k"}, "base_url"),
        ({"base_url": "http://fs.example", "api_key": "k", "update_verb": "POST"}, "update_verb"),
        ({"base_url": "http://fs.example", "api_key": "k", "pagination": "cursor"}, "pagination"),
        ({"base_url": "http://fs.example", "api_key": "k", "page_size": 0}, "page_size"),
        ({"base_url": "http://fs.example", "api_key": "k", "routes": {"fetch": "/x"}}, "routes"),
        ({"base_url": "http://fs.example", "api_key": "k", "routes": {"get": "/v2/users/"}}, "routes"),
        ({"base_url": "http://fs.example", "api_key": "k", "apiKey": "typo"}, "apiKey"),
    ],
)
def test_bad_settings_name_the_setting(settings, setting):
    with pytest.raises(ConfigError) as info:
        staffbridge.connect("fieldservice", **settings)
    assert info.value.setting == setting


def test_defaults_are_the_conventional_guesses():
    fs = staffbridge.connect("fieldservice", base_url="https://fs.example.com", api_key="k")
    assert fs.update_verb == "PATCH" and fs.pagination == "none" and fs.capabilities.rate_limit is None
    assert fs.routes == {
        "list": "/v2/users/",
        "create": "/v2/users/",
        "get": "/v2/users/{id}",
        "update": "/v2/users/{id}",
        "delete": "/v2/users/{id}",
    }
    limited = staffbridge.connect(
        "fieldservice",
        base_url="https://fs.example.com",
        api_key="k",
        rate_limit=10,
        rate_period=60,
        update_verb="Put",
        pagination="skip",
    )
    assert limited.capabilities.rate_limit == "10 requests per 60 s"
    assert limited.update_verb == "PUT" and limited.capabilities.pagination == "skip"


def test_the_key_goes_in_the_x_api_key_header_and_a_wrong_one_is_an_authentication_error(sb):
    fs = adapter(sb)
    fs.get(SEEDED)
    assert fs.sent[0][:2] == ("GET", f"/v2/users/{SEEDED}")
    wrong = staffbridge.connect("fieldservice", base_url=sb.url, api_key="wrong-key", max_retries=0)
    with pytest.raises(AuthenticationError) as info:
        list(wrong.list())
    assert info.value.status == 401 and "Invalid API key" in str(info.value)
    assert "wrong-key" not in str(info.value) and info.value.request.headers["x-API-Key"] == "***"


# ------------------------------------------------------------------ create


def test_create_posts_once_to_the_trailing_slash_route_and_builds_the_person_from_what_was_sent(sb):
    fs = adapter(sb)
    created = fs.create(ada())
    assert [(m, p) for m, p, _ in fs.sent] == [("POST", "/v2/users/")]
    assert created.id and created.id in sb.backend.users
    assert created.system == "fieldservice"
    wanted = ada()
    for name in (
        "first_name",
        "last_name",
        "email",
        "birthday",
        "language",
        "mobile_phone",
        "department",
        "employment_start",
        "tags",
        "username",
        "address",
    ):
        assert getattr(created, name) == getattr(wanted, name), name
    assert created.role.id == "service"
    assert created.created_at is None and created.employee_number is None  # only a re-read knows them
    assert created.raw["_id"] == created.id and created.problems == []
    sent = fs.sent[0][2]
    assert sent["general"]["birthDate"] == "15.08.1990" and sent["contract"]["startDate"] == "2024-01-01T00:00:00Z"
    assert sent["id"] == 36999 and "_id" not in sent and "status" not in sent


def test_create_with_reread_gets_the_stored_user(sb):
    fs = adapter(sb)
    created = fs.create(ada(), reread=True)
    assert [(m, p) for m, p, _ in fs.sent] == [("POST", "/v2/users/"), ("GET", f"/v2/users/{created.id}")]
    assert created.employee_number == str(sb.backend.users[created.id]["number"])
    assert created.created_at is not None and created.email == "ada@example.com"


def test_create_sends_the_password_to_access_password_but_never_returns_it(sb):
    fs = adapter(sb)
    created = fs.create(ada(), password="Geheim-123!")
    assert fs.sent[0][2]["access"] == {"email": "ada@example.com", "password": "Geheim-123!"}
    assert sb.backend.check_password(created.id, "Geheim-123!")
    assert "Geheim-123!" not in repr(created) + repr(created.raw)
    assert "password" not in created.raw["access"]


def test_a_duplicate_login_email_is_a_vendor_validation_error_with_the_vendors_message(sb):
    fs = adapter(sb)
    taken = fs.get(SEEDED).email
    with pytest.raises(VendorValidationError) as info:
        fs.create(ada(email=taken))
    assert info.value.status == 400 and "access.email already exists" in info.value.vendor_message


def test_an_invalid_person_or_login_id_is_refused_before_any_request(sb):
    fs = adapter(sb)
    with pytest.raises(PersonValidationError) as info:
        fs.create(ada(username="ada"))
    assert "username" in info.value.errors
    with pytest.raises(PersonValidationError):
        fs.create(ada(language="not a language"))
    assert fs.sent == []


def test_a_create_whose_answer_is_lost_is_found_instead_of_sent_twice(sb):
    fs = adapter(sb, max_retries=0)
    sb.faults.inject("reset", method="POST", after=True)
    created = fs.create(ada())
    assert [m for m, _ in sb.requests].count("POST") == 1
    assert created.email == "ada@example.com" and created.id in sb.backend.users
    assert created.employee_number  # found by reading the list: the stored user


# ------------------------------------------------------------------ get, list and paging


def test_an_id_that_is_not_an_object_id_is_not_found_without_a_request(sb):
    fs = adapter(sb)
    for bad in ("123", "abc", "../users", f"{SEEDED}x", ""):
        for call in (
            lambda bad=bad: fs.get(bad),
            lambda bad=bad: fs.update(bad, {"notes": "x"}),
            lambda bad=bad: fs.delete(bad),
        ):
            with pytest.raises(NotFound) as info:
                call()
            assert isinstance(info.value, LookupError)
    assert fs.sent == [] and sb.requests == []


def test_a_well_formed_unknown_id_is_not_found_from_the_server(sb):
    with pytest.raises(NotFound) as info:
        adapter(sb).get(UNKNOWN)
    assert info.value.status == 404 and "not found" in info.value.vendor_message


def test_list_reads_the_whole_array_in_one_request_by_default(start):
    sandbox = start(seed_people=30)
    fs = adapter(sandbox)
    people = list(fs.list())
    assert len(people) == 30 and len(fs.sent) == 1 and fs.sent[0][1] == "/v2/users/"
    assert {p.username for p in people[:2]} == {"36920", "36921"}  # seeded as a string and as a number


@pytest.mark.parametrize("style, query", [("page", "page={}&limit=7"), ("skip", "skip={}&limit=7")])
def test_paged_list_styles_read_every_page(start, style, query):
    sandbox = start(seed_people=30, pagination=style, page_size=100)
    fs = adapter(sandbox, pagination=style, page_size=7)
    people = list(fs.list())
    assert len(people) == 30 and len({p.id for p in people}) == 30
    steps = [1, 2, 3, 4, 5] if style == "page" else [0, 7, 14, 21, 28]
    assert [p for _, p, _ in fs.sent] == [f"/v2/users/?{query.format(n)}" for n in steps]


def test_paging_stops_when_the_server_ignores_the_paging_parameters(start):
    sandbox = start(seed_people=12)  # answers the whole array whatever the query says
    fs = adapter(sandbox, pagination="page", page_size=5)
    people = list(fs.list())
    assert len(people) == 12 and len(fs.sent) == 2  # the second page brought nothing new


def test_routes_are_settings_and_a_wrapped_list_and_an_empty_answer_are_understood(sb):
    users = sb.backend.list
    sb.routes.add("GET", r"/api/staff", lambda request: json_response({"data": users(), "total": len(users())}))
    sb.routes.add("GET", r"/api/staff/(?P<id>[^/]+)", lambda request: Response(200, b""))
    fs = adapter(sb, routes={"list": "/api/staff", "get": "/api/staff/{id}"})
    assert len(list(fs.list())) == 10
    with pytest.raises(NotFound):  # NestJS renders a missing document as 200 with no body
        fs.get(SEEDED)
    keyed = adapter(sb, routes={"list": "/api/staff"}, list_key="total")
    with pytest.raises(ResponseError):
        list(keyed.list())


# ------------------------------------------------------------------ update and delete


def test_patch_sends_only_the_changed_fields_and_uses_the_answer(sb):
    fs = adapter(sb)
    updated = fs.update(SEEDED, {"last_name": "Neu", "birthday": dt.date(1980, 2, 29), "tags": []})
    assert fs.sent == [
        ("PATCH", f"/v2/users/{SEEDED}", {"general": {"lastName": "Neu", "birthDate": "29.02.1980"}, "tags": []})
    ]
    assert updated.last_name == "Neu" and updated.birthday == dt.date(1980, 2, 29) and updated.tags == []
    assert updated.first_name == sb.backend.get(SEEDED)["general"]["firstName"]  # merged, not replaced


def test_an_updated_address_replaces_the_old_one_part_by_part(sb):
    fs = adapter(sb)
    updated = fs.update(SEEDED, {"address": {"city": "Hamburg"}})
    assert fs.sent[0][2] == {
        "address": {"street": None, "zip": None, "city": "Hamburg", "state": None, "country": None, "co": None}
    }
    assert updated.address == Address(city="Hamburg")


def test_put_sends_the_full_read_merged_document_without_read_only_fields(start):
    sandbox = start(update_verb="PUT")
    sandbox.backend.users[SEEDED]["general"]["deviceToken"] = "device-token-kept"
    before = sandbox.backend.get(SEEDED)
    fs = adapter(sandbox, update_verb="PUT")
    updated = fs.update(SEEDED, {"mobile_phone": "+49 170 9"})
    (get, put) = fs.sent
    assert get[:2] == ("GET", f"/v2/users/{SEEDED}") and put[:2] == ("PUT", f"/v2/users/{SEEDED}")
    body = put[2]
    for path in ("_id", "number", "status", "companyId", "chatId", "implementation", "analytics"):
        assert path not in body
    assert "token" not in body["access"] and "loginTries" not in body["access"]
    assert body["contact"]["mobile"] == "+49 170 9"
    assert body["general"]["firstName"] == before["general"]["firstName"]
    assert body["address"] == before["address"] and body["accessGroupId"] == before["accessGroupId"]
    assert updated.mobile_phone == "+49 170 9" and updated.first_name == before["general"]["firstName"]
    assert sandbox.backend.get(SEEDED)["general"]["deviceToken"] == "device-token-kept"


def test_patch_objects_sends_every_touched_object_whole(sb):
    fs = adapter(sb, patch_objects=True)
    before = sb.backend.get(SEEDED)
    fs.update(SEEDED, {"last_name": "Neu"})
    body = fs.sent[-1][2]
    assert list(body) == ["general"] and body["general"] == {**before["general"], "lastName": "Neu"}


def test_an_update_answer_showing_the_old_document_is_read_again(sb):
    stale = {}

    def patch_answering_the_old_user(request):  # what mongoose's findByIdAndUpdate answers by default
        stale["user"] = json.loads(json.dumps(sb.backend.get(request.params["id"])))
        sb.backend.update(request.params["id"], request.json())
        return json_response(stale["user"])

    sb.routes.add("PATCH", r"/v3/users/(?P<id>[^/]+)", patch_answering_the_old_user)
    fs = adapter(sb, routes={"update": "/v3/users/{id}"})
    updated = fs.update(SEEDED, {"notes": "Ersthelferin"})
    assert [m for m, _, _ in fs.sent] == ["PATCH", "GET"] and updated.notes == "Ersthelferin"


def test_update_with_a_password_and_with_a_person(sb):
    fs = adapter(sb)
    fs.update(SEEDED, {}, password="Neu-Geheim-1")
    assert sb.backend.check_password(SEEDED, "Neu-Geheim-1")
    current = fs.get(SEEDED)
    fs.sent.clear()
    same = fs.update(SEEDED, current.replace(notes=None))  # nothing new: no write
    assert [m for m, _, _ in fs.sent] == ["GET"] and same == current


def test_delete_removes_the_user(sb):
    fs = adapter(sb)
    fs.delete(SEEDED)
    assert fs.sent == [("DELETE", f"/v2/users/{SEEDED}", None)]
    with pytest.raises(NotFound):
        fs.get(SEEDED)


# ------------------------------------------------------------------ references


def test_role_names_resolve_through_a_value_map(sb):
    fs = adapter(sb, mapping={"fields": {"role": {"values": {"worker": "Mitarbeiter", "service": "Entwickler"}}}})
    created = fs.create(ada(role=Ref(name="entwickler")))
    assert fs.sent[-1][2]["accessGroupId"] == "service" and created.role == Ref("service", "Entwickler")
    with pytest.raises(MissingReference) as info:
        fs.create(ada(email="other@example.com", role=Ref(name="Astronaut")))
    assert "Mitarbeiter" in str(info.value) and len(fs.sent) == 1


def test_without_a_map_a_role_name_is_sent_as_the_slug(sb):
    fs = adapter(sb)
    fs.create(ada(role=Ref(name="teamlead")))
    assert fs.sent[-1][2]["accessGroupId"] == "teamlead"


def test_reference_ids_from_another_system_are_not_sent(sb):
    fs = adapter(sb, mapping={"fields": {"role": {"values": {"service": "Entwickler"}}}})
    foreign = ada(
        system="moco", id="933662733", department=Ref("909175374", "Vertrieb"), role=Ref("4243", "Entwickler")
    )
    created = fs.create(foreign)
    body = fs.sent[-1][2]
    assert body["contract"]["department"] == "Vertrieb" and body["accessGroupId"] == "service"
    assert created.id != "933662733" and created.system == "fieldservice"
    id_only = ada(system="moco", email="x@example.com", role=Ref("4243"))
    fs.create(id_only)
    assert "accessGroupId" not in fs.sent[-1][2]


def test_a_text_only_address_is_not_sent_and_blanks_nothing(sb, caplog):
    fs = adapter(sb)
    before = json.loads(json.dumps(sb.backend.get(SEEDED)["address"]))
    fs.update(SEEDED, {"address": "Hauptstraße 5\n10115 Berlin"})
    assert [m for m, _, _ in fs.sent] == ["GET"] and sb.backend.get(SEEDED)["address"] == before
    created = fs.create(ada(address=Address(formatted="Hauptstraße 5\n10115 Berlin")))
    assert "address" not in fs.sent[-1][2] and created.address is None
    assert caplog.text.count("only a formatted text") == 2


def test_a_create_answer_without_an_id_is_recovered_from_the_list_or_reported(sb):
    sb.routes.add(
        "POST", r"/v3/users", lambda request: Response(201, b"", {}) if sb.backend.create(request.json()) else None
    )
    fs = adapter(sb, routes={"create": "/v3/users"})
    created = fs.create(ada())
    assert [m for m, _, _ in fs.sent] == ["POST", "GET"] and created.id in sb.backend.users
    sb.routes.add("POST", r"/v4/users", lambda request: json_response({"ok": True}, 201))
    with pytest.raises(ResponseError) as info:
        adapter(sb, routes={"create": "/v4/users"}).create(ada(email="nobody@example.com"))
    assert "without an _id" in str(info.value)


def test_put_with_nothing_the_vendor_can_hold_writes_nothing(start):
    sandbox = start(update_verb="PUT")
    fs = adapter(sandbox, update_verb="PUT")
    fs.update(SEEDED, {"active": False, "iban": "DE02120300000000202051"})
    assert [m for m, _, _ in fs.sent] == ["GET"]
