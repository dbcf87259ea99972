"""mappings/fieldservice.toml with plain data: vendor document <-> Person, bad input, secrets, read-only."""

import copy
import datetime as dt

import pytest

import staffbridge
from staffbridge import Address, Person, Ref

UTC = dt.UTC

# the example body of the documented POST /v2/users/ (seed 002), with the <string> placeholders filled in
DOCUMENTED = {
    "_id": "65a1b2c3d4e5f60718293a4b",
    "number": 123,
    "companyId": "64f1a2b3c4d5e6f708192a3b",
    "status": {
        "status": 1,
        "createdAt": "2023-11-07T05:31:56Z",
        "createdBy": "64f1a2b3c4d5e6f708192a3c",
        "lastModifiedAt": "2023-11-08T06:00:00.250Z",
        "lastModifiedBy": "64f1a2b3c4d5e6f708192a3c",
    },
    "chatId": None,
    "id": "36920",
    "general": {
        "firstName": "John",
        "lastName": "Doe",
        "sex": "male",
        "birthDate": "15.08.1990",
        "language": "de",
        "insuranceNumber": "12345678901",
        "deviceToken": "dGhpcyBpcyBhIHRva2VuIGV4YW1wbGU=",
        "webPushToken": "BKP4z-planted",
        "profileImage": "https://example.com/profiles/user123.jpg",
        "description": "Team lead with 5 years experience",
        "lastNpsScoreSend": "2023-11-07T05:31:56Z",
        "badges": [{"type": "experience", "level": "senior"}],
    },
    "access": {
        "dashboardAccess": True,
        "password": "hunter2-planted",
        "webAccess": "1",
        "token": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
        "email": "user@company.com",
        "loginTries": 0,
        "passwordChangeToken": "reset-token-12345",
        "passwordChangeDate": "2023-12-01T10:30:00Z",
    },
    "contract": {
        "startDate": "2023-01-01T00:00:00Z",
        "endDate": "2024-12-31T23:59:59Z",
        "department": "service",
        "salary": 15.5,
        "salaryType": "hourly",
        "employment": "full-time",
        "payment": "direct-deposit",
        "dailyWorkingHours": {},
        "payTypeId": "pt-1",
        "vacationDays": 30,
        "remainingLeave": [{"year": 2023, "days": 5}],
        "allowedToTrackDrivingTime": True,
    },
    "contact": {
        "telephone": "+1-555-123-4567",
        "mobile": "+1-555-987-6543",
        "email": "contact@company.com",
        "sms": "+1-555-111-2222",
        "smsCount": 5,
        "smsChatCount": 12,
        "smsSendDate": "2024-01-15T10:30:00Z",
        "smsSendBy": "user123",
        "website": "https://www.company.com",
        "lastSMSStatus": "delivered",
        "secondSmsSendDate": "2024-01-16T14:45:00Z",
    },
    "address": {
        "street": "Hauptstraße 1",
        "zip": "10115",
        "city": "Berlin",
        "country": "DE",
        "co": "ACME",
        "state": "BE",
    },
    "accessGroupId": "service",
    "totalTargetHours": 40,
    "jobs": [{}],
    "setUpDone": True,
    "location": {
        "latitude": 48.8566,
        "longitude": 2.3522,
        "location": {"type": "Point", "coordinates": [2.3522, 48.8566]},
    },
    "activityTypeIds": ["cleaning", "maintenance", "inspection"],
    "implementation": {
        "hasJob": True,
        "hasTimeTracking": True,
        "isSuccessfullyImplemented": False,
        "lastTimeActive": "2023-12-01T14:30:00Z",
    },
    "workedOnObjectIds": ["507f1f77bcf86cd799439011", "507f191e810c19729de860ea"],
    "tags": ["full-time", "certified", "team-lead"],
    "analytics": {"createdProfile": "2023-01-15T09:00:00Z"},
}
SECRETS = (
    "hunter2-planted",
    "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
    "reset-token-12345",
    "dGhpcyBpcyBhIHRva2VuIGV4YW1wbGU=",
    "BKP4z-planted",
)


