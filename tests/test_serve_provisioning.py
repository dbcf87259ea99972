"""The gateway as identity providers drive it: Okta's and Entra ID's documented provisioning sequences
(create, look up by userName, update, deactivate, reactivate), filters and paging, refused deletes,
vendor validation errors and a spent rate budget, checked against the vendor sandbox's own state."""

from __future__ import annotations

import time

import pytest

from tests.scim_world import scim_world

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

HANG_LIMIT = 180  # seconds: a hang fails the test instead of holding CI


def okta_user(email: str, given: str = "Ada", family: str = "Lovelace", active: bool = True) -> dict:
    """What Okta POSTs and PUTs (developer.okta.com, "SCIM 2.0 protocol reference": Create the user)."""
    return {
        "schemas": [CORE],
        "userName": email,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"primary": True, "value": email, "type": "work"}],
        "displayName": f"{given} {family}",
        "locale": "en-US",
        "externalId": "00u1dhhb1fkIGP7RL1d8",
        "groups": [],
        "password": "1mz050nq",
        "active": active,
    }


def moco_user(world, user_id: str):
    return world.sandbox.backend.users[int(user_id)]


def test_okta_sequence(tmp_path, monkeypatch) -> None:
    with scim_world("moco", tmp_path, monkeypatch, extra='scim_department = "Entwicklung"') as world:
        # Okta first asks whether the user exists
        found = world.call("GET", '/Users?filter=userName eq "ada@example.com"&startIndex=1&count=100').json()
        assert found["totalResults"] == 0 and found.get("Resources", []) == []

        created = world.call("POST", "/Users", json=okta_user("ada@example.com"))
        assert created.status_code == 201, created.text
        user = created.json()
        assert created.headers["Location"] == f"{world.base}/Users/{user['id']}"
        assert user["userName"] == "ada@example.com" and user["externalId"] == "00u1dhhb1fkIGP7RL1d8"
        assert "password" not in user
        stored = moco_user(world, user["id"])
        assert (stored.firstname, stored.lastname, stored.email, stored.active) == (
            "Ada",
            "Lovelace",
            "ada@example.com",
            True,
        )
        assert world.sandbox.backend.units[stored.unit_id].name == "Entwicklung"  # the system's scim_department

        found = world.call("GET", '/Users?filter=userName eq "ada@example.com"&startIndex=1&count=100').json()
        assert found["totalResults"] == 1 and found["Resources"][0]["id"] == user["id"]

        # profile update: Okta PUTs the whole user
        updated = world.call("PUT", f"/Users/{user['id']}", json=okta_user("ada@example.com", family="King"))
        assert updated.status_code == 200 and updated.json()["name"]["familyName"] == "King"
        assert moco_user(world, user["id"]).lastname == "King"

        # deactivation and reactivation: PATCH replace of active
        for active in (False, True):
            patch = {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": active}}]}
            answer = world.call("PATCH", f"/Users/{user['id']}", json=patch)
            assert answer.status_code in (200, 204), answer.text
            assert moco_user(world, user["id"]).active is active
            assert world.call("GET", f"/Users/{user['id']}").json()["active"] is active


def test_entra_sequence(tmp_path, monkeypatch) -> None:
    """What Microsoft Entra ID sends ("Tutorial: Develop and plan provisioning for a SCIM endpoint"):
    a lookup by userName, a create with externalId, PATCH with capitalised operations, booleans as
    strings, enterprise-extension paths and `emails[type eq "work"].value`."""
    with scim_world("moco", tmp_path, monkeypatch) as world:
        lookup = world.call("GET", "/Users?filter=userName+eq+%22Test_User_dfeef4c5%40contoso.com%22")
        assert lookup.status_code == 200 and lookup.json()["totalResults"] == 0
        body = {
            "schemas": [CORE, ENTERPRISE],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": "Test_User_dfeef4c5@contoso.com",
            "active": True,
            "emails": [{"primary": True, "type": "work", "value": "Test_User_dfeef4c5@contoso.com"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
            "roles": [],
            ENTERPRISE: {"department": "Entwicklung"},
        }
        created = world.call("POST", "/Users", json=body)
        assert created.status_code == 201, created.text
        user_id = created.json()["id"]

        by_external = world.call("GET", '/Users?filter=externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"').json()
        assert [r["id"] for r in by_external["Resources"]] == [user_id]
        by_name = world.call("GET", '/Users?filter=userName eq "Test_User_dfeef4c5@contoso.com"').json()
        assert [r["id"] for r in by_name["Resources"]] == [user_id]

        patch = {
            "schemas": [PATCH],
            "Operations": [
                {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "updated@contoso.com"},
                {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
                {"op": "Add", "path": f"{ENTERPRISE}:department", "value": "Vertrieb"},
                {"op": "Replace", "path": "active", "value": "False"},
            ],
        }
        answer = world.call("PATCH", f"/Users/{user_id}", json=patch)
        assert answer.status_code in (200, 204), answer.text
        stored = moco_user(world, user_id)
        assert (stored.email, stored.lastname, stored.active) == ("updated@contoso.com", "updatedFamilyName", False)
        assert world.sandbox.backend.units[stored.unit_id].name == "Vertrieb"

        reactivate = {"schemas": [PATCH], "Operations": [{"op": "Replace", "path": "active", "value": "True"}]}
        assert world.call("PATCH", f"/Users/{user_id}", json=reactivate).status_code in (200, 204)
        assert moco_user(world, user_id).active is True
        shown = world.call("GET", f"/Users/{user_id}").json()
        assert shown["emails"] == [{"value": "updated@contoso.com", "type": "work"}]
        assert shown[ENTERPRISE]["department"] == "Vertrieb" and shown["externalId"] == body["externalId"]

        # Entra's discovery calls answer as ListResponses
        for endpoint in ("/Schemas", "/ResourceTypes"):
            listing = world.call("GET", endpoint).json()
            assert "urn:ietf:params:scim:api:messages:2.0:ListResponse" in listing["schemas"]
            assert listing["totalResults"] == len(listing["Resources"]) > 0
        assert world.call("GET", "/ServiceProviderConfig").json()["patch"]["supported"] is True


def test_filters_paging_and_attributes(tmp_path, monkeypatch) -> None:
    with scim_world("moco", tmp_path, monkeypatch, seed_people=7) as world:
        everyone = world.call("GET", "/Users").json()
        assert everyone["totalResults"] == 7
        first = everyone["Resources"][0]
        email = first["emails"][0]["value"]

        by_email = world.call("GET", f'/Users?filter=emails[type eq "work"].value eq "{email}"').json()
        assert [r["id"] for r in by_email["Resources"]] == [first["id"]]
        plain = world.call("GET", f'/Users?filter=emails.value eq "{email}"').json()
        assert [r["id"] for r in plain["Resources"]] == [first["id"]]

        left = [r["id"] for r in everyone["Resources"] if not r["active"]]  # the sample staff has leavers
        world.sandbox.backend.users[int(first["id"])].active = False
        world.sandbox.backend.version += 1
        inactive = world.call("GET", "/Users?filter=active eq false").json()
        assert sorted(r["id"] for r in inactive["Resources"]) == sorted({first["id"], *left})
        active = world.call("GET", "/Users?filter=active eq true").json()
        assert active["totalResults"] == 7 - inactive["totalResults"]

        page = world.call("GET", "/Users?startIndex=3&count=2").json()
        assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == (7, 3, 2)
        assert [r["id"] for r in page["Resources"]] == [r["id"] for r in everyone["Resources"][2:4]]

        slim = world.call("GET", "/Users?attributes=userName&count=1").json()["Resources"][0]
        assert set(slim) <= {"schemas", "id", "userName", "meta"} and "userName" in slim
        lean = world.call("GET", f"/Users/{first['id']}?excludedAttributes=emails,name").json()
        assert "emails" not in lean and "name" not in lean and lean["userName"]


def test_a_refused_delete_deactivates_and_says_so(tmp_path, monkeypatch) -> None:
    with scim_world("moco", tmp_path, monkeypatch, seed_people=2) as world:
        user_id = world.call("GET", "/Users").json()["Resources"][0]["id"]
        world.sandbox.backend.mark_billed(int(user_id))
        answer = world.call("DELETE", f"/Users/{user_id}")
        assert answer.status_code == 200, answer.text
        assert answer.json()["active"] is False
        assert "deactivated instead" in answer.headers["Warning"] and "billed" in answer.headers["Warning"]
        assert moco_user(world, user_id).active is False

        world.sandbox.backend.mark_billed(int(user_id), billed=False)
        assert world.call("DELETE", f"/Users/{user_id}").status_code == 204
        assert int(user_id) not in world.sandbox.backend.users
        assert world.call("GET", f"/Users/{user_id}").status_code == 404


def test_vendor_validation_errors_are_scim_errors_with_the_vendors_message(tmp_path, monkeypatch) -> None:
    with scim_world("whosoff", tmp_path, monkeypatch, seed_people=2) as world:
        user_id = world.call("GET", '/Users?filter=userName eq "admin@example.com"').json()["Resources"][0]["id"]
        too_long = {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "phoneNumbers", "value": [
            {"value": "0" * 80, "type": "work"}]}]}  # fmt: skip
        refused = world.call("PATCH", f"/Users/{user_id}", json=too_long)
        assert refused.status_code == 400
        error = refused.json()
        assert error["scimType"] == "invalidValue" and "work_telephone" in error["detail"]
        not_an_email = {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "emails", "value": [
            {"value": "no-at-sign", "type": "work"}]}]}  # fmt: skip
        refused = world.call("PATCH", f"/Users/{user_id}", json=not_an_email)
        assert refused.status_code == 400 and refused.json()["scimType"] == "invalidValue"
        assert world.call("GET", "/Users/424242424").status_code == 404


@pytest.mark.parametrize("vendor_limited", [False, True], ids=["own budget spent", "vendor answers 429"])
def test_a_spent_budget_answers_429_at_once(tmp_path, monkeypatch, vendor_limited) -> None:
    # the adapter's own limit (2 requests a minute), or the vendor's (which answers 429 with Retry-After)
    settings = {"rate_limit": 1000} if vendor_limited else {"rate_limit": 2, "rate_period": 60}
    options = {"rate_limit": 2, "rate_window": 60.0, "retry_after": True} if vendor_limited else {}
    with scim_world("moco", tmp_path, monkeypatch, seed_people=1, settings=settings, **options) as world:
        statuses, answer, took = [], None, 0.0
        for _ in range(6):
            started = time.perf_counter()
            answer = world.call("GET", "/Users")
            took = time.perf_counter() - started
            statuses.append(answer.status_code)
            if answer.status_code == 429:
                break
        assert statuses[-1] == 429, statuses
        retry_after = int(answer.headers["Retry-After"])
        assert retry_after >= 1 and answer.json()["status"] == "429"
        print(f"\n429 answered in {took * 1000:.1f} ms (Retry-After {retry_after} s)")
        assert took < retry_after  # answered, not held until the budget has room again
