"""A SCIM gateway in front of a vendor sandbox, for the serve tests: the sandbox, a staffbridge.toml
naming it with a scim_token, and the gateway served by waitress on a free port."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from staffbridge.faces.serve.app import Gateway
from staffbridge.faces.serve.server import Server
from staffbridge.faces.serve.systems import ConfigSystems
from staffbridge.sandbox.fieldservice import FieldServiceSandbox
from staffbridge.sandbox.moco import MocoSandbox
from staffbridge.sandbox.whosoff import WhosOffSandbox
from staffbridge.sdk.config import load_config

VENDORS = ("moco", "whosoff", "fieldservice")


@dataclass
class World:
    vendor: str
    sandbox: Any
    server: Server
    token: str
    secrets: list[str]

    @property
    def base(self) -> str:
        return f"{self.server.url}/scim/v2/{self.vendor}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        if "json" in kwargs:
            headers.setdefault("Content-Type", "application/scim+json")
        return requests.request(method, self.base + path, headers=headers, timeout=30, **kwargs)


def sandbox_and_settings(
    vendor: str, seed_people: int, **sandbox_options: Any
) -> tuple[Any, dict[str, Any], list[str]]:
    """A started sandbox of `vendor`, the settings of its system, and the secrets they share."""
    if vendor == "moco":
        key = secrets.token_hex(12)
        sandbox = MocoSandbox(seed_people=seed_people, api_key=key, **sandbox_options).start()
        return sandbox, {"api_key": key, "rate_limit": 1000}, [key]
    if vendor == "whosoff":
        app_id, client_secret, password = (secrets.token_hex(12) for _ in range(3))
        sandbox = WhosOffSandbox(
            seed_people=seed_people, app_id=app_id, client_secret=client_secret, password=password, **sandbox_options
        ).start()
        settings = {
            "app_id": app_id,
            "client_secret": client_secret,
            "username": "admin@example.com",
            "password": password,
        }
        return sandbox, settings, [app_id, client_secret, password]
    key = secrets.token_hex(12)
    sandbox = FieldServiceSandbox(seed_people=seed_people, api_key=key, **sandbox_options).start()
    return sandbox, {"api_key": key}, [key]


def write_config(path: Path, vendor: str, base_url: str, settings: dict[str, Any], extra: str = "") -> Path:
    lines = [f"[systems.{vendor}]", f'adapter = "{vendor}"', f'base_url = "{base_url}"']
    lines += [f"{name} = {value!r}".replace("'", '"') for name, value in settings.items()]
    lines += [f'scim_token = "${{SCIM_TOKEN_{vendor.upper()}}}"', extra]
    path.write_text("\n".join(lines) + "\n")
    return path


@contextlib.contextmanager
def scim_world(
    vendor: str,
    tmp_path: Path,
    monkeypatch: Any,
    seed_people: int = 3,
    extra: str = "",
    settings: dict[str, Any] | None = None,
    **sandbox_options: Any,
) -> Iterator[World]:
    """The gateway in front of a fresh sandbox of `vendor`; `settings` laid over the system's, `extra`
    lines added to its table."""
    sandbox, defaults, shared = sandbox_and_settings(vendor, seed_people, **sandbox_options)
    settings = {**defaults, **(settings or {})}
    token = secrets.token_urlsafe(32)
    monkeypatch.setenv(f"SCIM_TOKEN_{vendor.upper()}", token)
    config = write_config(tmp_path / "staffbridge.toml", vendor, sandbox.url, settings, extra)
    try:
        with Server(Gateway(ConfigSystems(load_config(config)))) as server:
            yield World(vendor, sandbox, server, token, [*shared, token])
    finally:
        sandbox.stop()