@pytest.fixture(scope="module")
def fs():
    # never contacted: these tests only map
    return staffbridge.connect("fieldservice", base_url="http://127.0.0.1:9", api_key="k")


def doc(**changes):
    record = copy.deepcopy(DOCUMENTED)
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = record
        for step in parents:
            node = node[step]
        if value is ...:
            del node[last]
        else:
            node[last] = value
    return record


def test_the_documented_user_reads_into_every_mapped_field(fs):
    person = fs.to_person(doc())
    assert person.problems == []
    assert (person.id, person.system) == ("65a1b2c3d4e5f60718293a4b", "fieldservice")
    assert (person.first_name, person.last_name, person.gender) == ("John", "Doe", "male")
    assert person.birthday == dt.date(1990, 8, 15)
    assert person.language == "de"
    assert person.avatar_url == "https://example.com/profiles/user123.jpg"
    assert person.notes == "Team lead with 5 years experience"
    assert person.email == "user@company.com"  # the login (access.email), not contact.email
    assert (person.work_phone, person.mobile_phone) == ("+1-555-123-4567", "+1-555-987-6543")
    assert (person.employment_start, person.employment_end) == (dt.date(2023, 1, 1), dt.date(2024, 12, 31))
    assert person.department == Ref(name="service")
    assert person.role == Ref(id="service")
    assert person.address == Address(
        street="Hauptstraße 1", zip="10115", city="Berlin", state="BE", country="DE", co="ACME"
    )
    assert person.employee_number == "123"
    assert person.username == "36920"
    assert person.tags == ["full-time", "certified", "team-lead"]
    assert person.created_at == dt.datetime(2023, 11, 7, 5, 31, 56, tzinfo=UTC)
    assert person.updated_at == dt.datetime(2023, 11, 8, 6, 0, 0, 250000, tzinfo=UTC)


def test_secrets_are_dropped_from_raw_and_unmapped_fields_survive(fs):
    person = fs.to_person(doc())
    assert "password" not in person.raw["access"] and "token" not in person.raw["access"]
    assert "passwordChangeToken" not in person.raw["access"]
    assert "deviceToken" not in person.raw["general"] and "webPushToken" not in person.raw["general"]
    shown = repr(person) + repr(person.raw) + str(person.to_dict(include_raw=True))
    assert not [secret for secret in SECRETS if secret in shown]
    assert person.raw["general"]["insuranceNumber"] == "12345678901"
    assert person.raw["contact"]["email"] == "contact@company.com"
    assert person.raw["location"]["location"]["coordinates"] == [2.3522, 48.8566]
    assert person.raw["contract"]["remainingLeave"] == [{"year": 2023, "days": 5}]
    assert person.raw["status"]["status"] == 1 and person.raw["access"]["loginTries"] == 0
    assert DOCUMENTED["access"]["password"] == "hunter2-planted"  # the input itself is not changed


@pytest.mark.parametrize("login_id", ["36920", 36920])
def test_the_login_id_reads_as_a_string_from_a_number_or_a_string(fs, login_id):
    person = fs.to_person(doc(id=login_id))
    assert person.username == "36920" and person.problems == []


def test_a_birth_date_in_the_wrong_format_is_a_problem_and_the_rest_is_read(fs):
    person = fs.to_person(doc(general__birthDate="1990-08-15"))
    assert person.birthday is None
    assert [p for p in person.problems if p.startswith("general.birthDate:") and "DD.MM.YYYY" in p]
    assert person.first_name == "John" and person.email == "user@company.com"
    assert fs.to_person(doc(general__birthDate="31.02.1990")).problems[0].startswith("general.birthDate:")


