"""MOCO-specific behaviour, against the MOCO sandbox (a real HTTP server on loopback)."""

import datetime as dt

import pytest

import staffbridge
from staffbridge import (
    AdapterNotFound,
    ConfigError,
    DeleteRefused,
    MissingReference,
    NotFound,
    Person,
    PersonValidationError,
    Ref,
    ResponseError,
    VendorValidationError,
)
from staffbridge.sandbox.moco import MocoSandbox, render_user

KEY = "sandbox-key"


@pytest.fixture(scope="module")
def server():
    with MocoSandbox(seed_people=250, api_key=KEY) as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(server):
    server.faults.clear()
    server.requests.clear()
    return server


@pytest.fixture
def moco(sandbox):
    with staffbridge.connect("moco", base_url=sandbox.url, api_key=KEY, rate_limit=10_000, rate_period=1) as adapter:
        yield adapter


def requests_to(sandbox, path):
    return [r for r in sandbox.requests if r[1].split("?")[0].rstrip("/").removesuffix(".json").endswith(path)]


# ------------------------------------------------------------------ connect and settings


def test_connect_builds_the_documented_base_url():
    adapter = staffbridge.connect("moco", domain="acme", api_key="k")
    assert adapter.transport.base_url == "https://acme.mocoapp.com/api/v1"
    assert adapter.capabilities.rate_limit == "120 requests per 120 s"
    assert "performance_report" in adapter.capabilities and adapter.capabilities.incremental


def test_unknown_adapter_lists_the_installed_ones():
    with pytest.raises(AdapterNotFound) as info:
        staffbridge.connect("mocco", api_key="k")
    assert "moco" in info.value.available and "moco" in str(info.value)
    assert isinstance(info.value, LookupError)


@pytest.mark.parametrize(
    "settings, setting",
    [
        ({"domain": "acme"}, "api_key"),
        ({"api_key": "k"}, "domain"),
        ({"domain": "acme", "api_key": "k", "timeout": -1}, "timeout"),
        ({"domain": "Not A Domain!", "api_key": "k"}, "domain"),
        ({"domain": "acme", "api_key": "k", "apikey": "typo"}, "apikey"),
        ({"base_url": "not a url", "api_key": "k"}, "base_url"),
    ],
)
def test_bad_settings_name_the_setting(settings, setting):
    with pytest.raises(ConfigError) as info:
        staffbridge.connect("moco", **settings)
    assert info.value.setting == setting and setting in str(info.value)


def test_repr_never_shows_the_key():
    adapter = staffbridge.connect("moco", domain="acme", api_key="PLANTED-repr-key")
    assert "PLANTED-repr-key" not in repr(adapter) and "acme" in repr(adapter)


# ------------------------------------------------------------------ listing


def test_list_streams_page_by_page_following_link(moco, sandbox):
    people = moco.list(include_archived=True)
    first = next(people)
    assert isinstance(first, Person) and len(requests_to(sandbox, "/users")) == 1  # lazily, one page
    rest = list(people)
    assert len(rest) + 1 == 250 and len(requests_to(sandbox, "/users")) == 3


def test_lower_case_pagination_headers_are_read():
    with MocoSandbox(seed_people=120, api_key=KEY, lowercase_headers=True) as sandbox:
        adapter = staffbridge.connect("moco", base_url=sandbox.url, api_key=KEY)
        assert len(list(adapter.list(include_archived=True))) == 120


def test_filters_reach_moco_as_documented(moco, sandbox):
    someone = next(moco.list())
    found = list(moco.list(email=someone.email.upper()))
    assert [p.id for p in found] == [someone.id]
    assert [p.id for p in moco.list(ids=[someone.id])] == [someone.id]
    tagged = list(moco.list(tags=["Remote"], include_archived=True))
    assert tagged and all("Remote" in p.tags for p in tagged)
    inactive = list(moco.list(active=False))
    assert inactive and all(p.active is False for p in inactive)
    assert all(p.active for p in moco.list())
    names = [p.last_name for p in moco.list(sort_by="lastname desc")]
    assert names == sorted(names, reverse=True)
    later = someone.updated_at - dt.timedelta(seconds=1)
    assert someone.id in {p.id for p in moco.list(updated_after=later, include_archived=True)}
    assert list(moco.list(custom_properties={"No Such Field": "x"})) == []
    with pytest.raises(ConfigError):
        list(moco.list(colour="blue"))


