"""Person -> vendor create body, written out by hand: the baselines of the benchmark's "write" rows.

What a careful user would write for the fields each shipped mapping writes (mappings/*.toml), for a
Person `Adapter.prepare` has checked and whose department and role are this vendor's: each field that
has a value, converted as the vendor wants it, plus the create defaults. tests/bench/run.py checks
once that each gives the same body as the adapter's `create_body` before timing them.
"""

from __future__ import annotations

from typing import Any

from staffbridge.model.person import Person


def _id(value: str) -> int | str:
    """`ref:int` / `id:int`: digits go as a number, anything else as text."""
    return int(value) if value.isdigit() else value


def moco(person: Person) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name, key in (("first_name", "firstname"), ("last_name", "lastname"), ("email", "email")):
        if (value := getattr(person, name)) is not None:
            body[key] = value
    if person.active is not None:
        body["active"] = person.active
    if person.external is not None:
        body["external"] = person.external
    for name, key in (("mobile_phone", "mobile_phone"), ("work_phone", "work_phone")):
        if (value := getattr(person, name)) is not None:
            body[key] = value
    if person.address is not None:
        body["home_address"] = person.address.as_text()
    if person.notes is not None:
        body["info"] = person.notes
    if person.birthday is not None:
        body["bday"] = person.birthday.isoformat()
    if person.iban is not None:
        body["iban"] = person.iban
    if person.tags:
        body["tags"] = list(person.tags)
    if person.custom_fields:
        body["custom_properties"] = dict(person.custom_fields)
    if person.department is not None:
        body["unit_id"] = _id(person.department.id)
    if person.role is not None:
        body["role_id"] = _id(person.role.id)
    if person.language is not None:
        body["language"] = person.language
    return body


WHOSOFF_TEXT = (
    ("first_name", "first_name"),
    ("middle_name", "middle_name"),
    ("last_name", "last_name"),
    ("title", "title"),
    ("employee_number", "staff_code"),
    ("email", "email_contact"),
    ("work_phone", "work_telephone"),
    ("mobile_phone", "mobile_telephone"),
    ("username", "active_directory_username"),
)
# mappings/whosoff.toml [defaults]: sent when nothing maps there
WHOSOFF_DEFAULTS = {
    "user_type_id": "100",
    "default_view_type_id": "1",
    "default_sorting_id": "0",
    "approver_id": "0",
    "approver_role_id": "0",
    "notifier_2_id": "0",
    "notifier_2_role_id": "0",
    "notifier_3_id": "0",
    "notifier_3_role_id": "0",
    "email_type_id": "2",
    "allowance_type_id": "0",
    "status_id": "1",
}


def whosoff(person: Person) -> dict[str, Any]:
    body = dict(WHOSOFF_DEFAULTS)
    for name, key in WHOSOFF_TEXT:
        if (value := getattr(person, name)) is not None:
            body[key] = value
    if person.active is not None:
        body["status_id"] = "1" if person.active else "0"
    if person.manager_id is not None:
        body["approver_id"] = str(person.manager_id)
    if person.employment_start is not None:
        body["employment_started_date"] = person.employment_start.isoformat()
    if person.employment_end is not None:
        body["employment_ended_date"] = person.employment_end.isoformat()
    if person.department is not None:
        body["department_id"] = str(person.department.id)
    if person.role is not None:
        body["user_type_id"] = person.role.id
    return body


def fieldservice(person: Person) -> dict[str, Any]:
    body: dict[str, Any] = {}
    general = {}
    for name, key in (
        ("first_name", "firstName"),
        ("last_name", "lastName"),
        ("language", "language"),
        ("avatar_url", "profileImage"),
        ("notes", "description"),
        ("gender", "sex"),
    ):
        if (value := getattr(person, name)) is not None:
            general[key] = value
    if person.birthday is not None:
        day = person.birthday
        general["birthDate"] = f"{day.day:02d}.{day.month:02d}.{day.year:04d}"
    if general:
        body["general"] = general
    if person.email is not None:
        body["access"] = {"email": person.email}
    if person.username is not None:
        body["id"] = _id(person.username)
    contact = {}
    if person.work_phone is not None:
        contact["telephone"] = person.work_phone
    if person.mobile_phone is not None:
        contact["mobile"] = person.mobile_phone
    if contact:
        body["contact"] = contact
    contract = {}
    if person.employment_start is not None:
        contract["startDate"] = f"{person.employment_start.isoformat()}T00:00:00Z"
    if person.employment_end is not None:
        contract["endDate"] = f"{person.employment_end.isoformat()}T00:00:00Z"
    if person.department is not None:
        contract["department"] = person.department.name
    if contract:
        body["contract"] = contract
    if person.role is not None:
        body["accessGroupId"] = person.role.id
    address = person.address
    if address is not None:
        parts = {
            "street": address.street,
            "zip": address.zip,
            "city": address.city,
            "state": address.state,
            "country": address.country,
            "co": address.co,
        }
        body["address"] = {name: value for name, value in parts.items() if value is not None}
    if person.tags:
        body["tags"] = list(person.tags)
    return body
