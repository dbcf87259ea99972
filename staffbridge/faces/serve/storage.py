"""scim2-server's storage over an adapter: the SCIM id is the vendor id, every write goes through the
adapter's CRUD with the canonical Person, and what the vendor cannot hold (userName, externalId) is
kept in the store.

- search: everyone (`jobs.sync.read.list_everyone`: deactivated people too), as published Users,
  filtered by the request's filter (scim2-models evaluates it), then paged (startIndex, count) with the
  total. A lookup the vendor can answer itself is asked of it instead of reading everyone: an
  identity provider looks every user up by userName or email before it writes (MOCO's `email` filter),
  and `externalId eq` is answered from the kept values.
- update (PUT and PATCH, after scim2-server applied them): only the system's managed fields that
  differ are sent; a field the system does not publish is never touched. `active` false deactivates.
- delete: a vendor refusing the delete (MOCO, once hours are billed) gets the person deactivated
  instead, and the answer says so (`DeactivatedInstead`, answered 200 with the User).
- errors: a vendor's validation error is a 400 (`invalidValue`, with the vendor's message), a value
  taken a 409 (`uniqueness`), a spent rate budget a 429, a vendor that is down or refuses staffbridge's
  credentials a 502. Vendor messages are scrubbed of secrets by the transport before they get here.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Any

from scim2_models import (
    InvalidValueException,
    NotFoundException,
    NotImplementedException,
    Resource,
    ResourceType,
    ResponseParameters,
    SCIMException,
    SearchRequest,
    UniquenessException,
)
from scim2_models.path import CompareOperator, Comparison
from scim2_server.storage import ScimStorage, SearchPage

from staffbridge.faces.serve.convert import Kept, KeptValues, person_of, resource_of
from staffbridge.faces.serve.limits import BudgetSpent, TooManyRequests
from staffbridge.faces.serve.schema import Published
from staffbridge.jobs.sync.read import everyone_filters, list_everyone
from staffbridge.model.compare import same_value
from staffbridge.model.errors import (
    AuthenticationError,
    DeleteRefused,
    NotFound,
    PersonValidationError,
    RateLimited,
    StaffbridgeError,
    UnsupportedOperation,
    VendorAPIError,
    VendorValidationError,
)
from staffbridge.model.person import Person, Ref
from staffbridge.sdk.adapter import Adapter

__all__ = ["AdapterStorage", "BadGateway", "DeactivatedInstead"]

log = logging.getLogger("staffbridge.serve")

EMAIL_PATHS = {"username", "emails", "emails.value"}  # compared to an email when the vendor filters by it


class BadGateway(SCIMException):
    """The vendor behind the gateway failed (down, or refusing staffbridge's own credentials)."""

    status = 502
    _default_detail = "The vendor behind this gateway did not answer as expected"


class DeactivatedInstead(Exception):
    """The vendor refused the delete; the person was deactivated instead (`resource` shows them)."""

    def __init__(self, resource: Resource[Any], reason: str) -> None:
        super().__init__(reason)
        self.resource, self.reason = resource, reason


class AdapterStorage(ScimStorage):
    """The users of one system (`adapter`), as `published`; `budget_errors` are what a spent rate budget
    raises (BudgetSpent, and in platform mode the shared budget's OutOfBudget)."""

    def __init__(
        self,
        adapter: Adapter,
        system: str,
        published: Published,
        kept: KeptValues,
        department: str | None = None,
        budget_errors: tuple[type[BaseException], ...] = (BudgetSpent,),
    ) -> None:
        self.adapter, self.system, self.published, self.kept = adapter, system, published, kept
        self.department = department
        self.budget_errors = budget_errors
        self._request = threading.local()  # people read during one SCIM operation (a PATCH reads twice)

    # ------------------------------------------------------------------ scim2-server's interface
    @contextlib.contextmanager
    def operation(self) -> Iterator[None]:
        self._request.people = {}
        try:
            with self.vendor_errors():
                yield
        finally:
            self._request.people = {}

    def get(
        self,
        resource_type: ResourceType,
        resource_id: str,
        *,
        response_parameters: ResponseParameters[Any] | None = None,
    ) -> Resource[Any]:
        return self.resource(self.person(resource_id))

    def search(
        self, resource_types: list[ResourceType], search_request: SearchRequest[Any], *, position: Any = None
    ) -> SearchPage:
        scim_filter = search_request.filter
        found = [
            resource
            for resource in (self.resource(person) for person in self.candidates(scim_filter))
            if scim_filter is None or scim_filter.match(resource)
        ]
        start = (search_request.start_index or 1) - 1
        stop = None if search_request.count is None else start + search_request.count
        return SearchPage(len(found), found[start:stop])

    def create(self, resource_type: ResourceType, resource: Resource[Any]) -> Resource[Any]:
        written, kept = person_of(resource, self.system)
        written = _checked(written, self.system)
        self.check_unique(kept, None)
        person = Person(system=self.system, **{field: getattr(written, field) for field in self.published.managed})
        if self.department and not person.department and "department" in self.adapter.capabilities.write_fields:
            person = person.replace(department=Ref(name=self.department))
        created = self.adapter.create(person)
        if created.id in (None, ""):
            raise BadGateway(detail=f"{self.system} answered the create without an id")
        self.kept.put(str(created.id), kept)
        log.info("%s: created user %s", self.system, created.id)
        return self.resource(created)

    def update(
        self, resource_type: ResourceType, resource: Resource[Any], *, expected_version: str | None = None
    ) -> Resource[Any]:
        record = str(resource.id)
        wanted, kept = person_of(resource, self.system)
        wanted = _checked(wanted, self.system)
        self.check_unique(kept, record)
        current = self.person(record)
        required = set(self.adapter.capabilities.required_on_create)
        changes = {
            field: getattr(wanted, field)
            for field in sorted(self.published.managed)
            if not same_value(field, getattr(wanted, field), _comparable(getattr(current, field)))
            # a PUT leaving out what the vendor requires (an identity provider that does not know
            # departments) keeps it rather than being refused
            and not (field in required and getattr(wanted, field) in (None, ""))
        }
        updated = self.adapter.update(record, changes) if changes else current
        self.kept.put(record, kept)
        self._request.people[record] = updated
        log.info("%s: updated user %s (%s)", self.system, record, ", ".join(changes) or "nothing changed")
        return self.resource(updated)

    def delete(self, resource_type: ResourceType, resource_id: str, *, expected_version: str | None = None) -> None:
        try:
            self.adapter.delete(resource_id)
        except DeleteRefused as refused:
            if "active" not in self.published.managed:
                raise
            reason = "; ".join(m.message for m in refused.messages) or str(refused)
            person = self.adapter.update(resource_id, {"active": False})
            log.info("%s: delete of user %s refused (%s); deactivated instead", self.system, resource_id, reason)
            raise DeactivatedInstead(
                self.resource(person), f"{self.system} refused the delete ({reason}); the user was deactivated instead"
            ) from None
        self.kept.forget(resource_id)
        log.info("%s: deleted user %s", self.system, resource_id)

    # ------------------------------------------------------------------ reading
    def person(self, record: str) -> Person:
        people: dict[str, Person] = getattr(self._request, "people", {})
        if record not in people:
            people[record] = self.adapter.get(record)
        return people[record]

    def resource(self, person: Person) -> Resource[Any]:
        return resource_of(person, self.kept.get(str(person.id)), self.published)

    def candidates(self, scim_filter: Any) -> list[Person]:
        """Everyone the filter could match: a superset asked of the vendor or the kept values where one
        equality says enough, else everyone."""
        comparison = _equality(scim_filter)
        if comparison is not None:
            path, value = comparison
            if path == "externalid":
                return self.people_by_id(self.kept.ids_where("external_id", value))
            if (
                path in EMAIL_PATHS
                and "email" in self.adapter.filters
                and "username" not in self.adapter.capabilities.read_fields
            ):
                # the userName is the kept one, else the email: ask for both
                by_email = list(self.adapter.list(**everyone_filters(self.adapter), email=value))
                named = self.people_by_id(self.kept.ids_where("user_name", value)) if path == "username" else []
                return list({str(p.id): p for p in by_email + named}.values())
        self.kept.reload()
        return list(list_everyone(self.adapter))

    def people_by_id(self, records: list[str]) -> list[Person]:
        people = []
        for record in records:
            try:
                people.append(self.person(record))
            except NotFound:  # deleted in the vendor since: forget what we kept
                self.kept.forget(record)
        return people

    def check_unique(self, kept: Kept, record: str | None) -> None:
        """userName is unique (RFC 7643: uniqueness "server"): another user keeping it is a 409."""
        if kept.user_name and any(other != record for other in self.kept.ids_where("user_name", kept.user_name)):
            raise UniquenessException(detail=f"userName {kept.user_name!r} is taken")

    # ------------------------------------------------------------------ errors
    @contextlib.contextmanager
    def vendor_errors(self) -> Iterator[None]:
        """The adapter's errors as SCIM errors (a budget spent in the middle of a write is a 429 too:
        the step refused was not sent, and the identity provider sends the operation again)."""
        try:
            yield
        except self.budget_errors as spent:
            raise TooManyRequests(getattr(spent, "wait", 1.0)) from None
        except RateLimited as limited:
            raise TooManyRequests(limited.retry_after or 1.0) from None
        except NotFound:
            raise NotFoundException(detail=f"no such user in {self.system}") from None
        except PersonValidationError as invalid:
            raise InvalidValueException(detail=f"{self.system}: {invalid}") from None
        except VendorValidationError as refused:
            said = "; ".join(m.message for m in refused.messages) or str(refused)
            if refused.status == 409 or "taken" in said or "already" in said:
                raise UniquenessException(detail=f"{self.system}: {said}") from None
            raise InvalidValueException(detail=f"{self.system} refused the user: {said}") from None
        except DeleteRefused as refused:
            said = "; ".join(m.message for m in refused.messages) or str(refused)
            raise InvalidValueException(detail=f"{self.system} refused the delete: {said}") from None
        except UnsupportedOperation as unsupported:
            raise NotImplementedException(detail=str(unsupported)) from None
        except AuthenticationError:
            raise BadGateway(detail=f"{self.system} refused staffbridge's credentials") from None
        except VendorAPIError as failed:
            raise BadGateway(detail=f"{self.system} answered {failed.status or 'nothing usable'}") from None
        except StaffbridgeError as failed:
            raise BadGateway(detail=f"{self.system}: {type(failed).__name__}") from None


def _checked(person: Person, system: str) -> Person:
    """`person` as written, refused (400) when a value of the User could not be read into it (an email
    or a language code that is not one): a value is never dropped without a word. The User holds
    only published attributes here, so every problem is about one of them."""
    if person.problems:
        raise InvalidValueException(detail=f"{system}: " + "; ".join(person.problems))
    return person


def _equality(scim_filter: Any) -> tuple[str, str] | None:
    """(lower-case attribute path, value) of a filter that is one `eq` of a text, else None."""
    node = getattr(scim_filter, "ast", None)
    if not isinstance(node, Comparison) or node.op != CompareOperator.eq or not isinstance(node.value, str):
        return None
    path = str(node.attr_path).lower()
    path = path.removeprefix("urn:ietf:params:scim:schemas:core:2.0:user:")
    if path.startswith("emails["):
        path = "emails.value" if path.endswith("].value") else path
    return path, node.value


def _comparable(value: Any) -> Any:
    """The current value as a SCIM write would give it: a department by name only."""
    return Ref(name=value.name) if isinstance(value, Ref) and value.name else value
