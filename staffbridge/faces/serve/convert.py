"""A Person as the published SCIM User and back, through `staffbridge.mapping.scim`; and what the
gateway keeps for the vendor: each user's `userName` and `externalId`.

The User is built by `to_scim_user` and then read into the system's published model, which drops what
the system does not publish (so a response never shows a value a write could not set). Reading a
written User goes through `person_from_scim`; only the system's managed fields are taken from it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any

from scim2_models import Context, Resource

from staffbridge.faces.serve.schema import CONTRACTOR, POLICY, Published
from staffbridge.mapping.scim import person_from_scim, to_scim_user
from staffbridge.model.person import Person
from staffbridge.store.base import Store

__all__ = ["Kept", "KeptValues", "person_of", "resource_of"]

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # meta.created of a vendor record without timestamps


@dataclass(frozen=True)
class Kept:
    """What the identity provider set that the vendor cannot hold."""

    user_name: str | None = None
    external_id: str | None = None


class KeptValues:
    """Kept values of one system's users, in the crosswalk of a store scope (system "scim:<system>:userName"
    and "scim:<system>:externalId", record id -> value), with a copy in memory."""

    def __init__(self, store: Store, system: str) -> None:
        self.store = store
        self._keys = {"user_name": f"scim:{system}:userName", "external_id": f"scim:{system}:externalId"}
        self._lock = threading.Lock()
        self.reload()

    def reload(self) -> None:
        """Reads them again (another process serving the same tenant may have written some)."""
        links = self.store.crosswalk()
        values: dict[str, dict[str, str]] = {}
        for attribute, system in self._keys.items():
            for (linked, record), value in links.items():
                if linked == system:
                    values.setdefault(record, {})[attribute] = value
        with self._lock:
            self._values = {record: Kept(**found) for record, found in values.items()}

    def get(self, record: str) -> Kept:
        with self._lock:
            return self._values.get(record, Kept())

    def ids_where(self, attribute: str, value: str) -> list[str]:
        """Ids of the users whose kept `attribute` ("user_name" or "external_id") is `value`."""
        with self._lock:
            return [record for record, kept in self._values.items() if getattr(kept, attribute) == value]

    def put(self, record: str, kept: Kept) -> None:
        if kept == self.get(record):
            return
        for attribute, system in self._keys.items():
            self.store.link(system, record, getattr(kept, attribute))
        with self._lock:
            self._values[record] = kept

    def forget(self, record: str) -> None:
        self.put(record, Kept())
        with self._lock:
            self._values.pop(record, None)


def resource_of(person: Person, kept: Kept, published: Published) -> Resource[Any]:
    """The published User of `person`, with the kept userName and externalId."""
    data = to_scim_user(person, extension=False)
    if data.get("userType") != CONTRACTOR:  # an employee is one without it: removing it makes one
        data.pop("userType", None)
    if kept.user_name:
        data["userName"] = kept.user_name
    data["externalId"] = kept.external_id
    meta = data.get("meta") or {}
    created = meta.get("created") or _stamp(EPOCH)
    data["meta"] = {
        "resourceType": "User",
        "created": created,
        "lastModified": meta.get("lastModified") or created,
        # a weak version of what is shown: unchanged data, unchanged version
        "version": 'W/"' + hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16] + '"',
    }
    data["id"] = str(person.id)
    return published.model.model_validate(data, scim_ctx=Context.RESOURCE_QUERY_RESPONSE, scim_policy=POLICY)


def person_of(resource: Resource[Any], system: str) -> tuple[Person, Kept]:
    """The Person a written User describes (as if read from `system`: its department names are this
    system's), and the values the gateway keeps."""
    data = resource.model_dump(scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
    data.pop("meta", None)
    person = person_from_scim(data).replace(system=system)
    if person.external is None:  # no userType (or "Employee"): not external staff
        person = person.replace(external=False)
    kept = Kept(user_name=data.get("userName") or None, external_id=data.get("externalId") or None)
    return person, kept


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
