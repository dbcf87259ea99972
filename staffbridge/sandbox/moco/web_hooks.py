"""MOCO's web hooks in the sandbox: the subscriptions (`/account/web_hooks`, state) and their signed
deliveries (HTTP), as webhooks.md and sections/web_hooks.md describe them.

- A hook: `{id, target, event, hook, disabled, disabled_at, created_at, updated_at}`; target one of
  MOCO's (User among them), event create/update/delete, hook a URL. Only `hook` can be changed;
  PUT .../disable and .../enable switch it.
- A delivery: POST of the record as `GET` renders it (a deleted one as it was), with `X-Moco-Target`,
  `X-Moco-Event`, `X-Moco-Timestamp` (milliseconds), `X-Moco-Signature` (HMAC-SHA256 of the whole body,
  hex, keyed with the account's 32-hex-character signature key the web hook overview shows:
  `sandbox.web_hooks.signature_key`), `X-Moco-User-Id` and `X-Moco-Account-Url`. Sent from a
  background thread, so the API answer never waits for a receiver; a receiver gets 10 s; each
  delivery's status is kept in `deliveries` (a failed one is not retried here).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import queue
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from staffbridge.sandbox.moco.records import KEY_HOLDER_ID, RecordInvalid, RecordNotFound

__all__ = ["TARGETS", "WebHook", "WebHooks"]

TARGETS = ("Activity", "Company", "Contact", "Project", "Invoice", "Offer", "Deal", "Expense", "User")
EVENTS = ("create", "update", "delete")
RECEIVER_TIMEOUT = 10.0  # seconds MOCO gives a receiver


@dataclass
class WebHook:
    id: int
    target: str
    event: str
    hook: str
    created_at: dt.datetime
    updated_at: dt.datetime
    disabled_at: dt.datetime | None = None

    def render(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "target": self.target,
            "event": self.event,
            "hook": self.hook,
            "disabled": self.disabled_at is not None,
            "disabled_at": _stamp(self.disabled_at),
            "created_at": _stamp(self.created_at),
            "updated_at": _stamp(self.updated_at),
        }


class WebHooks:
    """The account's web hooks and the deliveries they cause."""

    def __init__(self, account_url: str = "https://sandbox.mocoapp.com") -> None:
        self.hooks: dict[int, WebHook] = {}
        self.signature_key = secrets.token_hex(16)  # 32 hex characters, as the overview shows
        self.account_url = account_url
        self.deliveries: list[dict[str, Any]] = []  # {hook, event, status} per delivery, in order
        self._next_id = 1
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[WebHook, bytes, str]] = queue.Queue()
        self._sender = threading.Thread(target=self._send_forever, name="moco-web-hooks", daemon=True)
        self._sender.start()

    # -- subscriptions (the /account/web_hooks resource)
    def create(self, data: dict[str, Any]) -> WebHook:
        errors = []
        if data.get("target") not in TARGETS:
            errors.append(f"target is not included in the list ({', '.join(TARGETS)})")
        if data.get("event") not in EVENTS:
            errors.append(f"event is not included in the list ({', '.join(EVENTS)})")
        if not isinstance(data.get("hook"), str) or not data["hook"].startswith(("https://", "http://")):
            errors.append("hook is not a valid URL")
        if errors:
            raise RecordInvalid(*errors)
        now = _now()
        with self._lock:
            hook = WebHook(self._next_id, data["target"], data["event"], data["hook"], now, now)
            self.hooks[hook.id] = hook
            self._next_id += 1
        return hook

    def get(self, hook_id: int) -> WebHook:
        try:
            return self.hooks[hook_id]
        except KeyError:
            raise RecordNotFound(f"web hook {hook_id} not found") from None

    def update(self, hook_id: int, data: dict[str, Any]) -> WebHook:
        hook = self.get(hook_id)
        if "hook" in data:  # the only field that can change
            if not isinstance(data["hook"], str) or not data["hook"].startswith(("https://", "http://")):
                raise RecordInvalid("hook is not a valid URL")
            hook.hook, hook.updated_at = data["hook"], _now()
        return hook

    def switch(self, hook_id: int, enabled: bool) -> WebHook:
        hook = self.get(hook_id)
        if enabled != (hook.disabled_at is None):
            hook.disabled_at, hook.updated_at = (None if enabled else _now()), _now()
        return hook

    def delete(self, hook_id: int) -> None:
        self.get(hook_id)
        del self.hooks[hook_id]

    # -- deliveries
    def notify(self, target: str, event: str, record: dict[str, Any]) -> None:
        """Queues a signed delivery of `record` to every enabled hook of `target` and `event`."""
        body = json.dumps(record).encode()
        stamp = str(int(time.time() * 1000))
        for hook in list(self.hooks.values()):
            if hook.target == target and hook.event == event and hook.disabled_at is None:
                self._queue.put((hook, body, stamp))

    def sign(self, body: bytes) -> str:
        return hmac.new(self.signature_key.encode(), body, hashlib.sha256).hexdigest()

    def settled(self, timeout: float = 15.0) -> bool:
        """Waits until every queued delivery was sent (tests); False when `timeout` passed first."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self._queue.unfinished_tasks

    def _send_forever(self) -> None:
        while True:
            hook, body, stamp = self._queue.get()
            try:
                self.deliveries.append({"hook": hook.id, "event": hook.event, "status": self._send(hook, body, stamp)})
            finally:
                self._queue.task_done()

    def _send(self, hook: WebHook, body: bytes, stamp: str) -> int:
        request = urllib.request.Request(
            hook.hook,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-Moco-Target": hook.target,
                "X-Moco-Event": hook.event,
                "X-Moco-Timestamp": stamp,
                "X-Moco-Signature": self.sign(body),
                "X-Moco-User-Id": str(KEY_HOLDER_ID),
                "X-Moco-Account-Url": self.account_url,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=RECEIVER_TIMEOUT) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as refused:
            return int(refused.code)
        except OSError:
            return 0  # no answer in time, or nobody listening


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _stamp(moment: dt.datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None
