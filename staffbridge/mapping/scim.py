"""SCIM 2.0 (RFC 7643/7644): people out as SCIM Users in a ListResponse, SCIM Users back in as Persons.

    listing = staffbridge.scim.to_scim(directory)          # or any iterable of Person / UnifiedPerson
    json.dumps(listing)                                     # {"schemas": [...ListResponse], "Resources": [...]}
    people = staffbridge.scim.from_scim(listing)            # [Person, ...]

Built on scim2-models (the `scim` extra: `pip install staffbridge[scim]`): its pydantic models check
what we write against the SCIM schemas and parse what we read, so neither side is hand-rolled JSON.

Where each Person field goes (core schema `urn:ietf:params:scim:schemas:core:2.0:User`, enterprise
extension `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`):

    id                 id                    first/middle/last_name  name.givenName/middleName/familyName
    username           userName *            title                   name.honorificPrefix **
    email              emails[type=work]     work_phone/mobile_phone phoneNumbers[type=work/mobile]
    active             active                external                userType "Contractor"/"Employee"
    language           preferredLanguage     avatar_url              photos[type=photo]
    address            addresses[type=home]  role                    roles[0] (value = id, display = name)
    created_at         meta.created          updated_at              meta.lastModified
    employee_number    enterprise employeeNumber
    department         enterprise department (its name: SCIM holds a department name, not an id)
    manager_id         enterprise manager.value (in a unified directory: the manager's unified id)

 *  userName is required by SCIM: a person without a username gets their email (else their id, else
    their name), and reading back, a userName equal to the email, id or displayName is not taken for
    a username.
 ** Person.title is a form of address (WhosOff's "Mr"/"Dr"); SCIM's own `title` is a job title.

With `extension=True` (the default) the rest travels in staffbridge's own extension
`urn:staffbridge:params:scim:schemas:extension:person:1.0:User`: birthday, gender, employmentStart,
employmentEnd, tags, customFields, notes, addressCo, and for a unified person its `sources` (the
crosswalk, system -> id), `status` and `conflicts` (field names). SCIM consumers that do not know it
ignore it; `extension=False` leaves it out. `iban` is never exported: payment data has no business in
an identity provider.

A value SCIM cannot hold (an email the SCIM schema rejects, an avatar URL that is not a URI, such as
MOCO's documented "https//...") is left out of that User and logged, never fatal. Reading, a User
attribute that does not validate is left out and named in `person.problems`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

from staffbridge.model.errors import ConfigError, PersonValidationError, ResponseError
from staffbridge.model.person import Address, Person, Ref, load_person

__all__ = [
    "CORE_SCHEMA",
    "ENTERPRISE_SCHEMA",
    "LIST_RESPONSE_SCHEMA",
    "STAFFBRIDGE_SCHEMA",
    "from_scim",
    "person_from_scim",
    "to_scim",
    "to_scim_user",
]

log = logging.getLogger("staffbridge.scim")

CORE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
STAFFBRIDGE_SCHEMA = "urn:staffbridge:params:scim:schemas:extension:person:1.0:User"
LIST_RESPONSE_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
CONTRACTOR, EMPLOYEE = "Contractor", "Employee"
EXTERNAL_TYPES = {"contractor", "external", "freelancer", "consultant", "temp", "vendor"}
_MODELS: dict[str, Any] = {}


def _models() -> dict[str, Any]:
    """The scim2-models classes, imported on first use (the dependency is an optional extra)."""
    if _MODELS:
        return _MODELS
    try:
        from scim2_models import EnterpriseUser, Extension, ListResponse, User
        from scim2_models.urn import URN
    except ImportError:
        raise ConfigError("SCIM needs scim2-models: pip install 'staffbridge[scim]'", setting="scim") from None

    class StaffbridgePerson(Extension):
        __schema__ = URN(STAFFBRIDGE_SCHEMA)
        birthday: str | None = None
        gender: str | None = None
        employment_start: str | None = None
        employment_end: str | None = None
        tags: list[str] | None = None
        custom_fields: dict[str, Any] | None = None
        notes: str | None = None
        address_co: str | None = None
        sources: dict[str, str] | None = None
        status: dict[str, str] | None = None
        conflicts: list[str] | None = None

    full = User[EnterpriseUser | StaffbridgePerson]
    _MODELS.update(
        User=full,
        CoreUser=User[EnterpriseUser],
        ListResponse=ListResponse[full],
        Enterprise=EnterpriseUser,
        Staffbridge=StaffbridgePerson,
    )
    return _MODELS


# ---------------------------------------------------------------------------------------------- writing


# What a unified directory and its people look like from here. Checked by shape, not by class: the
# unification job sits above this layer, so its Directory and UnifiedPerson cannot be imported here.
@runtime_checkable
class UnifiedRecord(Protocol):
    person: Person
    crosswalk: dict[str, str]
    status: dict[str, str]
    conflicts: list[Any]


@runtime_checkable
class UnifiedDirectory(Protocol):
    people: list[Any]

    @property
    def current(self) -> list[Any]: ...

    def __getitem__(self, id: str) -> Any: ...


def to_scim(people: Iterable[Any], extension: bool = True) -> dict[str, Any]:
    """A SCIM ListResponse (as a JSON-ready dict) of `people`: Persons, UnifiedPersons or a Directory
    (whose removed people are left out).

    Every User's `id` and `userName` is unique in the listing, as RFC 7643 requires (userName
    compared without case, as SCIM does): a consumer would merge or refuse the second one. So a
    record unify calls ambiguous (it may be someone else's) never becomes a User, and a person whose
    id or userName an earlier User has is left out; both are logged."""
    directory = people if isinstance(people, UnifiedDirectory) else None
    items = directory.current if directory is not None else list(people)
    users: list[dict[str, Any]] = []
    ids: set[str] = set()
    user_names: set[str] = set()
    for item in items:
        ambiguity = getattr(item, "ambiguity", None)
        if ambiguity is not None:
            log.warning("SCIM: %s left out: ambiguous (%s)", getattr(item, "label", "?"), ambiguity.reason)
            continue
        user = to_scim_user(item, extension=extension, directory=directory)
        user_id, user_name = user.get("id"), str(user.get("userName") or "").casefold()
        if (user_id and user_id in ids) or (user_name and user_name in user_names):
            log.warning("SCIM: user %s left out: an earlier User has its id or userName %r", user_id, user_name)
            continue
        ids.add(str(user_id or ""))
        user_names.add(user_name)
        users.append(user)
    return {
        "schemas": [LIST_RESPONSE_SCHEMA],
        "totalResults": len(users),
        "startIndex": 1,
        "itemsPerPage": len(users),
        "Resources": users,
    }


def to_scim_user(item: Any, extension: bool = True, directory: Any = None) -> dict[str, Any]:
    """One SCIM User (a JSON-ready dict) from a Person or a UnifiedPerson."""
    unified = item if isinstance(item, UnifiedRecord) else None
    person: Person = item.person if unified is not None else item
    data = _core(person)
    enterprise = _drop_empty(
        {
            "employeeNumber": person.employee_number,
            "department": _ref_name(person.department),
            "manager": _manager(person.manager_id, directory),
        }
    )
    if enterprise:
        data[ENTERPRISE_SCHEMA] = enterprise
    if extension:
        own = _drop_empty(
            {
                "birthday": _iso(person.birthday),
                "gender": person.gender,
                "employmentStart": _iso(person.employment_start),
                "employmentEnd": _iso(person.employment_end),
                "tags": list(person.tags) or None,
                "customFields": dict(person.custom_fields) or None,
                "notes": person.notes,
                "addressCo": person.address.co if person.address else None,
                "sources": dict(unified.crosswalk) if unified else None,
                "status": dict(unified.status) if unified else None,
                "conflicts": [c.field for c in unified.conflicts] if unified else None,
            }
        )
        if own:
            data[STAFFBRIDGE_SCHEMA] = own
    data["schemas"] = [CORE_SCHEMA] + [s for s in (ENTERPRISE_SCHEMA, STAFFBRIDGE_SCHEMA) if s in data]
    model = _models()["User"] if extension else _models()["CoreUser"]
    user, dropped = _validated(model, data)
    for problem in dropped:
        log.warning("SCIM user %s: left out %s", person.id, problem)
    return user.model_dump(mode="json")


def _core(person: Person) -> dict[str, Any]:
    name = _drop_empty(
        {
            "givenName": person.first_name,
            "middleName": person.middle_name,
            "familyName": person.last_name,
            "honorificPrefix": person.title,
            "formatted": person.full_name or None,
        }
    )
    phones = [{"value": v, "type": t} for v, t in ((person.work_phone, "work"), (person.mobile_phone, "mobile")) if v]
    meta = _drop_empty(
        {"resourceType": "User", "created": _stamp(person.created_at), "lastModified": _stamp(person.updated_at)}
    )
    return _drop_empty(
        {
            "id": person.id,
            "userName": person.username or person.email or person.id or person.full_name or None,
            "name": name or None,
            "displayName": person.full_name or None,
            "userType": None if person.external is None else (CONTRACTOR if person.external else EMPLOYEE),
            "preferredLanguage": person.language,
            "active": person.active,
            "emails": [{"value": person.email, "type": "work", "primary": True}] if person.email else None,
            "phoneNumbers": phones or None,
            "photos": [{"value": person.avatar_url, "type": "photo"}] if person.avatar_url else None,
            "addresses": [_address(person.address)] if person.address else None,
            "roles": [_role(person.role)] if person.role else None,
            "meta": meta if len(meta) > 1 else None,
        }
    )


def _address(address: Address) -> dict[str, Any]:
    return _drop_empty(
        {
            "type": "home",
            "formatted": address.formatted,
            "streetAddress": address.street,
            "locality": address.city,
            "region": address.state,
            "postalCode": address.zip,
            "country": address.country,
        }
    )


def _role(role: Ref) -> dict[str, Any]:
    return _drop_empty({"value": role.id or role.name, "display": role.name, "primary": True})


def _manager(manager_id: str | None, directory: Any) -> dict[str, Any] | None:
    if not manager_id:
        return None
    manager = directory[manager_id] if directory is not None and manager_id in _ids(directory) else None
    return _drop_empty(
        {"value": manager_id, "displayName": manager.person.full_name or None if manager is not None else None}
    )


def _ids(directory: Any) -> Any:
    return {p.id for p in directory.people}


# ---------------------------------------------------------------------------------------------- reading


def from_scim(data: str | bytes | Mapping[str, Any] | list[Any]) -> list[Person]:
    """Persons from a SCIM ListResponse, a single User, or a list of Users (dicts or JSON text).
    A document that is not SCIM at all is a ResponseError; a bad attribute only costs that attribute."""
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise ResponseError(f"scim: not JSON: {exc}") from None
    if (isinstance(data, Mapping) and "Resources" in data) or (
        isinstance(data, Mapping) and LIST_RESPONSE_SCHEMA in (data.get("schemas") or [])
    ):
        resources = data.get("Resources") or []
    elif isinstance(data, Mapping):
        resources = [data]
    elif isinstance(data, list):
        resources = data
    else:
        raise ResponseError(f"scim: expected a ListResponse or User object, got {type(data).__name__}")
    if not isinstance(resources, list):
        raise ResponseError("scim: Resources must be a list of Users")
    return [person_from_scim(user) for user in resources]


def person_from_scim(user_data: Mapping[str, Any]) -> Person:
    """A Person from one SCIM User (a dict). Unknown or invalid attributes are named in `problems`."""
    if not isinstance(user_data, Mapping):
        raise ResponseError(f"scim: a User must be an object, got {type(user_data).__name__}")
    models = _models()
    schemas = user_data.get("schemas")
    if schemas is not None and CORE_SCHEMA not in (schemas if isinstance(schemas, list) else [schemas]):
        raise ResponseError(f"scim: not a User (schemas {schemas!r})")
    user, problems = _validated(models["User"], {"schemas": [CORE_SCHEMA], **dict(user_data)})
    enterprise = user[models["Enterprise"]]
    own = user[models["Staffbridge"]]
    name = user.name
    emails = user.emails or []
    email = next((e.value for e in emails if e.primary), None) or next((e.value for e in emails if e.value), None)
    phones = {p.type: p.value for p in reversed(user.phone_numbers or []) if p.value}
    photo = next((p.value for p in user.photos or [] if p.value), None)
    values: dict[str, Any] = {
        "id": user.id,
        "system": "scim",
        "first_name": name.given_name if name else None,
        "middle_name": name.middle_name if name else None,
        "last_name": name.family_name if name else None,
        "title": name.honorific_prefix if name else None,
        "email": email,
        "work_phone": phones.get("work"),
        "mobile_phone": phones.get("mobile"),
        "active": user.active,
        "external": _external(user.user_type),
        "language": user.preferred_language,
        "avatar_url": str(photo) if photo else None,
        # userName is required: a person without a username was given their email, id or name
        "username": None if user.user_name in (email, user.id, user.display_name) else user.user_name,
        "address": _read_address(user.addresses, own.address_co if own else None),
        "role": _read_role(user.roles),
        "created_at": user.meta.created if user.meta else None,
        "updated_at": user.meta.last_modified if user.meta else None,
    }
    if email and user.user_name and user.user_name.casefold() == email.casefold():
        values["username"] = None
    if enterprise is not None:
        values.update(
            employee_number=enterprise.employee_number,
            department=Ref(name=enterprise.department) if enterprise.department else None,
            manager_id=enterprise.manager.value if enterprise.manager else None,
        )
    if own is not None:
        values.update(
            birthday=own.birthday,
            gender=own.gender,
            employment_start=own.employment_start,
            employment_end=own.employment_end,
            tags=list(own.tags or []),
            custom_fields=dict(own.custom_fields or {}),
            notes=own.notes,
        )
    return _person(values, problems, user.id)


def _person(values: dict[str, Any], problems: list[str], record: Any) -> Person:
    """A Person from what validates; each invalid field is left out and named in `problems`."""
    values = {k: v for k, v in values.items() if v is not None}
    for _ in range(len(values) + 1):
        try:
            person = load_person(values, record=str(record))
            person.problems = problems
            return person
        except PersonValidationError as exc:
            for name, messages in exc.errors.items():
                values.pop(name, None)
                problems.append(f"{name}: {'; '.join(map(str, messages)) if isinstance(messages, list) else messages}")
    raise ResponseError(f"scim: user {record} cannot be read")  # pragma: no cover - every field was dropped


def _external(user_type: str | None) -> bool | None:
    if not user_type:
        return None
    kind = user_type.strip().casefold()
    if kind == EMPLOYEE.casefold():
        return False
    return True if kind in EXTERNAL_TYPES else None


def _read_address(addresses: Any, co: str | None) -> Address | None:
    if not addresses:
        return None
    found = (
        next((a for a in addresses if a.primary), None)
        or next((a for a in addresses if a.type == "home"), None)
        or addresses[0]
    )
    address = Address(
        street=found.street_address,
        zip=found.postal_code,
        city=found.locality,
        state=found.region,
        country=found.country,
        co=co,
        formatted=found.formatted,
    )
    return address or None


def _read_role(roles: Any) -> Ref | None:
    if not roles:
        return None
    role = next((r for r in roles if r.primary), None) or roles[0]
    if role.display:
        return Ref(id=role.value if role.value and role.value != role.display else None, name=role.display)
    return Ref(id=role.value) if role.value else None


# ---------------------------------------------------------------------------------------------- helpers


def _validated(model: Any, data: dict[str, Any]) -> tuple[Any, list[str]]:
    """`model` validated from `data`; each attribute that does not validate is left out and described."""
    from pydantic import ValidationError

    problems: list[str] = []
    data = json.loads(json.dumps(data, default=str))  # a private copy to cut bad attributes out of
    for _ in range(50):
        try:
            return model.model_validate(data), problems
        except ValidationError as exc:
            paths = sorted({_cut_point(err["loc"]) for err in exc.errors()}, reverse=True)
            for err in exc.errors():
                problems.append(f"{'.'.join(map(str, err['loc']))}: {err['msg']}")
            if not paths or not all(_remove(data, path) for path in paths):
                raise ResponseError(f"scim: not a valid User: {problems[-1] if problems else exc}") from None
    raise ResponseError("scim: not a valid User")  # pragma: no cover


def _cut_point(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Where to cut: the list item holding the error (an email without its value means nothing), else
    the attribute itself."""
    for index, step in enumerate(loc):
        if isinstance(step, int):
            return tuple(loc[: index + 1])
    return tuple(loc)


def _remove(data: Any, path: tuple[Any, ...]) -> bool:
    node = data
    for step in path[:-1]:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return False
    try:
        del node[path[-1]]
    except (KeyError, IndexError, TypeError):
        return False
    return True


def _drop_empty(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None and v != "" and v != [] and v != {}}


def _ref_name(ref: Ref | None) -> str | None:
    return (ref.name or ref.id) if ref else None


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _stamp(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
