"""MOCO's webhooks (platform mode): `POST /webhooks/moco/{tenant}/{system}`, and subscribing to them.

MOCO signs each delivery: `X-Moco-Signature` is the hex HMAC-SHA256 of the whole body, keyed with the
hook's signature key (the 32 hex characters MOCO's web hook overview shows; the system's
`webhook_secret` setting). A delivery is accepted when:

- its signature matches (compared with `hmac.compare_digest`); a forgery, an unknown tenant or system,
  or one without a webhook_secret all get the same 401;
- its `X-Moco-Timestamp` (milliseconds) is within `max_age` of now (stale: 400), and
- its signature was not seen for the same target and event within twice that time (a replay: 409).
  The signature covers the body only, so the timestamp alone proves nothing; a replay is what it is
  whatever its timestamp says. (A body replayed under another event can only trigger a sync, which
  reads the vendor's truth.)

Then, within MOCO's 10 seconds (nothing here waits for a vendor): a `User` event triggers a sync of the
tenant, debounced (the platform's queue mark: a burst of events is one sync, sent `debounce` seconds
after the first); a `delete` first notes the user's id in Redis (faces.platform.guards.note_deleted),
and the sync that follows removes that person even though its `updated_after` read cannot see a
delete; the id is forgotten once a sync has removed it. The answer is 202. Other targets are
acknowledged (200) and ignored.

`subscribe(adapter, url)` registers the create, update and delete hooks of `User` through MOCO's
`/account/web_hooks` (the ones already there are kept, none is made twice).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

from staffbridge.faces.serve.app import answer
from staffbridge.model.errors import ConfigError
from staffbridge.sdk.adapter import Adapter

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["EVENTS", "MocoWebhooks", "ReplayGuard", "signature", "subscribe"]

log = logging.getLogger("staffbridge.serve.webhooks")

EVENTS = ("create", "update", "delete")
MAX_BODY = 1024 * 1024


class ReplayGuard(Protocol):
    def first_time(self, key: str, ttl: float) -> bool:
        """True when `key` was not seen within `ttl` seconds (now it is)."""


class RedisReplayGuard:
    def __init__(self, client: Any) -> None:
        self.client = client

    def first_time(self, key: str, ttl: float) -> bool:
        return bool(self.client.set(f"staffbridge:webhook:{key}", "1", nx=True, px=int(ttl * 1000)))


def signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class MocoWebhooks:
    """The WSGI app under /webhooks/moco/: `secret_of(tenant, system)` gives the webhook_secret (None:
    no such system, or none set); `on_event(tenant, system, event, record)` acts on an accepted `User`
    event and must return at once."""

    def __init__(
        self,
        secret_of: Callable[[str, str], str | None],
        on_event: Callable[[str, str, str, dict[str, Any]], None],
        replays: ReplayGuard,
        max_age: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.secret_of, self.on_event, self.replays = secret_of, on_event, replays
        self.max_age, self.clock = max_age, clock

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        parts = environ.get("PATH_INFO", "").split("/")  # "", "webhooks", "moco", tenant, system
        if len(parts) != 5 or parts[2] != "moco" or not parts[3] or not parts[4]:
            return answer(start_response, "404 Not Found", {"error": "not found"}, "application/json")
        if environ.get("REQUEST_METHOD") != "POST":
            return answer(
                start_response, "405 Method Not Allowed", {"error": "POST only"}, "application/json", Allow="POST"
            )
        tenant, system = parts[3], parts[4]
        body = _body(environ)
        try:
            secret = self.secret_of(tenant, system)
        except Exception:  # the registry is away: nothing more is said than for a forgery
            log.exception("webhook for a tenant: looking it up failed")
            secret = None
        given = environ.get("HTTP_X_MOCO_SIGNATURE", "").strip().lower()
        expected = signature(secret or "\0no secret", body if body is not None else b"")
        if not hmac.compare_digest(given.encode(), expected.encode()) or not secret or body is None:
            log.warning("webhook for %s/%s refused: signature does not match", tenant, system)
            return answer(start_response, "401 Unauthorized", {"error": "invalid signature"}, "application/json")
        try:
            stamp = int(environ.get("HTTP_X_MOCO_TIMESTAMP", "")) / 1000
        except ValueError:
            stamp = 0.0
        if abs(self.clock() - stamp) > self.max_age:
            log.warning("webhook for %s/%s refused: stale (timestamp outside %.0f s)", tenant, system, self.max_age)
            return answer(start_response, "400 Bad Request", {"error": "stale delivery"}, "application/json")
        target, event = environ.get("HTTP_X_MOCO_TARGET", ""), environ.get("HTTP_X_MOCO_EVENT", "")
        # per event: a delete carries the user as the last update left them, byte for byte
        if not self.replays.first_time(f"{tenant}/{system}/{target}/{event}/{given}", 2 * self.max_age):
            log.warning("webhook for %s/%s refused: replayed", tenant, system)
            return answer(start_response, "409 Conflict", {"error": "delivery seen before"}, "application/json")
        if target != "User" or event not in EVENTS:
            return answer(start_response, "200 OK", {"status": "ignored"}, "application/json")
        try:
            record = json.loads(body)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            return answer(start_response, "400 Bad Request", {"error": "body is not a JSON object"}, "application/json")
        self.on_event(tenant, system, event, record)
        log.info("webhook for %s/%s: User %s of %s", tenant, system, event, record.get("id"))
        return answer(start_response, "202 Accepted", {"status": "accepted"}, "application/json")


def _body(environ: WSGIEnvironment) -> bytes | None:
    """The body, or None when it is larger than any MOCO record (never read past MAX_BODY)."""
    try:
        size = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if size > MAX_BODY:
        return None
    data: bytes = environ["wsgi.input"].read(size) if size else b""
    return data


def subscribe(adapter: Adapter, url: str, target: str = "User") -> list[dict[str, Any]]:
    """Registers `target`'s create, update and delete hooks to `url` in MOCO; returns every hook of
    `url` for `target` (made now or before)."""
    transport = getattr(adapter, "transport", None)
    if adapter.name != "moco" or transport is None:
        raise ConfigError(f"webhooks: {adapter.name} has no web hooks staffbridge can subscribe to", setting="adapter")
    if not url.startswith(("https://", "http://")):
        raise ConfigError("webhooks: --url must be an http(s) URL", setting="url")
    existing = [hook for hook in transport.json(transport.request("GET", "/account/web_hooks")) or []]
    hooks = [hook for hook in existing if hook.get("hook") == url and hook.get("target") == target]
    for event in EVENTS:
        if not any(hook.get("event") == event for hook in hooks):
            made = transport.json(
                transport.request(
                    "POST", "/account/web_hooks", json_body={"target": target, "event": event, "hook": url}
                )
            )
            hooks.append(made)
    return hooks
