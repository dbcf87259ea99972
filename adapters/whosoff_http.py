"""The HTTP side of the WhosOff adapter: bearer token + app-id on every call, the envelope read
into typed errors, a refused token replaced once, and streamed list answers.

`WhosOffHTTP.call()` returns an answer's Data; `WhosOffHTTP.stream()` yields the records of a list
answer as they arrive. The adapter (whosoff.py) builds the user operations on these two.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import requests

from staffbridge.adapters.whosoff_auth import Credentials, HandshakeRefused, TokenManager
from staffbridge.adapters.whosoff_envelope import error_class, iter_records, unwrap
from staffbridge.model.errors import AuthenticationError, NotFound, VendorAPIError, VendorMessage, VendorValidationError
from staffbridge.sdk.auth import HeaderAuth
from staffbridge.sdk.http_adapter import HTTPAdapter, recast
from staffbridge.sdk.shapes import Malformed, parse_json_bytes

log = logging.getLogger("staffbridge.adapters.whosoff")


class _Refused(Exception):
    def __init__(self, messages: list[VendorMessage]):
        self.messages = messages


class WhosOffHTTP(HTTPAdapter):
    """HTTPAdapter plus WhosOff's authentication and envelope. Settings: see whosoff.py."""

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self._local = threading.local()  # per thread: the warnings of the last call

    def make_auth(self) -> TokenManager:
        s = self.settings
        credentials = None
        if s.get("username"):
            credentials = Credentials(
                s["app_id"], s["username"], s["password"], s["client_secret"], s.get("ip_address"), s["secret_encoding"]
            )
        self.tokens = TokenManager(
            self._handshake if credentials else None,
            credentials,
            access_token=s.get("access_token"),
            margin=s["token_margin"],
            fallback_lifetime=s["token_lifetime"],
            on_new_secret=self.transport.add_secret,
            also=HeaderAuth("app-id", setting="app_id"),
        )
        return self.tokens

    @property
    def authenticated_user(self) -> dict[str, Any]:
        """Who the handshake logged in as (user_id, names, user_type_id); {} before it ran."""
        return dict(self.tokens.user)

    def parse_errors(self, response: Any) -> list[VendorMessage]:
        """Messages of a 401/403/404/5xx answer: the envelope's Errors, else the text."""
        try:
            _data, messages = unwrap(parse_json_bytes(response.content))
        except (Malformed, requests.RequestException):
            return super().parse_errors(response)
        return messages or super().parse_errors(response)

    def _path(self, path: str) -> str:
        return path.rstrip("/") + "/" if self.settings["trailing_slash"] else path

    def _handshake(self, body: dict[str, Any]) -> Any:
        """POST the credentials; the answer's Data, or HandshakeRefused."""
        try:
            response = self.transport.request(
                "POST", self._path(self.settings["authenticate_path"]), json_body=body, idempotent=False, ok=(400,)
            )
            data, messages = self._read(response, body)
        except (AuthenticationError, NotFound, VendorValidationError) as exc:
            hint = " (check base_url and authenticate_path)" if isinstance(exc, NotFound) else ""
            raise recast(exc, HandshakeRefused, f"whosoff refused the authentication{hint}") from None
        if messages or response.status_code == 400:
            raise HandshakeRefused(
                "whosoff refused the authentication",
                status=response.status_code,
                request=self.transport.describe_response(response, body),
                messages=self.transport.scrub_messages(messages),
                vendor=self.name,
            )
        return data

    def _read(self, response: Any, sent: Any = None) -> tuple[Any, list[VendorMessage]]:
        raw = self.transport.content(response, sent)
        try:
            return unwrap(parse_json_bytes(raw))
        except Malformed as exc:
            raise self.transport.unreadable(response, str(exc), sent, raw) from None

    def _refusal(self, response: Any, messages: list[VendorMessage], sent: Any, about_id: bool) -> VendorAPIError:
        s = self.settings
        kind = error_class(
            messages, auth_codes=s["auth_codes"], not_found_codes=s["not_found_codes"], about_id=about_id
        )
        text = {AuthenticationError: "whosoff refused the credentials", NotFound: "whosoff: not found"}.get(
            kind, "whosoff rejected the request"
        )
        return kind(
            text,
            status=response.status_code,
            request=self.transport.describe_response(response, sent),
            messages=self.transport.scrub_messages(messages),
            vendor=self.name,
        )

    def _split_warnings(self, messages: list[VendorMessage]) -> list[VendorMessage]:
        """The refusals among `messages`; configured warning codes are logged and remembered."""
        warn = set(self.settings["warning_codes"])
        warnings = self.transport.scrub_messages(m for m in messages if m.code in warn)
        for message in warnings:
            log.warning("whosoff: %s", message)
        self._local.warnings = self.warnings() + [str(m) for m in warnings]
        return [m for m in messages if m.code not in warn]

    def warnings(self) -> list[str]:
        """The warnings (`warning_codes`) of this thread's last call."""
        return list(getattr(self._local, "warnings", []))

    def _send(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        stream: bool = False,
        idempotent: bool | None = None,
        about_id: bool = False,
    ) -> Any:
        response = self.transport.request(
            method, self._path(path), json_body=body, stream=stream, idempotent=idempotent, ok=(400,)
        )
        if response.status_code == 400:
            try:
                _, messages = self._read(response, body)
            finally:
                response.close()
            messages = messages or self.parse_errors(response) or [VendorMessage("request rejected (HTTP 400)")]
            raise self._refusal(response, messages, body, about_id)
        return response

    def _may_retry(self, error: AuthenticationError) -> bool:
        """Whether a new token may help: not after a refused handshake, nor when the user level is too
        low (`permission_codes`: a new token does not raise it)."""
        return not isinstance(error, HandshakeRefused) and not set(error.codes) & set(self.settings["permission_codes"])

    def call(
        self, method: str, path: str, body: Any = None, *, idempotent: bool | None = None, about_id: bool = False
    ) -> Any:
        """One API call: the answer's Data, or the typed error. A refused token is replaced once."""
        self._local.warnings = []
        return self.tokens.with_fresh_token(
            lambda: self._call(method, path, body, idempotent, about_id), self._may_retry
        )

    def _call(self, method: str, path: str, body: Any, idempotent: bool | None, about_id: bool) -> Any:
        response = self._send(method, path, body, idempotent=idempotent, about_id=about_id)
        data, messages = self._read(response, body)
        refusals = self._split_warnings(messages)
        if refusals:
            error = self._refusal(response, refusals, body, about_id)
            error.data = data  # e.g. a create that happened but was answered with errors
            raise error
        return data

    def stream(self, path: str, body: Any) -> Iterator[Any]:
        """The records of a list answer, one at a time (POST; a refused token is replaced once)."""
        for attempt in range(2):
            send = lambda: self._send("POST", path, body, stream=True, idempotent=True)  # noqa: E731
            response = self.tokens.with_fresh_token(send, self._may_retry) if attempt == 0 else send()
            started = False
            try:
                for record in iter_records(self.transport.chunks(response, body), self._on_errors):
                    started = True
                    yield record
                return
            except _Refused as refused:
                error = self._refusal(response, refused.messages, body, about_id=False)
                if (
                    isinstance(error, AuthenticationError)
                    and not started
                    and attempt == 0
                    and self._may_retry(error)
                    and self.tokens.refused(self.tokens.last_sent())
                ):
                    continue
                raise error from None
            except Malformed as exc:
                raise self.transport.unreadable(response, str(exc), body) from None
            finally:
                response.close()

    def _on_errors(self, messages: list[VendorMessage]) -> None:
        refusals = self._split_warnings(messages)
        if refusals:
            raise _Refused(refusals)