def test_a_timestamp_before_year_one_in_utc_is_a_problem_not_a_crash(fs):
    person = fs.to_person(doc(contract__startDate="0001-01-01T00:00:00+01:00"))
    assert person.employment_start is None and person.first_name == "John"
    assert [p for p in person.problems if p.startswith("contract.startDate:") and "out of range" in p]


def test_a_non_object_id_is_kept_and_reported(fs):
    person = fs.to_person(doc(_id="not-an-objectid"))
    assert person.id == "not-an-objectid"
    assert person.problems == ["_id: not an ObjectId: 'not-an-objectid'"]
    assert fs.to_person(doc(_id=...)).problems == ["_id: missing"]
    extended = fs.to_person(doc(_id={"$oid": "65a1b2c3d4e5f60718293a4b"}))  # MongoDB extended JSON
    assert extended.id == "65a1b2c3d4e5f60718293a4b" and extended.problems == []


def test_null_tags_read_as_no_tags(fs):
    person = fs.to_person(doc(tags=None))
    assert person.tags == [] and person.problems == []
    assert fs.to_person(doc(tags=...)).tags == []
    bad = fs.to_person(doc(tags=[{"name": "x"}]))
    assert bad.tags == [] and bad.problems == ["tags: expected a list of strings, got list"]


def test_missing_or_null_nested_objects_leave_their_fields_empty(fs):
    person = fs.to_person(doc(general=..., contract=None, address=None, status=...))
    assert person.problems == []
    assert (person.first_name, person.birthday, person.department, person.address) == (None, None, None, None)
    assert person.email == "user@company.com" and person.created_at is None
    bare = fs.to_person({"_id": "65a1b2c3d4e5f60718293a4b"})
    assert bare.id == "65a1b2c3d4e5f60718293a4b" and bare.problems == [] and bare.tags == []


def test_nested_objects_of_the_wrong_type_are_reported_with_their_path(fs):
    person = fs.to_person(doc(general="John Doe", address=["Berlin"], contract__startDate=20230101))
    assert "general: expected an object, got str" in person.problems
    assert "address: expected an address object, got list" in person.problems
    assert "contract.startDate: expected an ISO timestamp, got int" in person.problems
    assert person.email == "user@company.com" and person.first_name is None


def test_a_record_that_is_not_an_object_is_a_problem_not_a_crash(fs):
    person = fs.to_person(["not", "a", "user"])
    assert person.problems and person.raw == {"value": ["not", "a", "user"]}


def test_a_person_is_written_in_the_vendor_shapes_and_never_with_read_only_fields(fs):
    person = fs.to_person(doc()).replace(employment_end=None)
    body = fs.mapping.from_person(person)
    assert body == {
        "general": {
            "firstName": "John",
            "lastName": "Doe",
            "birthDate": "15.08.1990",
            "language": "de",
            "profileImage": "https://example.com/profiles/user123.jpg",
            "description": "Team lead with 5 years experience",
            "sex": "male",
        },
        "access": {"email": "user@company.com"},
        "id": 36920,
        "contact": {"telephone": "+1-555-123-4567", "mobile": "+1-555-987-6543"},
        "contract": {"startDate": "2023-01-01T00:00:00Z", "department": "service"},
        "accessGroupId": "service",
        "address": {
            "street": "Hauptstraße 1",
            "zip": "10115",
            "city": "Berlin",
            "state": "BE",
            "country": "DE",
            "co": "ACME",
        },
        "tags": ["full-time", "certified", "team-lead"],
    }