def test_employments_are_joined_with_one_paged_call(moco, sandbox):
    people = list(moco.list(include_archived=True, include_employments=True))
    # one paged listing (3 pages for 250 employments), never one request per person
    assert len(requests_to(sandbox, "/users/employments")) == 3
    assert all(p.employment_start for p in people)
    single = moco.get(people[0].id, include_employments=True)
    assert single.employment_start == people[0].employment_start


# ------------------------------------------------------------------ writing


def test_create_resolves_the_unit_by_name_and_sends_write_names(moco, sandbox):
    person = Person(
        first_name="Carmen",
        last_name="Sandiego",
        email="Carmen.Sandiego@Acme.example",
        department=Ref(name="vertrieb"),
        role=Ref(name="Entwickler"),
        external=True,
        birthday=dt.date(1980, 2, 3),
        language="de-CH",
        notes="Info",
    )
    created = moco.create(person, password="S3cret-Password!", welcome_email=False)
    assert created.email == "carmen.sandiego@acme.example"  # MOCO lower-cases
    assert created.department.name == "Vertrieb" and created.role.name == "Entwickler"
    assert created.external is True and created.birthday == dt.date(1980, 2, 3) and created.notes == "Info"
    moco.delete(created.id)


def test_a_missing_unit_is_refused_before_any_request(moco, sandbox):
    with pytest.raises(PersonValidationError) as info:
        moco.create(Person(first_name="A", last_name="B", email="a.b@example.com"))
    assert "department" in info.value.errors
    with pytest.raises(MissingReference) as info:
        moco.create(Person(first_name="A", last_name="B", email="a.b@example.com", department=Ref(name="Nope")))
    assert "Nope" in str(info.value) and "Vertrieb" in str(info.value)
    assert not requests_to(sandbox, "/users")


def test_update_sends_only_what_changed(moco, sandbox):
    target = next(moco.list())
    wanted = target.replace(work_phone="+49 40 999", raw={})
    updated = moco.update(target.id, wanted)
    assert updated.work_phone == "+49 40 999" and updated.first_name == target.first_name
    sandbox.requests.clear()
    assert moco.update(target.id, wanted).work_phone == "+49 40 999"  # nothing differs: no PUT
    assert [m for m, _ in sandbox.requests] == ["GET"]
    moco.update(target.id, {"work_phone": None})
    assert moco.get(target.id).work_phone is None


def test_update_can_set_a_password(moco, sandbox):
    target = next(moco.list())
    moco.update(target.id, {"active": True}, password="N3w-Password!")
    assert sandbox.backend.get_user(int(target.id)).password == "N3w-Password!"


def test_update_rejects_unknown_fields_before_any_request(moco, sandbox):
    with pytest.raises(PersonValidationError):
        moco.update("1", {"frist_name": "x"})
    assert sandbox.requests == []


def test_vendor_rejections_carry_moco_message(moco):
    someone = next(moco.list())
    with pytest.raises(VendorValidationError) as info:
        moco.update(someone.id, {"email": next(iter(p for p in moco.list() if p.id != someone.id)).email})
    assert info.value.status == 422 and "email" in info.value.vendor_message


def test_delete_of_a_user_with_billed_hours_is_refused_clearly(moco, sandbox):
    victim = next(moco.list())
    sandbox.backend.mark_billed(int(victim.id))
    with pytest.raises(DeleteRefused) as info:
        moco.delete(victim.id)
    assert "deactivate" in str(info.value) and info.value.status == 422
    sandbox.backend.mark_billed(int(victim.id), False)


def test_not_found_without_a_request_for_impossible_ids(moco, sandbox):
    with pytest.raises(NotFound):
        moco.get("abc")
    assert sandbox.requests == []


