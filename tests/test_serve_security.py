"""The gateway's doors: a bearer token per system (per tenant in platform mode), and nothing said to anyone
without the right one; no secret in any answer or log line."""

from __future__ import annotations

import logging
import secrets
import time

import pytest
import requests

from staffbridge.faces.serve.app import Gateway
from staffbridge.faces.serve.server import Server
from staffbridge.faces.serve.systems import ConfigSystems
from staffbridge.sdk.config import load_config
from tests.scim_world import sandbox_and_settings, scim_world

ENDPOINTS = [  # every SCIM endpoint, with what a client would send
    ("GET", "/ServiceProviderConfig", None),
    ("GET", "/ResourceTypes", None),
    ("GET", "/ResourceTypes/User", None),
    ("GET", "/Schemas", None),
    ("GET", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", None),
    ("GET", "/Users", None),
    ("GET", '/Users?filter=userName eq "x"', None),
    ("GET", "/Users/{id}", None),
    ("POST", "/Users", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "intruder"}),
    ("PUT", "/Users/{id}", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "intruder"}),
    ("PATCH", "/Users/{id}", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": []}),
    ("DELETE", "/Users/{id}", None),
    ("POST", "/Users/.search", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}),
    ("POST", "/Bulk", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": []}),
    ("GET", "/Me", None),
    ("GET", "/", None),
]

HANG_LIMIT = 180  # seconds: a hang fails the test instead of holding CI


def knock(base: str, headers: dict[str, str], user_id: str) -> list[requests.Response]:
    return [
        requests.request(method, base + path.replace("{id}", user_id), json=body, headers=headers, timeout=10)
        for method, path, body in ENDPOINTS
    ]


def patiently(url: str, headers: dict[str, str]) -> requests.Response:
    """GET, coming back after a 429's Retry-After as an identity provider does."""
    for _ in range(5):
        answer = requests.get(url, headers=headers, timeout=10)
        if answer.status_code != 429:
            assert answer.ok, answer.text
            return answer
        time.sleep(int(answer.headers["Retry-After"]))
    raise AssertionError(f"{url}: still 429")


def assert_nothing_said(answers: list[requests.Response], reference: requests.Response) -> None:
    for answer in answers:
        assert answer.status_code == 401, (answer.request.method, answer.request.url, answer.text)
        assert answer.content == reference.content  # one answer for every kind of wrong
        assert answer.headers["WWW-Authenticate"] == 'Bearer realm="SCIM"'


