"""One system's SCIM application: scim2-server's WSGI application over an `AdapterStorage`.

The router (app.py) has checked the bearer token before a request gets here, and mounts the application
at the system's prefix (`SCRIPT_NAME` = `/scim/v2/moco` or `/tenants/acme/scim/v2/moco`), which is the
SCIM base URL of that system. A spent rate budget answers 429 with `Retry-After`; a delete the vendor
refused answers 200 with the deactivated User and a `Warning` saying so.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from wsgiref.util import application_uri

from scim2_models import Context, Resource, ResourceType
from scim2_server.applications.wsgi import WSGIApplication
from scim2_server.handler import ScimHandler
from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse
from scim2_server.service import ScimService

from staffbridge.faces.serve.convert import KeptValues
from staffbridge.faces.serve.limits import BudgetSpent, TooManyRequests, fail_fast
from staffbridge.faces.serve.schema import publish
from staffbridge.faces.serve.storage import AdapterStorage, DeactivatedInstead
from staffbridge.sdk.adapter import Adapter
from staffbridge.store.base import Store

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

__all__ = ["SystemApplication", "build_application"]

log = logging.getLogger("staffbridge.serve")


class GatewayHandler(ScimHandler):
    def delete(self, request: ScimRequest) -> ScimResponse:
        try:
            return super().delete(request)
        except DeactivatedInstead as instead:
            response = self.service.resource_response(
                self.service.publish(request.base_url, instead.resource), Context.RESOURCE_QUERY_RESPONSE
            )
            response.status = HTTPStatus.OK
            response.headers["Warning"] = f'299 staffbridge "{instead.reason}"'
            return response


class GatewayService(ScimService):
    def read_creation(self, resource_type: ResourceType, body: bytes, content_type: str | None) -> Resource[Any]:
        """A new user without `active` is active (the vendor holds a yes or no for everyone)."""
        data = self.decode_body(body, content_type)
        if isinstance(data, dict) and not any(key.lower() == "active" for key in data):
            body = json.dumps({**data, "active": True}).encode()
        return super().read_creation(resource_type, body, content_type)


class SystemApplication(WSGIApplication):
    """The SCIM service of one system, mounted at its base URL (authenticated before it is called)."""

    def __init__(self, storage: AdapterStorage) -> None:
        provider = storage.published.provider
        super().__init__(storage, provider, GatewayService(provider))
        self.handler = GatewayHandler(self.service, storage)
        self.log = log

    @staticmethod
    def get_base_url(environ: WSGIEnvironment) -> str:
        return application_uri(environ).rstrip("/")

    def needs_auth(self, request: ScimRequest) -> bool:
        return False  # the router checked the token, for every endpoint of the system

    def handle_exception(self, request: ScimRequest, exception: Exception) -> ScimResponse:
        response = super().handle_exception(request, exception)
        if isinstance(exception, TooManyRequests):
            response.headers["Retry-After"] = str(exception.retry_after)
        return response


def build_application(
    adapter: Adapter,
    system: str,
    store: Store,
    department: str | None = None,
    limit: Callable[[Adapter], Any] = fail_fast,
    budget_errors: tuple[type[BaseException], ...] = (BudgetSpent,),
) -> SystemApplication:
    """The SCIM application of `system` (its adapter connected), keeping userName and externalId in
    `store`; `limit(adapter)` puts its requests on a budget that refuses rather than waits."""
    departments = sorted(adapter.lookup_refs("department")) if adapter.has_lookup("department") else []
    limit(adapter)
    storage = AdapterStorage(
        adapter, system, publish(adapter, departments, department), KeptValues(store, system), department, budget_errors
    )
    return SystemApplication(storage)