def test_a_create_whose_answer_is_lost_is_not_duplicated(moco, sandbox):
    person = Person(
        first_name="Lost", last_name="Answer", email="lost.answer@example.com", department=Ref(name="Service")
    )
    sandbox.faults.inject("reset", path=r"/users$", method="POST", after=True)
    created = moco.create(person)
    matches = [p for p in moco.list(include_archived=True) if p.email == "lost.answer@example.com"]
    assert len(matches) == 1 and created.id == matches[0].id
    sandbox.faults.inject("503", path=r"/users$", method="POST")  # refused before acting: sent again
    again = moco.create(person.replace(email="lost.answer.2@example.com"))
    assert again.id and len([p for p in moco.list() if p.email == "lost.answer.2@example.com"]) == 1


# ------------------------------------------------------------------ extras


def test_performance_report_is_typed(moco):
    someone = next(moco.list())
    report = moco.performance_report(someone.id, year=2024)
    assert report.annually.year == 2024 and len(report.monthly) == 12
    assert report.monthly[0].month == 1 and isinstance(report.annually.target_hours, float)


def test_units_and_roles_lookups(moco):
    assert "Geschäftsleitung" in {u.name for u in moco.units()}
    assert "Entwickler" in {r.name for r in moco.roles()}


# ------------------------------------------------------------------ rate limits and faults


def test_client_side_limiter_keeps_moco_from_answering_429():
    with MocoSandbox(seed_people=500, api_key=KEY, rate_limit=3, rate_window=1.0) as sandbox:
        adapter = staffbridge.connect("moco", base_url=sandbox.url, api_key=KEY, rate_limit=3, rate_period=1.0)
        assert len(list(adapter.list(include_archived=True))) == 500  # 5 pages at 3 per second
        assert sandbox.rate_limit.rejected == 0


def test_429s_are_waited_out_when_the_limiter_is_off():
    with MocoSandbox(seed_people=300, api_key=KEY, rate_limit=2, rate_window=0.5, retry_after=True) as sandbox:
        adapter = staffbridge.connect("moco", base_url=sandbox.url, api_key=KEY, rate_limit=1000, rate_period=1)
        assert len(list(adapter.list(include_archived=True))) == 300
        assert sandbox.rate_limit.rejected >= 1


@pytest.mark.parametrize("kind", ["html", "truncated"])
def test_malformed_pages_are_typed_errors(sandbox, kind):
    moco = staffbridge.connect("moco", base_url=sandbox.url, api_key=KEY, max_retries=0)
    sandbox.faults.inject(kind, count=10)
    with pytest.raises(staffbridge.StaffbridgeError) as info:
        list(moco.list())
    assert isinstance(info.value, (ResponseError, staffbridge.ServerError))


def test_records_with_wrong_types_are_read_as_far_as_possible(moco, sandbox):
    odd = dict(render_user(sandbox.backend, next(iter(sandbox.backend.users.values()))))
    odd.update(birthday="1st of May", tags="Remote, Teilzeit", unit=None, extern="yes", surprise={"x": 1})
    person = moco.to_person(odd)
    assert person.email == odd["email"] and person.birthday is None and person.external is True
    assert person.tags == ["Remote", "Teilzeit"] and person.raw["surprise"] == {"x": 1}
    assert any(p.startswith("birthday:") for p in person.problems)


def test_capabilities_answer_membership_and_dict_access(moco):
    caps = moco.capabilities
    assert "update" in caps and "updated_after" in caps and "performance_report" in caps
    assert "teleport" not in caps
    assert caps["filters"] == caps.filters and caps.as_dict()["pagination"] == "link"


def test_a_person_from_another_system_travels_by_reference_name(moco):
    # a WhosOff department id means nothing to MOCO: the name is resolved to MOCO's own unit
    foreign = Person(
        system="whosoff",
        id="1000001",
        first_name="Far",
        last_name="Away",
        email="far.away@example.com",
        department=Ref("123456", "Vertrieb"),
    )
    created = moco.create(foreign)
    assert created.department.name == "Vertrieb" and created.department.id != "123456"
    moco.delete(created.id)