def test_no_token_a_wrong_one_or_another_systems_gets_the_same_401(tmp_path, monkeypatch, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    other_token = secrets.token_urlsafe(32)
    monkeypatch.setenv("SCIM_TOKEN_FS", other_token)
    fs, fs_settings, fs_secrets = sandbox_and_settings("fieldservice", 1)
    extra = f'[systems.fs]\nadapter = "fieldservice"\nbase_url = "{fs.url}"\napi_key = "{fs_settings["api_key"]}"\n'
    extra += 'scim_token = "${SCIM_TOKEN_FS}"\n'
    try:
        with scim_world("moco", tmp_path, monkeypatch, seed_people=2, extra=extra) as world:
            user_id = world.call("GET", "/Users").json()["Resources"][0]["id"]
            assert requests.get(
                f"{world.server.url}/scim/v2/fs/Users", headers={"Authorization": f"Bearer {other_token}"}
            ).ok
            seen = len(world.sandbox.requests)
            reference = requests.get(world.base + "/Users", timeout=10)
            for headers in (
                {},
                {"Authorization": "Bearer "},
                {"Authorization": f"Bearer {world.token}x"},
                {"Authorization": f"Bearer {other_token}"},  # the fs system's token
                {"Authorization": f"Basic {world.token}"},
                {"Authorization": world.token},
            ):
                assert_nothing_said(knock(world.base, headers, user_id), reference)
            # a system that does not exist, or is not served, answers as a wrong token does
            for base in (f"{world.server.url}/scim/v2/nosuch", f"{world.server.url}/scim/v2/moco2"):
                assert_nothing_said(knock(base, world.headers, user_id), reference)
            assert len(world.sandbox.requests) == seen  # not one request reached the vendor
            assert requests.get(f"{world.server.url}/healthz", timeout=10).json() == {"status": "ok"}
            everything = [world.call("GET", "/Users").text, world.call("GET", f"/Users/{user_id}").text]
        logged = caplog.text
        for secret in [*world.secrets, *fs_secrets, other_token]:
            assert secret not in logged and all(secret not in text for text in everything)
        assert "/scim/v2/moco/Users" in logged  # requests are logged, without query and headers
        assert 'userName eq "x"' not in logged
    finally:
        fs.stop()


def test_a_vendor_refusing_staffbridges_credentials_is_a_502_without_them(tmp_path, monkeypatch, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    with scim_world("moco", tmp_path, monkeypatch, settings={"api_key": "wrong-key-Xq81-planted"}) as world:
        answer = world.call("GET", "/Users")
        assert answer.status_code == 502 and "wrong-key-Xq81-planted" not in answer.text
    assert "wrong-key-Xq81-planted" not in caplog.text


def test_the_config_keeps_only_a_digest_of_each_token(tmp_path, monkeypatch) -> None:
    token = secrets.token_urlsafe(32)
    monkeypatch.setenv("T", token)
    config = tmp_path / "staffbridge.toml"
    config.write_text(
        '[systems.m]\nadapter = "moco"\nbase_url = "http://127.0.0.1:9"\napi_key = "k"\nscim_token = "${T}"\n'
    )
    systems = ConfigSystems(load_config(config), tmp_path / "state.sqlite")
    assert token not in repr(vars(systems)) and token not in repr(systems.served["m"].service)
    assert systems.digests["m"].startswith("sha256:")
    monkeypatch.setenv("T", "short")
    with pytest.raises(Exception, match="at least 16"):
        ConfigSystems(load_config(config), tmp_path / "state.sqlite")


# ------------------------------------------------------------------ platform mode: tenant against tenant


def test_a_token_of_tenant_a_opens_nothing_of_tenant_b(tmp_path, monkeypatch, postgres_schema, redis_url) -> None:
    import redis
    from cryptography.fernet import Fernet

    from staffbridge.faces.serve.platform import TenantSystems
    from staffbridge.faces.serve.webhooks import signature
    from staffbridge.store.tenant_registry import TenantRegistry
    from staffbridge.store.tenants import tenant_from_dict

    registry = TenantRegistry(postgres_schema, keys=Fernet.generate_key().decode())
    worlds, tokens, hooks = {}, {}, {}
    for tenant in ("tenant-a", "tenant-b"):
        sandbox, settings, _ = sandbox_and_settings("moco", 2)
        tokens[tenant], hooks[tenant] = secrets.token_urlsafe(32), secrets.token_hex(16)
        # a window of 1 s: the shared budget starts paused for one window (Redis may have lost the last)
        table = {"adapter": "moco", "base_url": sandbox.url, **settings, "rate_period": 1}
        table |= {"scim_token": tokens[tenant], "webhook_secret": hooks[tenant]}
        registry.add(tenant_from_dict({"id": tenant, "systems": {"moco": table}}))
        worlds[tenant] = sandbox
    stored = registry.get("tenant-a").systems["moco"]
    assert stored["scim_token"].startswith("sha256:") and tokens["tenant-a"] not in repr(stored)
    synced: list[str] = []
    systems = TenantSystems(registry, postgres_schema, redis.Redis.from_url(redis_url), sync=synced.append)
    try:
        with Server(Gateway(systems)) as server:
            a_base, b_base = (f"{server.url}/tenants/{t}/scim/v2/moco" for t in ("tenant-a", "tenant-b"))
            a_headers = {"Authorization": f"Bearer {tokens['tenant-a']}"}
            b_user = patiently(b_base + "/Users", {"Authorization": f"Bearer {tokens['tenant-b']}"})
            b_user_id = b_user.json()["Resources"][0]["id"]
            assert patiently(a_base + "/Users", a_headers).ok
            before = len(worlds["tenant-b"].requests), dict(worlds["tenant-b"].backend.users)
            reference = requests.get(b_base + "/Users", timeout=10)
            assert_nothing_said(knock(b_base, a_headers, b_user_id), reference)
            assert_nothing_said(knock(f"{server.url}/tenants/nosuch/scim/v2/moco", a_headers, b_user_id), reference)
            assert (len(worlds["tenant-b"].requests), dict(worlds["tenant-b"].backend.users)) == before
            # webhooks: a delivery signed with tenant A's key is refused at tenant B's door
            body = b'{"id": 1}'
            headers = {"X-Moco-Signature": signature(hooks["tenant-a"], body), "X-Moco-Target": "User"}
            headers |= {"X-Moco-Event": "update", "X-Moco-Timestamp": "0", "Content-Type": "application/json"}
            refused = requests.post(f"{server.url}/webhooks/moco/tenant-b/moco", data=body, headers=headers)
            assert refused.status_code == 401 and synced == []
    finally:
        for sandbox in worlds.values():
            sandbox.stop()
