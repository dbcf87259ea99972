"""The WSGI app of `staffbridge serve`: routes, bearer tokens, request logs.

    GET  /healthz                                        200 {"status": "ok"}, no token
    *    /scim/v2/{system}/...                           a system of staffbridge.toml (its scim_token)
    *    /tenants/{tenant}/scim/v2/{system}/...          a tenant's system (platform mode)
    POST /webhooks/moco/{tenant}/{system}                MOCO's signed webhooks (platform mode)

Tokens: every SCIM endpoint (discovery too) needs `Authorization: Bearer <the system's scim_token>`.
Only a digest of each token is held (`sdk.config.token_digest`); the one presented is hashed and
compared with `hmac.compare_digest`. A missing token, a wrong one, another system's or another tenant's,
and a tenant or system that does not exist all get the same 401, so an answer reveals nothing about
what exists. Request logs name the method, the path (never the query: filters hold people's emails),
the status and the time taken; no header, body or token is ever logged.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

from staffbridge.sdk.config import token_digest

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["Gateway", "Systems", "authorised"]

log = logging.getLogger("staffbridge.serve.requests")

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
_NOBODY = token_digest(secrets.token_hex(32))  # compared against when there is no token to compare with


class Systems(Protocol):
    """Where the served systems come from: a staffbridge.toml, or the platform's tenants."""

    def digest(self, tenant: str | None, system: str) -> str | None:
        """The digest of the system's scim_token; None when there is no such (served) system."""

    def application(self, tenant: str | None, system: str) -> WSGIApplication:
        """The SCIM application of an existing, served system."""

    def webhooks(self) -> WSGIApplication | None:
        """The app receiving vendor webhooks at /webhooks/..., if this mode has one."""


def authorised(header: str | None, digest: str | None) -> bool:
    """Whether an Authorization header carries the token whose digest is `digest`, in constant time
    (a system that does not exist costs the same comparison as a wrong token)."""
    scheme, _, token = (header or "").partition(" ")
    presented = token_digest(token.strip()) if scheme.lower() == "bearer" and token.strip() else ""
    matches = hmac.compare_digest(presented.encode(), (digest or _NOBODY).encode())
    return matches and digest is not None


class Gateway:
    """The whole service as one WSGI application."""

    def __init__(self, systems: Systems) -> None:
        self.systems = systems

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "") or "/"
        seen: dict[str, str] = {}

        def recording(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], object]:
            seen["status"] = status.split(" ", 1)[0]
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        try:
            return self.route(environ, recording, method, path)
        finally:
            log.info("%s %s %s %.0f ms", method, path, seen.get("status", "-"), (time.perf_counter() - started) * 1000)

    def route(self, environ: WSGIEnvironment, start_response: StartResponse, method: str, path: str) -> Iterable[bytes]:
        parts = path.split("/")
        if path == "/healthz":
            return answer(start_response, "200 OK", {"status": "ok"}, "application/json")
        if path.startswith("/webhooks/"):
            receiver = self.systems.webhooks()
            if receiver is not None:
                return receiver(environ, start_response)
            return not_found(start_response)
        if parts[1:3] == ["scim", "v2"] and len(parts) >= 4 and parts[3]:
            return self.scim(environ, start_response, None, parts[3], "/".join(parts[:4]), "/".join(parts[4:]))
        if parts[1:2] == ["tenants"] and parts[3:5] == ["scim", "v2"] and len(parts) >= 6 and parts[2] and parts[5]:
            prefix = "/".join(parts[:6])
            return self.scim(environ, start_response, parts[2], parts[5], prefix, "/".join(parts[6:]))
        return not_found(start_response)

    def scim(
        self,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        tenant: str | None,
        system: str,
        prefix: str,
        rest: str,
    ) -> Iterable[bytes]:
        try:
            digest = self.systems.digest(tenant, system)
        except Exception:  # the tenant registry is away: say nothing more than for a wrong token
            log.exception("looking up %s failed", "a tenant" if tenant else "a system")
            digest = None
        if not authorised(environ.get("HTTP_AUTHORIZATION"), digest):
            return unauthorised(start_response)
        try:
            application = self.systems.application(tenant, system)
        except Exception as exc:  # the vendor cannot be reached to describe the system (its departments)
            log.warning("%s: cannot serve it now (%s: %s)", system, type(exc).__name__, exc)
            return answer(
                start_response,
                "502 Bad Gateway",
                scim_error(502, f"{system} cannot be reached"),
                "application/scim+json",
            )
        environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "").rstrip("/") + prefix
        environ["PATH_INFO"] = "/" + rest if rest else ""
        return application(environ, start_response)


def answer(start_response: StartResponse, status: str, body: Any, content_type: str, **headers: str) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(data))), *headers.items()])
    return [data]


def scim_error(status: int, detail: str) -> dict[str, Any]:
    return {"schemas": [ERROR_SCHEMA], "status": str(status), "detail": detail}


def unauthorised(start_response: StartResponse) -> list[bytes]:
    return answer(
        start_response,
        "401 Unauthorized",
        scim_error(401, "A valid bearer token is required"),
        "application/scim+json",
        **{"WWW-Authenticate": 'Bearer realm="SCIM"'},
    )


def not_found(start_response: StartResponse) -> list[bytes]:
    return answer(start_response, "404 Not Found", scim_error(404, "Not found"), "application/scim+json")
