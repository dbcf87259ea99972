"""What one system publishes over SCIM: the User attributes its adapter can really hold, nothing more.

An identity provider (and scim2-tester) reads `/Schemas` and writes what it finds there; a value that
came back different would be a broken promise. So the published User is RFC 7643's, cut down per
system to the attributes whose canonical field the adapter both reads and writes:

    userName                 kept by the gateway (a vendor's own username is a login with its own rules)
    externalId               kept by the gateway (a common attribute, never in a schema)
    name.givenName/familyName/middleName/honorificPrefix   first_name/last_name/middle_name/title
    name.formatted, displayName                            derived from the name: readOnly
    active                   active (readOnly where the vendor only reads it)
    userType                 external: "Contractor" for external staff, absent for employees
    preferredLanguage        language (a code such as "de" or "en-GB")
    emails (value, type "work")                            email: one work address
    phoneNumbers (value, type "work"/"mobile")             work_phone, mobile_phone
    enterprise employeeNumber, department                  employee_number, department

A department the vendor resolves by name (MOCO's units, WhosOff's departments) is published with the
vendor's department names as canonical values: a name the vendor does not know is refused with 400.
A field required on create by the vendor is required here too; the system's `scim_department`
setting stands in for a department the identity provider does not send.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from scim2_models import ResourceType, Schema, ScimPolicy, ScimProvider, ServiceProviderConfig

from staffbridge.sdk.adapter import Adapter

__all__ = ["CORE", "ENTERPRISE", "POLICY", "Published", "publish"]

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

# What identity providers really send: Entra's PATCH `remove` with a value, its `emails[type eq
# "work"].value` on a user without one, and attributes a system does not publish (dropped, not refused).
POLICY = ScimPolicy(
    unknown=ScimPolicy.Unknown.ignore,
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)

NAME_PARTS = {
    "givenName": "first_name",
    "familyName": "last_name",
    "middleName": "middle_name",
    "honorificPrefix": "title",
}
SIMPLE = {"active": "active", "userType": "external", "preferredLanguage": "language"}
ENTERPRISE_FIELDS = {"employeeNumber": "employee_number", "department": "department"}
PHONE_TYPES = {"work": "work_phone", "mobile": "mobile_phone"}
CONTRACTOR = "Contractor"
LANGUAGES = ("de", "de-AT", "de-CH", "en", "en-GB", "en-US", "fr", "it", "es", "nl", "pl")  # suggestions, not a limit


class Published:
    """One system's SCIM description: its provider (schemas, resource type, configuration), and the
    canonical fields a SCIM write manages (every other field of a person is left as it is)."""

    def __init__(self, provider: ScimProvider, managed: frozenset[str]) -> None:
        self.provider = provider
        self.managed = managed
        self.resource_type = provider.resource_types[0]
        self.model: Any = provider.model_for(self.resource_type)


def publish(adapter: Adapter, departments: Iterable[str] = (), default_department: str | None = None) -> Published:
    """The SCIM description of `adapter`'s system; `departments` are the vendor's department names
    when it resolves departments by name (the canonical values of `department`). A department the
    vendor requires is required here too, unless `default_department` stands in for a missing one."""
    from scim2_server.utils import load_default_schemas

    defaults = load_default_schemas()
    capabilities = adapter.capabilities
    both = set(capabilities.read_fields) & set(capabilities.write_fields)
    required = set(capabilities.required_on_create)
    managed: set[str] = set()

    def holds(field: str) -> bool:
        if field in both:
            managed.add(field)
            return True
        return False

    core = defaults[CORE].model_dump(by_alias=True, exclude_none=True)
    by_name = {attribute["name"]: attribute for attribute in core["attributes"]}
    attributes = [by_name["userName"]]
    # the name's parts only: `formatted` is derived, and shown as displayName
    name = _sub(by_name["name"], [(part, holds(field), field in required, {}) for part, field in NAME_PARTS.items()])
    if name is not None:
        name["required"] = bool(required & {"first_name", "last_name"})
        attributes += [name, {**by_name["displayName"], "mutability": "readOnly"}]
    for scim_name, field in SIMPLE.items():
        if holds(field):
            attribute = dict(by_name[scim_name])
            if scim_name == "userType":  # external staff are "Contractor"; without it, "Employee"
                attribute["canonicalValues"] = [CONTRACTOR]
            if scim_name == "preferredLanguage":  # a Person's language is a code ("de", "de-CH")
                attribute["canonicalValues"] = list(LANGUAGES)
            if scim_name == "active":  # a yes/no the vendor always holds: it cannot be removed
                attribute["required"] = True  # (a create without it is active: GatewayService)
            attributes.append(attribute)
        elif field == "active" and field in capabilities.read_fields:
            attributes.append({**by_name["active"], "mutability": "readOnly"})
    if holds("email"):
        needed = "email" in required
        emails = _sub(
            by_name["emails"],
            [("value", True, needed, {}), ("type", True, False, {"canonicalValues": ["work"]})],
        )
        assert emails is not None
        attributes.append({**emails, "required": needed})
    phone_types = [kind for kind, field in PHONE_TYPES.items() if holds(field)]
    if phone_types:
        phones = _sub(
            by_name["phoneNumbers"],
            [("value", True, False, {}), ("type", True, False, {"canonicalValues": phone_types})],
        )
        assert phones is not None
        attributes.append(phones)
    core["attributes"] = attributes

    enterprise = defaults[ENTERPRISE].model_dump(by_alias=True, exclude_none=True)
    kept = []
    for attribute in enterprise["attributes"]:
        canonical = ENTERPRISE_FIELDS.get(attribute["name"])
        if canonical is None or not holds(canonical):
            continue
        if canonical == "department" and adapter.has_lookup("department"):
            attribute = {**attribute, "canonicalValues": sorted(departments)}
        needed = canonical in required and not (canonical == "department" and default_department)
        kept.append({**attribute, "required": needed})
    enterprise["attributes"] = kept

    schemas = [Schema.model_validate(core)]
    extensions = []
    if kept:
        schemas.append(Schema.model_validate(enterprise))
        extensions = [{"schema": ENTERPRISE, "required": any(attribute["required"] for attribute in kept)}]
    resource_type = ResourceType.model_validate(
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": f"People in {adapter.name}",
            "schema": CORE,
            "schemaExtensions": extensions,
        }
    )
    provider = ScimProvider.from_discovery(schemas, [resource_type], config=service_config(), policy=POLICY)
    return Published(provider, frozenset(managed))


def service_config() -> ServiceProviderConfig:
    """PATCH and filters, no bulk, sort, ETags or password change; a bearer token per system."""
    return ServiceProviderConfig.model_validate(
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "documentationUri": "https://github.com/staffbridge/staffbridge#serve",
            "patch": {"supported": True},
            "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": True, "maxResults": 1000},
            "changePassword": {"supported": False},
            "sort": {"supported": False},
            "etag": {"supported": False},
            "authenticationSchemes": [
                {
                    "type": "oauthbearertoken",
                    "name": "OAuth Bearer Token",
                    "description": "A bearer token per system (the scim_token setting)",
                    "specUri": "https://datatracker.ietf.org/doc/html/rfc6750",
                    "primary": True,
                }
            ],
        }
    )


def _find(attribute: dict[str, Any], name: str) -> dict[str, Any]:
    return dict(next(sub for sub in attribute["subAttributes"] if sub["name"] == name))


def _sub(attribute: dict[str, Any], parts: list[tuple[str, bool, bool, dict[str, Any]]]) -> dict[str, Any] | None:
    """`attribute` with only the sub-attributes held (`parts`: name, held, required, what else to set);
    None when none is held."""
    subs = [{**_find(attribute, name), "required": needed, **more} for name, held, needed, more in parts if held]
    if not subs:
        return None
    return {**attribute, "subAttributes": subs}