def test_read_only_paths_are_stripped_even_when_a_user_mapping_writes_them(fs):
    overlay = {
        "fields": {
            "employee_number": {"path": "number", "converter": "id:int"},
            "custom_fields.smsCount": {"path": "contact.smsCount"},
        }
    }
    widened = staffbridge.connect("fieldservice", base_url="http://127.0.0.1:9", api_key="k", mapping=overlay)
    body = widened.mapping.to_vendor(
        {"employee_number": "7", "custom_fields": {"smsCount": 3}, "mobile_phone": "+49 1"}
    )
    assert body == {"contact": {"mobile": "+49 1"}}
    for path in (
        "_id",
        "number",
        "status",
        "access.token",
        "access.passwordChangeToken",
        "access.loginTries",
        "implementation",
        "analytics",
        "contact.smsCount",
        "contact.smsChatCount",
    ):
        assert path in widened.mapping.read_only


def test_the_login_id_can_be_sent_as_a_string_with_a_mapping_overlay():
    as_text = staffbridge.connect(
        "fieldservice",
        base_url="http://127.0.0.1:9",
        api_key="k",
        mapping={"fields": {"username": {"path": "id", "converter": "id:str"}}},
    )
    assert as_text.mapping.to_vendor({"username": "36920"}) == {"id": "36920"}


def test_role_slugs_get_names_from_a_value_map():
    named = staffbridge.connect(
        "fieldservice",
        base_url="http://127.0.0.1:9",
        api_key="k",
        mapping={"fields": {"role": {"values": {"service": "Service team"}}}},
    )
    assert named.to_person(doc()).role == Ref("service", "Service team")
    assert named.mapping.to_vendor({"role": Ref(name="Service team")}) == {"accessGroupId": "service"}


def test_person_round_trips_through_the_vendor_shape(fs):
    person = fs.to_person(doc())
    again = fs.to_person({**fs.mapping.from_person(person), "_id": person.id})
    unchanged = ("created_at", "updated_at", "employee_number")  # server-assigned: never written
    for name in (
        "first_name",
        "last_name",
        "gender",
        "birthday",
        "language",
        "avatar_url",
        "notes",
        "email",
        "username",
        "work_phone",
        "mobile_phone",
        "employment_start",
        "employment_end",
        "department",
        "role",
        "address",
        "tags",
    ):
        assert getattr(again, name) == getattr(person, name), name
    assert all(getattr(again, name) is None for name in unchanged)


def test_capabilities_say_what_is_read_and_written(fs):
    caps = fs.capabilities
    assert "employee_number" in caps.read_fields and "employee_number" not in caps.write_fields
    assert {"created_at", "updated_at"} <= set(caps.read_fields) - set(caps.write_fields)
    assert caps.required_on_create == () and caps.filters == () and caps.rate_limit is None
    assert caps.pagination == "none" and set(caps.operations) == {"list", "get", "create", "update", "delete"}


def _documents():
    from hypothesis import strategies as st

    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        st.text(max_size=12),
        st.sampled_from(["15.08.1990", "2023-01-01T00:00:00Z", "65a1b2c3d4e5f60718293a4b", ""]),
    )
    values = st.recursive(
        scalars,
        lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
        max_leaves=8,
    )
    keys = {
        "general": ["firstName", "birthDate", "sex", "profileImage", "deviceToken"],
        "access": ["email", "password", "token"],
        "contract": ["startDate", "endDate", "department"],
        "contact": ["telephone", "mobile"],
        "status": ["createdAt", "lastModifiedAt"],
        "address": ["street", "zip", "city"],
    }
    nested = {
        name: st.one_of(values, st.fixed_dictionaries({}, optional={k: values for k in inner}))
        for name, inner in keys.items()
    }
    return st.fixed_dictionaries(
        {}, optional={"_id": values, "id": values, "number": values, "tags": values, "accessGroupId": values, **nested}
    )


def test_no_document_crashes_the_reader(fs):
    from hypothesis import given, settings

    @settings(max_examples=200, deadline=None)
    @given(_documents())
    def check(record):
        person = fs.to_person(record)
        assert isinstance(person, Person) and person.system == "fieldservice"
        access = person.raw.get("access")
        assert not isinstance(access, dict) or "password" not in access

    check()
