"""WhosOff v4 authentication: the nonce / SHA-512 handshake that yields a bearer token.

`TokenManager` is the SDK's `BearerTokenAuth` with the handshake as its fetch hook: it authenticates
when it has no token or the one it has is about to expire, and `refused(token)` is how the adapter
says the API turned a token down. The adapter gives a `send(body)` that posts the handshake and
returns the answer's `Data`, so this module is tested with plain data.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from staffbridge.model.errors import AuthenticationError, ResponseError
from staffbridge.sdk.auth import BearerTokenAuth, IssuedToken, parse_expiry

log = logging.getLogger("staffbridge.adapters.whosoff")

SECRET_ENCODINGS = ("hex", "hex_upper", "base64")


class HandshakeRefused(AuthenticationError):
    """The handshake itself failed: wrong credentials, app id, IP, locked or disabled account.

    Never retried automatically: WhosOff locks an account after repeated failed log-ins.
    """


@dataclass(frozen=True)
class Credentials:
    """What the credentials handshake needs. `repr` shows none of the secrets."""

    app_id: str = field(repr=False)
    username: str
    password: str = field(repr=False)
    client_secret: str = field(repr=False)
    ip_address: str | None = None
    secret_encoding: str = "hex"


def new_nonce() -> str:
    """A fresh random nonce (128 bits, hex): WhosOff refuses a nonce it has seen before."""
    return secrets.token_hex(16)


def derive_secret(nonce: str, client_secret: str, encoding: str = "hex") -> str:
    """SHA-512 of nonce + client_secret, as the docs spell it; the encoding is not documented."""
    digest = hashlib.sha512((nonce + client_secret).encode("utf-8")).digest()
    if encoding == "base64":
        return base64.b64encode(digest).decode("ascii")
    if encoding == "hex_upper":
        return digest.hex().upper()
    if encoding == "hex":
        return digest.hex()
    raise ValueError(f"secret_encoding must be one of {', '.join(SECRET_ENCODINGS)}")


def handshake_body(credentials: Credentials, nonce: str) -> dict[str, Any]:
    """The body of POST /v4/authenticate/with-credentials, field for field as the docs show it."""
    return {
        "username": credentials.username,
        "password": credentials.password,
        "ip_address": credentials.ip_address or "",
        "nonce": nonce,
        "secret": derive_secret(nonce, credentials.client_secret, credentials.secret_encoding),
        "app_id": credentials.app_id,
        "delay": False,
    }


def read_token(data: Any) -> IssuedToken:
    """The token from the handshake's Data: `{token: {access_token, token_expiry_date}, user: {...}}`.

    Also accepted: `token` as the bare token string, and the token fields one level up. The
    DateTime format of the expiry is not documented (sdk.auth.parse_expiry reads the plausible ones).
    """
    if isinstance(data, list) and len(data) == 1:  # the docs print Data as an array
        data = data[0]
    if not isinstance(data, dict):
        raise ResponseError(
            f"whosoff: the authenticate answer is not an object (got {type(data).__name__})", vendor="whosoff"
        )
    token = data.get("token")
    if isinstance(token, dict):
        access, expiry = token.get("access_token"), token.get("token_expiry_date")
    elif isinstance(token, str):
        access, expiry = token, data.get("token_expiry_date")
    else:
        access, expiry = data.get("access_token"), data.get("token_expiry_date")
    if not isinstance(access, str) or not access.strip():
        raise ResponseError("whosoff: the authenticate answer holds no access token", vendor="whosoff")
    user = data.get("user")
    expires_at = parse_expiry(expiry)
    if expiry not in (None, "") and expires_at is None:
        log.warning("whosoff: token_expiry_date %r is unreadable; treating the token as short-lived", expiry)
    return IssuedToken(access.strip(), expires_at, dict(user) if isinstance(user, dict) else {})


class TokenManager(BearerTokenAuth):
    """A bearer token from the credentials handshake (a fresh nonce on every attempt: a sent one is
    spent), or a ready `access_token`; without credentials a refused token is final."""

    refused_error = HandshakeRefused
    cannot_refresh = (
        "the access token was refused or has expired, and no username/password/client_secret "
        "are configured to get a new one"
    )

    def __init__(
        self,
        send: Callable[[dict[str, Any]], Any] | None,
        credentials: Credentials | None,
        access_token: str | None = None,
        **options: Any,
    ):
        self._send, self.credentials = send, credentials
        can_shake = send is not None and credentials is not None
        super().__init__(self._handshake if can_shake else None, access_token, vendor="whosoff", **options)

    def _handshake(self) -> IssuedToken:
        assert self.credentials is not None and self._send is not None
        nonce = new_nonce()
        body = handshake_body(self.credentials, nonce)
        self.on_new_secret(nonce)
        self.on_new_secret(body["secret"])
        return read_token(self._send(body))
