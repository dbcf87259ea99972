"""Bearer tokens kept across syncs, per vendor account, so a quiet sync does not log in again.

WhosOff hands out a bearer token after a nonce/SHA-512 handshake; an adapter made for one sync
would shake hands on every sync (one request more than the read itself, and a log-in the vendor
records each time). `TokenCache` keeps the token of each account in Redis between syncs, shared by
every worker, sealed with the tenants' Fernet keys (`STAFFBRIDGE_SECRET_KEYS`): Redis never holds
it in clear, and the key names only the account's hash (see `budget.account_of`).

How an adapter takes and gives tokens, through its public surface only:
- in: the adapter's own `access_token` setting ("the token first, the handshake once it is
  refused"), so a cached token that expired or was revoked costs one refused call and a handshake,
  exactly as a configured ready token would; it is a secret setting, scrubbed like the others;
- out: a `BearerTokenAuth` announces every new secret through `on_new_secret`, the issued token
  last, and counts the tokens it fetched in `handshakes`; the last secret announced before that
  count went up is the token now in use. A handshake begun and not finished leaves none (the
  cached one was refused: it is forgotten).

A token lives in the cache for `ttl` seconds at most (`STAFFBRIDGE_TOKEN_CACHE_SECONDS`, 1800), well
inside the lifetime vendors give such tokens; only adapters whose settings have an `access_token`
take part.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from staffbridge.sdk.adapter import Adapter
from staffbridge.sdk.auth import BearerTokenAuth

__all__ = ["TokenCache", "TokenWatch", "takes_tokens"]

log = logging.getLogger("staffbridge.platform")


def takes_tokens(adapter: Adapter) -> bool:
    """Whether `adapter` holds a bearer token it could be handed at the start (an `access_token` setting)."""
    return isinstance(getattr(adapter, "authenticator", None), BearerTokenAuth) and (
        "access_token" in adapter.Settings().fields
    )


class TokenWatch:
    """Learns the token an adapter's `BearerTokenAuth` was issued during a sync (see the module doc)."""

    def __init__(self, auth: BearerTokenAuth) -> None:
        self.auth = auth
        self.started = auth.handshakes
        self._announce = auth.on_new_secret
        self._last: str | None = None
        self._count_then = auth.handshakes
        auth.on_new_secret = self

    def __call__(self, value: str) -> None:
        self._last, self._count_then = value, self.auth.handshakes
        self._announce(value)

    @property
    def shook_hands(self) -> bool:
        """A handshake was attempted (a nonce went out), whether or not it succeeded."""
        return self._last is not None

    def issued(self) -> str | None:
        """The token fetched last in this sync, if the last handshake succeeded; else None."""
        if self._last is not None and self.auth.handshakes > self._count_then:
            return self._last
        return None


class TokenCache:
    """Tokens per account in Redis, sealed with `cipher()` (a Fernet or MultiFernet, asked for only
    when a token is read or written: a platform whose tenants hold no tokens needs no keys for it)."""

    def __init__(
        self, client: Any, cipher: Callable[[], Any], ttl: float | None = None, prefix: str = "staffbridge:token"
    ) -> None:
        self.client, self._cipher, self.prefix = client, cipher, prefix
        self.ttl = ttl if ttl is not None else float(os.environ.get("STAFFBRIDGE_TOKEN_CACHE_SECONDS", "1800"))

    def get(self, account: str) -> str | None:
        from cryptography.fernet import InvalidToken

        if self.ttl <= 0:
            return None
        sealed = self.client.get(f"{self.prefix}:{account}")
        if not sealed:
            return None
        try:
            return str(self._cipher().decrypt(sealed).decode())
        except InvalidToken:  # sealed with a key since dropped: as if there were none
            return None

    def put(self, account: str, token: str) -> None:
        if self.ttl > 0:
            self.client.set(f"{self.prefix}:{account}", self._cipher().encrypt(token.encode()), px=int(self.ttl * 1000))

    def forget(self, account: str) -> None:
        self.client.delete(f"{self.prefix}:{account}")

    def connect(self, make: Any, account_of: Any) -> tuple[Adapter, str, TokenWatch | None]:
        """`make(**secret_extra)` -> adapter, with the account's cached token when there is one.
        Returns the adapter, its account (named without the token) and the watch to `keep` after."""
        adapter = make()
        account = account_of(adapter)
        if not takes_tokens(adapter):
            return adapter, account, None
        cached = self.get(account)
        if cached:
            adapter.close()
            adapter = make(access_token=cached)
        return adapter, account, TokenWatch(adapter.authenticator)

    def keep(self, account: str, watch: TokenWatch) -> None:
        """After the sync: store the token the adapter was issued, or forget one that was refused."""
        token = watch.issued()
        if token:
            self.put(account, token)
        elif watch.shook_hands:
            self.forget(account)
